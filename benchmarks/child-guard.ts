/**
 * No benchmark child outlives its benchmark: every child handed to `killWithParent` is killed
 * (SIGKILL) when this process exits or is interrupted, and forgotten once it exits by itself.
 * One registry for workers, peers and generators, so one signal handler kills them all; and their
 * output read line by line.
 */
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

const live = new Set<ChildProcess>();
let guarded = false;

function guard(): void {
  if (guarded) return;
  guarded = true;
  const killAll = (): void => {
    for (const child of live) child.kill('SIGKILL');
    live.clear();
  };
  process.once('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killAll();
      process.exit(130);
    });
  }
}

export function killWithParent(child: ChildProcess): void {
  guard();
  live.add(child);
  child.once('exit', () => live.delete(child));
}

/** Every non-empty line a child writes to one of its pipes. */
export function eachLine(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
    if (line.length > 0) onLine(line);
  });
}
