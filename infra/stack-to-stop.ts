import type { ServiceName, ServiceUpResult } from './stack.js';

/**
 * The services a command that brought the stack up must stop when it ends: only those it started
 * itself. One that was already running (ours from an earlier `stack up`, or someone else's) or
 * given by configuration belongs to whoever started it; `keepStack` keeps even ours running.
 * `up` may be partial: a command interrupted while the stack comes up knows only what it launched.
 */
export function stackToStop(up: Partial<Record<ServiceName, Pick<ServiceUpResult, 'action'>>>, keepStack: boolean): ServiceName[] {
  if (keepStack) return [];
  return (Object.keys(up) as ServiceName[]).filter((name) => up[name]?.action === 'started');
}
