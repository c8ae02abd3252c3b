/**
 * Fuzzes the judging rule (DESIGN section 3) against a model written from the design alone:
 * - a vote with timestamp T is judged against the version of its election with the greatest
 *   effectiveAt <= T (the later version on a tie), by the rules in voting/decide.ts's order;
 * - its record key must be its voterId, and its ts not ahead of its record by more than
 *   MAX_VOTE_AHEAD_MS, or it is `malformed`;
 * - one vote per voter per election: the first eligible vote is accepted, every later eligible one
 *   is a `duplicate`, and a rejected vote never uses up the voter's turn;
 * - nothing is changed retroactively: folding a new version into a history never changes the
 *   version in force before its effectiveAt, and replaying `elections` changes nothing;
 * - determinism: the same `votes` and `elections` in the same order give the same outputs, byte for byte.
 * The seed is fixed (fuzz-config.ts) and printed on failure.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TopologyTestDriver } from '../../../../runtime/topology-test-driver.js';
import { Serdes } from '../../../../topology/serdes/serdes.js';
import { decideVote } from '../../../../voting/decide.js';
import { ElectionVersionError, mergeElectionVersion, versionAt, type Election, type ElectionHistory } from '../../../../voting/election.js';
import { MAX_VOTE_AHEAD_MS, votingTopology } from '../../../../voting/topology.js';
import type { RejectReason, Vote } from '../../../../voting/vote.js';
import { fuzzRuns } from './fuzz-config.js';

// Small pools, so that voters repeat, candidates come and go, and windows and versions collide.
const ELECTIONS = ['e1', 'e2'] as const;
const CANDIDATES = ['c1', 'c2', 'c3', 'c4'] as const;
const REGIONS = ['N', 'S', 'W'] as const;
const VOTERS = ['u1', 'u2', 'u3', 'u4', 'u5'] as const;

/** One election's versions, in order: versions growing (gaps allowed), effectiveAt never decreasing. */
function historyArb(electionId: string): fc.Arbitrary<Election[]> {
  const versionArb = fc.record({
    versionStep: fc.integer({ min: 1, max: 2 }),
    effectiveStep: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 800 })),
    candidates: fc.subarray([...CANDIDATES], { minLength: 1 }),
    regions: fc.subarray([...REGIONS]),
    window: fc.tuple(fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 0, max: 3000 })).filter(([a, b]) => a !== b),
  });
  return fc.tuple(fc.integer({ min: 0, max: 1500 }), fc.array(versionArb, { minLength: 1, maxLength: 4 })).map(([start, steps]) => {
    let version = 0;
    let effectiveAt = start;
    return steps.map((s, i) => {
      version += i === 0 ? 1 : s.versionStep;
      effectiveAt += i === 0 ? 0 : s.effectiveStep;
      return {
        electionId,
        version,
        effectiveAt,
        title: `${electionId} v${version}`,
        candidates: s.candidates.map((id) => ({ id, name: id.toUpperCase() })),
        regions: s.regions,
        opensAt: Math.min(...s.window),
        closesAt: Math.max(...s.window),
      };
    });
  });
}

const historiesArb = fc.record({ e1: historyArb('e1'), e2: fc.option(historyArb('e2'), { nil: undefined }) });
type Histories = { e1: Election[]; e2: Election[] | undefined };

const voteFieldsArb = fc.record(
  {
    electionId: fc.constantFrom(...ELECTIONS, 'e9'),
    voterId: fc.constantFrom(...VOTERS),
    candidateId: fc.constantFrom(...CANDIDATES, 'c9'),
    region: fc.constantFrom(...REGIONS, 'X'),
    ts: fc.integer({ min: 0, max: 3600 }),
  },
  { requiredKeys: ['electionId', 'voterId', 'candidateId', 'ts'] },
);

/** The version in force at ts, read straight from DESIGN: the greatest effectiveAt <= ts, the later on a tie. */
function modelVersion(history: readonly Election[] | undefined, ts: number): Election | undefined {
  let found: Election | undefined;
  for (const v of history ?? []) if (v.effectiveAt <= ts && (found === undefined || v.effectiveAt >= found.effectiveAt)) found = v;
  return found;
}

/** DESIGN's judging rules for a schema-valid vote and the version in force. */
function modelDecision(vote: Omit<Vote, 'voteId'>, version: Election | undefined): RejectReason | undefined {
  if (version === undefined) return 'unknown-election';
  if (!version.candidates.some((c) => c.id === vote.candidateId)) return 'unknown-candidate';
  if (vote.region !== undefined && version.regions.length > 0 && !version.regions.includes(vote.region)) return 'malformed';
  if (vote.ts < version.opensAt || vote.ts > version.closesAt) return 'closed';
  return undefined;
}

const historyOf = (h: Histories, electionId: string): Election[] | undefined => (electionId === 'e1' ? h.e1 : electionId === 'e2' ? h.e2 : undefined);

describe('the judging rule under fuzzing', () => {
  it('decideVote(versionAt(ts)) gives the reason DESIGN gives, for every vote and history', () => {
    fc.assert(
      fc.property(historiesArb, voteFieldsArb, (h, fields) => {
        const vote: Vote = { voteId: '00000000-0000-4000-8000-000000000000', ...fields };
        const history = historyOf(h, vote.electionId);
        expect(versionAt(history, vote.ts)).toBe(modelVersion(history, vote.ts));
        expect(decideVote(vote, versionAt(history, vote.ts))).toBe(modelDecision(vote, modelVersion(history, vote.ts)));
        // A version of another election never judges the vote.
        const other = historyOf(h, vote.electionId === 'e1' ? 'e2' : 'e1');
        if (other !== undefined) expect(decideVote(vote, other[0])).toBe('unknown-election');
      }),
      fuzzRuns(10_000),
    );
  });
});

describe('folding election versions under fuzzing', () => {
  /** An `elections` record: a version of a history, possibly tampered with, under its key or another. */
  const recordArb = (h: Histories) =>
    fc
      .tuple(
        fc.constantFrom(...h.e1, ...(h.e2 ?? [])),
        fc.constantFrom('as-is', 'as-is', 'as-is', 'retitled', 'earlier', 'renumbered', 'wrong-key'),
        fc.integer({ min: 1, max: 900 }),
      )
      .map(([v, how, n]): [string, Election] => {
        if (how === 'retitled') return [v.electionId, { ...v, title: `${v.title}!` }];
        if (how === 'earlier') return [v.electionId, { ...v, version: v.version + n, effectiveAt: Math.max(0, v.effectiveAt - n) }];
        if (how === 'renumbered') return [v.electionId, { ...v, version: v.version + n }];
        if (how === 'wrong-key') return [v.electionId === 'e1' ? 'e2' : 'e1', v];
        return [v.electionId, v];
      });

  /** What the global table does: fold each record, skipping the ones that cannot be part of the history. */
  function fold(records: readonly [string, Election][]): { tables: Map<string, ElectionHistory>; steps: [ElectionHistory | undefined, ElectionHistory][] } {
    const tables = new Map<string, ElectionHistory>();
    const steps: [ElectionHistory | undefined, ElectionHistory][] = [];
    for (const [key, election] of records) {
      const before = tables.get(key);
      try {
        const after = mergeElectionVersion(before, election, key);
        tables.set(key, after);
        steps.push([before, after]);
      } catch (err) {
        expect(err).toBeInstanceOf(ElectionVersionError);
      }
    }
    return { tables, steps };
  }

  it('keeps every history ordered, never changes the past, and ignores a replay', () => {
    fc.assert(
      fc.property(
        historiesArb.chain((h) => fc.array(recordArb(h), { maxLength: 12 })),
        fc.array(fc.integer({ min: 0, max: 4000 }), { minLength: 1, maxLength: 8 }),
        (records, probes) => {
          const { tables, steps } = fold(records);
          for (const [key, history] of tables) {
            for (const v of history) expect(v.electionId).toBe(key);
            for (let i = 1; i < history.length; i++) {
              expect(history[i].version).toBeGreaterThan(history[i - 1].version);
              expect(history[i].effectiveAt).toBeGreaterThanOrEqual(history[i - 1].effectiveAt);
            }
          }
          // A step appends at most one version, and only instants from its effectiveAt on see it.
          for (const [before, after] of steps) {
            const added = after.length - (before?.length ?? 0);
            expect(added === 0 || added === 1).toBe(true);
            if (added === 0) {
              expect(after).toBe(before);
              continue;
            }
            const from = after.at(-1)!.effectiveAt;
            for (const ts of probes) if (ts < from) expect(versionAt(after, ts)).toBe(versionAt(before, ts));
          }
          // Replaying the whole topic after it (a restart reads `elections` from the start, again).
          const replayed = fold([...records, ...records]).tables;
          expect([...replayed.entries()]).toEqual([...tables.entries()]);
        },
      ),
      fuzzRuns(2000),
    );
  }, 20_000);
});

describe('the dedup topology under fuzzing (TopologyTestDriver)', () => {
  const APPENDED_AT = 10_000;

  /** A `votes` record: a valid vote (most of them), a wrong or null key, a vote ahead of its record, or garbage. */
  const voteRecordArb = fc.oneof(
    {
      weight: 10,
      arbitrary: fc
        .tuple(voteFieldsArb, fc.constantFrom('own', 'own', 'own', 'own', 'other', 'null'), fc.oneof(fc.constant(0), fc.integer({ min: -MAX_VOTE_AHEAD_MS - 50, max: 3000 })))
        .map(([fields, keyKind, lag]) => ({ kind: 'vote' as const, fields, key: keyKind === 'own' ? fields.voterId : keyKind === 'null' ? null : `x${fields.voterId}`, recordTs: Math.max(0, fields.ts + lag) })),
    },
    { weight: 1, arbitrary: fc.constantFrom('{not json', '[]', '{"voteId":1}', '{"__proto__":{"voterId":"u1"}}').map((text) => ({ kind: 'raw' as const, text })) },
  );
  type VoteRecord = typeof voteRecordArb extends fc.Arbitrary<infer T> ? T : never;

  async function run(h: Histories, records: readonly VoteRecord[]) {
    const driver = new TopologyTestDriver(votingTopology({ roles: ['dedup'] }), { partitions: 1, startWallClockMs: APPENDED_AT });
    try {
      const elections = driver.createInputTopic('elections', Serdes.string(), Serdes.json<Election>());
      for (const v of [...h.e1, ...(h.e2 ?? [])]) await elections.pipeInput(v.electionId, v, 0);
      const votes = driver.createInputTopic('votes', Serdes.nullable(Serdes.string()), Serdes.bytes());
      for (const [i, r] of records.entries()) {
        if (r.kind === 'raw') await votes.pipeInput('u1', Buffer.from(r.text), APPENDED_AT);
        else await votes.pipeInput(r.key, Buffer.from(JSON.stringify({ voteId: voteIdOf(i), ...r.fields })), r.recordTs);
      }
      const read = (topic: string) =>
        driver
          .createOutputTopic(topic, Serdes.nullable(Serdes.string()), Serdes.bytes())
          .readRecordsToList()
          .map((r) => ({ key: r.key, value: r.value.toString('utf8'), timestamp: r.timestamp, headers: Object.entries(r.headers).map(([k, v]) => [k, v.toString('utf8')]) }));
      return { accepted: read('votes-accepted'), rejected: read('votes-rejected'), dlq: read('votes-dlq') };
    } finally {
      await driver.close();
    }
  }

  const voteIdOf = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;

  /** The outputs DESIGN prescribes, record by record. */
  function model(h: Histories, records: readonly VoteRecord[]) {
    const accepted: unknown[] = [];
    const rejected: unknown[] = [];
    let dlq = 0;
    const voted = new Set<string>();
    records.forEach((r, offset) => {
      if (r.kind === 'raw') {
        if (r.text === '{not json' || r.text === '[]') dlq++;
        else rejected.push({ key: 'u1', value: { ...(JSON.parse(r.text) as object), reason: 'malformed' } });
        return;
      }
      const vote = { voteId: voteIdOf(offset), ...r.fields };
      let reason: RejectReason | undefined;
      if (r.key !== vote.voterId || vote.ts > r.recordTs + MAX_VOTE_AHEAD_MS) reason = 'malformed';
      else reason = modelDecision(vote, modelVersion(historyOf(h, vote.electionId), vote.ts));
      if (reason === undefined && voted.has(`${vote.electionId}:${vote.voterId}`)) reason = 'duplicate';
      if (reason === undefined) {
        voted.add(`${vote.electionId}:${vote.voterId}`);
        accepted.push({ key: vote.voterId, value: { ...vote, source: { partition: 0, offset } } });
      } else {
        rejected.push({ key: vote.voterId, value: { ...vote, reason } });
      }
    });
    return { accepted, rejected, dlq };
  }

  it('accepts the first eligible vote per voter and election, rejects the rest with the reason DESIGN gives, and is deterministic', async () => {
    await fc.assert(
      fc.asyncProperty(historiesArb, fc.array(voteRecordArb, { minLength: 1, maxLength: 30 }), async (h, records) => {
        const first = await run(h, records);
        const expected = model(h, records);
        const parsed = (rs: { key: string | null; value: string }[]) => rs.map((r) => ({ key: r.key, value: JSON.parse(r.value) as unknown }));
        expect(parsed(first.accepted)).toEqual(expected.accepted);
        expect(parsed(first.rejected)).toEqual(expected.rejected);
        expect(first.dlq.length).toBe(expected.dlq);
        // Same input, same order, from scratch: the same bytes, keys, timestamps and headers.
        expect(await run(h, records)).toEqual(first);
      }),
      fuzzRuns(300),
    );
  }, 30_000);
});
