import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SecondSample } from '../../../benchmarks/run/run-report.js';
import { createRunProgress, progressLine } from '../../../benchmarks/run/terminal-progress.js';

function fakeStream(isTTY: boolean): { stream: NodeJS.WriteStream; written: string[] } {
  const written: string[] = [];
  const stream = { isTTY, columns: 200, write: (s: string) => written.push(s) > 0 } as unknown as NodeJS.WriteStream;
  return { stream, written };
}

const second = (t: number): SecondSample => ({
  t,
  offered: 20_000,
  sent: 20_000,
  acknowledged: 19_950,
  failed: 0,
  dedup: 19_000,
  count: 15_200,
  persist: 5_000,
  lag: { dedup: 1_000, count: 500, persist: 250_000 },
  redisTotal: 0,
  feedTotal: 0,
});

describe('bench run: terminal progress', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('says elapsed/ETA, the rates, total lag and the p99 so far on one line', () => {
    expect(progressLine(second(15), { p99ToRedisMs: 134.4 }, { durationS: 60, warmupS: 10 })).toBe(
      'run 0:15/1:10 load (ETA 0:55) | offered 20k/s ack 20k/s | dedup 19k count 15k persist 5.0k/s | lag 252k | p99 to Redis 134 ms',
    );
    expect(progressLine(second(5), {}, { durationS: 60, warmupS: 10 })).toContain('warm-up');
    expect(progressLine(second(80), {}, { durationS: 60, warmupS: 10 })).toContain('draining (load done)');
  });

  it('redraws one line in place on a terminal and ends it on stop', () => {
    vi.stubEnv('CI', '');
    const { stream, written } = fakeStream(true);
    const p = createRunProgress({ durationS: 60, warmupS: 10, stream });
    p.update(second(1), {});
    p.update(second(2), { p99ToRedisMs: 3.25 });
    p.stop();
    expect(written).toHaveLength(3);
    expect(written[0].startsWith('\r')).toBe(true);
    expect(written[1]).toContain('p99 to Redis 3.3 ms');
    expect(written[2]).toBe('\n');
  });

  it('prints one line every 10 s when not on a terminal, and nothing when quiet', () => {
    const { stream, written } = fakeStream(false);
    const p = createRunProgress({ durationS: 60, warmupS: 10, stream });
    for (let t = 1; t <= 25; t++) p.update(second(t), {});
    p.stop();
    expect(written.map((l) => l.slice(0, 13))).toEqual(['run 0:01/1:10', 'run 0:11/1:10', 'run 0:21/1:10']);
    const quiet = fakeStream(true);
    const q = createRunProgress({ durationS: 60, warmupS: 10, quiet: true, stream: quiet.stream });
    q.update(second(1), {});
    q.stop();
    expect(quiet.written).toEqual([]);
  });
});
