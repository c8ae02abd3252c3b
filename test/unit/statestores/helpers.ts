import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KeyValue } from '../../../statestores/key-value-store.js';

/** Temporary directories under os.tmpdir(), removed by cleanup(). */
export class TempDirs {
  private readonly dirs: string[] = [];

  async make(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'votestream-statestores-'));
    this.dirs.push(dir);
    return dir;
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  }
}

export async function collect<V>(entries: AsyncIterable<KeyValue<V>>): Promise<KeyValue<V>[]> {
  const out: KeyValue<V>[] = [];
  for await (const entry of entries) out.push(entry);
  return out;
}

export async function keysOf<V>(entries: AsyncIterable<KeyValue<V>>): Promise<string[]> {
  return (await collect(entries)).map((entry) => entry.key);
}
