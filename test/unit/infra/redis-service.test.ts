/**
 * DESIGN section 5: the stack's Redis keeps an AOF, fsync every second, unless told not to. Without
 * it a restart empties the counts (issue 8, fault 2); the count sink now detects that, but only at
 * the cost of replaying every partition from its beginning.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { redisService } from '../../../infra/redis-service.js';
import { stackConfig } from '../../../infra/stack-config.js';

async function argsOf(dataDir: string): Promise<Record<string, string>> {
  const { args } = await redisService(stackConfig({ dataDir })).prepare();
  const pairs: Record<string, string> = {};
  for (let i = 0; i + 1 < args.length; i += 2) pairs[args[i]] = args[i + 1];
  return pairs;
}

describe('the stack Redis', () => {
  const dirs: string[] = [];
  const aof = process.env.VOTESTREAM_REDIS_AOF;
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
    if (aof === undefined) delete process.env.VOTESTREAM_REDIS_AOF;
    else process.env.VOTESTREAM_REDIS_AOF = aof;
  });

  it('keeps an append-only file synced every second, in its data directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vs-redis-svc-'));
    dirs.push(dir);
    delete process.env.VOTESTREAM_REDIS_AOF;
    expect(await argsOf(dir)).toMatchObject({ '--appendonly': 'yes', '--appendfsync': 'everysec', '--dir': join(dir, 'redis'), '--save': '' });
  });

  it('keeps nothing on disk when VOTESTREAM_REDIS_AOF=no', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vs-redis-svc-'));
    dirs.push(dir);
    process.env.VOTESTREAM_REDIS_AOF = 'no';
    const args = await argsOf(dir);
    expect(args['--appendonly']).toBe('no');
    expect(args['--appendfsync']).toBeUndefined();
  });
});
