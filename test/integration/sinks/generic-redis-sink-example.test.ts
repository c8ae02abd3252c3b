/**
 * The README's non-voting example of the generic Redis sink (page-view counters), run as written
 * against the real Redis: counts, fences, watermark, the published message, replays that change
 * nothing, and lost state refused. It keeps the README honest and shows the sink knows no votes.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SinkStateLostError } from '../../../runtime/errors.js';
import type { RedisCountSink } from '../../../sinks/redis-count-sink.js';
import type { SinkRecord } from '../../../sinks/sink.js';
import { waitUntil } from '../../support/poll.js';
import { services, uniquePrefix } from '../../support/services.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const SECTION = '## Exactly-once sinks for your own records';

interface PageView {
  site: string;
  page: string;
  country?: string;
}
type PageViewSinkFactory = (redis: string, prefix?: string) => RedisCountSink<string, PageView>;

/** The first TypeScript block of the README's sinks section, importing the package's entry point. */
function readmeExample(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.indexOf(SECTION);
  expect(section, `README section "${SECTION}"`).toBeGreaterThanOrEqual(0);
  const block = /```ts\n([\s\S]*?)```/.exec(readme.slice(section));
  expect(block, 'a ```ts block in that section').not.toBeNull();
  return block![1];
}

function view(offset: number, site: string, page: string, country?: string): SinkRecord<string, PageView> {
  return { topic: 'page-views', partition: 0, offset, timestamp: 0, key: site, value: { site, page, ...(country === undefined ? {} : { country }) }, headers: {} };
}

describe('README: generic Redis sink example (page-view counters) against real Redis', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vs-readme-sinks-'));
  const prefix = uniquePrefix('pv');
  let redis: Redis;
  let pageViewSink: PageViewSinkFactory;

  beforeAll(async () => {
    const code = readmeExample();
    const packageImport = /^import \{([^}]*)\} from 'votestream';$/m;
    expect(code).toMatch(packageImport);
    const file = join(dir, 'example.ts');
    writeFileSync(file, code.replace(packageImport, `import {$1} from ${JSON.stringify(pathToFileURL(join(root, 'index.ts')).href)};`));
    const mod = (await import(/* @vite-ignore */ pathToFileURL(file).href)) as { pageViewSink: PageViewSinkFactory };
    pageViewSink = mod.pageViewSink;
    redis = new Redis(services().redis);
  });

  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  it('counts exactly once, publishes what it applied, skips replays and refuses lost state', async () => {
    const sub = new Redis(services().redis);
    const messages: unknown[] = [];
    sub.on('message', (_channel: string, message: string) => messages.push(JSON.parse(message)));
    await sub.subscribe(`${prefix}pv:{s1}:updates`);
    const sink = pageViewSink(services().redis, prefix);
    try {
      expect(await sink.open({ taskId: 'page-views-0', partition: 0 })).toEqual({ appliedThrough: null });
      const batch = [view(0, 's1', '/a'), view(1, 's1', '/b', 'BR'), view(2, 's2', '/c'), view(3, 's1', '/a')];
      expect(await sink.writeBatch(batch)).toEqual({ applied: 4, fenced: 0, retries: 0 });

      expect(await redis.hgetall(`${prefix}pv:{s1}:pages`)).toEqual({ '/a': '2', '/b': '1', _total: '3' });
      expect(await redis.hgetall(`${prefix}pv:{s1}:countries`)).toEqual({ BR: '1' });
      expect(await redis.hgetall(`${prefix}pv:{s1}:fences`)).toEqual({ '0': '3' });
      expect(await redis.hgetall(`${prefix}pv:{s2}:pages`)).toEqual({ '/c': '1', _total: '1' });
      expect(await redis.hgetall(`${prefix}pv:{s2}:countries`)).toEqual({});
      expect(await redis.hgetall(`${prefix}pv:watermarks`)).toEqual({ '0': '3' });
      await waitUntil(() => messages.length === 1, 'the update message of s1');
      expect(messages[0]).toEqual({ site: 's1', total: 3, views: 3, offsets: { '0': 3 }, pages: { '/a': 2, '/b': 1 } });

      // A replay cut differently, overlapping new records: only the new one counts.
      expect(await sink.writeBatch([...batch.slice(1), view(4, 's1', '/b')])).toEqual({ applied: 1, fenced: 3, retries: 0 });
      expect(await redis.hgetall(`${prefix}pv:{s1}:pages`)).toEqual({ '/a': '2', '/b': '2', _total: '4' });
      await waitUntil(() => messages.length === 2, 'the second update message of s1');
      expect(messages[1]).toEqual({ site: 's1', total: 4, views: 1, offsets: { '0': 4 }, pages: { '/b': 1 } });

      // Redis loses the partition's state (a FLUSHALL of these keys): nothing is applied, the sink says so.
      await redis.del(`${prefix}pv:watermarks`, `${prefix}pv:{s1}:pages`, `${prefix}pv:{s1}:fences`);
      await expect(sink.writeBatch([view(5, 's1', '/a')])).rejects.toBeInstanceOf(SinkStateLostError);
      expect(await redis.exists(`${prefix}pv:{s1}:pages`)).toBe(0);
    } finally {
      await sink.close();
      sub.disconnect();
    }
    // A new owner learns what Redis really holds and replays from there.
    const reopened = pageViewSink(services().redis, prefix);
    try {
      expect(await reopened.open({ taskId: 'page-views-0', partition: 0 })).toEqual({ appliedThrough: null });
    } finally {
      await reopened.close();
    }
  });
});
