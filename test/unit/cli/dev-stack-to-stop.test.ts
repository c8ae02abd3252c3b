import { describe, expect, it } from 'vitest';
import { stackToStop } from '../../../infra/stack-to-stop.js';

describe("dev's choice of stack services to stop on exit", () => {
  it('stops only the services it started itself', () => {
    expect(stackToStop({ kafka: { action: 'started' }, redis: { action: 'reused' }, dynamodb: { action: 'external' } }, false)).toEqual(['kafka']);
    expect(stackToStop({ kafka: { action: 'started' }, redis: { action: 'started' }, dynamodb: { action: 'started' } }, false)).toEqual(['kafka', 'redis', 'dynamodb']);
  });

  it('leaves a stack that was already running alone', () => {
    expect(stackToStop({ kafka: { action: 'reused' }, redis: { action: 'reused' }, dynamodb: { action: 'reused' } }, false)).toEqual([]);
  });

  it('keeps even what it started with --keep-stack', () => {
    expect(stackToStop({ kafka: { action: 'started' }, redis: { action: 'started' }, dynamodb: { action: 'started' } }, true)).toEqual([]);
  });

  it('interrupted while the stack comes up, stops what it has launched so far', () => {
    expect(stackToStop({ redis: { action: 'started' } }, false)).toEqual(['redis']);
    expect(stackToStop({}, false)).toEqual([]);
  });
});
