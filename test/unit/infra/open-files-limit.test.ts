import { describe, expect, it } from 'vitest';
import { connectionCapFor, openFilesLimit, RESERVED_DESCRIPTORS } from '../../../infra/open-files-limit.js';

describe('connectionCapFor', () => {
  it('keeps what was asked when the descriptors allow it', () => {
    expect(connectionCapFor(20_000, { soft: 65_536, hard: 65_536 })).toBe(20_000);
    expect(connectionCapFor(20_000, undefined)).toBe(20_000);
    expect(connectionCapFor(20_000, { soft: Number.POSITIVE_INFINITY, hard: Number.POSITIVE_INFINITY })).toBe(20_000);
  });

  it('lowers it to the soft limit less the reserve, never below one', () => {
    expect(connectionCapFor(20_000, { soft: 20_000, hard: 20_000 })).toBe(20_000 - RESERVED_DESCRIPTORS);
    expect(connectionCapFor(20_000, { soft: 1_024, hard: 4_096 })).toBe(1_024 - RESERVED_DESCRIPTORS);
    expect(connectionCapFor(20_000, { soft: 100, hard: 100 })).toBe(1);
  });

  it('reads this process\'s limit on Linux', () => {
    const limit = openFilesLimit();
    expect(limit).toBeDefined();
    expect(limit!.soft).toBeGreaterThan(0);
    expect(limit!.hard).toBeGreaterThanOrEqual(limit!.soft);
  });
});
