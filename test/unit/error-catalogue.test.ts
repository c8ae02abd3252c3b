import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BENCHMARK_ERROR_CODES, BenchmarkError } from '../../benchmarks/errors.js';
import { CLI_ERROR_CODES, EXIT, EXIT_CODES, exitCodeOf } from '../../cli/exit-codes.js';
import { ProcessingFailedError } from '../../runtime/processing-failed-error.js';
import { ERROR_CODES, isErrorCode } from '../../statestores/error-codes.js';
import { VotestreamError } from '../../statestores/votestream-error.js';
import { VOTING_ERROR_CODES } from '../../voting/error-codes.js';
import { CountPathRunningError } from '../../voting/count-offsets-reset.js';

/**
 * Issue 9: error codes are closed lists (the framework's, the voting application's, the
 * benchmarks'), every code has an exit code, and no source throws a bare Error. The sources are
 * read as text, as in layering.test.ts, so a new file is checked without being listed here.
 */
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const FLOORS = ['statestores', 'topology', 'runtime', 'infra', 'sinks', 'voting', 'benchmarks', 'cli'];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

const files = [...FLOORS.flatMap((floor) => sources(join(root, floor))), join(root, 'index.ts'), join(root, 'testing.ts')].map((path) => ({
  name: relative(root, path),
  text: readFileSync(path, 'utf8'),
}));

/** Codes given to an error: `super('X'` (or `super(c ?? 'X'`), `new VotestreamError('X'`, `new BenchmarkError('X'`, `code: 'X'`. */
function codesGiven(text: string): string[] {
  const pattern = /(?:\bsuper|\bnew (?:VotestreamError|BenchmarkError)(?:<[^>]*>)?)\(\s*(?:[\w?.]+ \?\? )?'([A-Z][A-Z0-9_]*)'|\bcode: '([A-Z][A-Z0-9_]*)'/g;
  return [...text.matchAll(pattern)].map((m) => m[1] ?? m[2]);
}

const catalogued = new Set<string>([...ERROR_CODES, ...VOTING_ERROR_CODES, ...BENCHMARK_ERROR_CODES]);

describe('the error catalogue', () => {
  it('finds the codes it checks (the reader is not blind)', () => {
    expect(codesGiven("super('CONFIG', m);\nsuper(\n  'STORE_OPEN',\n  m);\nnew VotestreamError('APP_STATE', m)\nnew BenchmarkError('BENCHMARK_OUTPUT', m)\n{ ...options, code: 'SINK_STATE_LOST' }\nsuper(options?.code ?? 'INFRASTRUCTURE', m)")).toEqual([
      'CONFIG',
      'STORE_OPEN',
      'APP_STATE',
      'BENCHMARK_OUTPUT',
      'SINK_STATE_LOST',
      'INFRASTRUCTURE',
    ]);
    expect(files.some((f) => f.name === 'runtime/errors.ts')).toBe(true);
  });

  it('has no code twice, and the framework list names nothing of the application', () => {
    const all = [...ERROR_CODES, ...VOTING_ERROR_CODES, ...BENCHMARK_ERROR_CODES];
    expect(all.length).toBe(new Set(all).size);
    expect(ERROR_CODES.filter((c) => /VOTE|ELECTION|COUNT_PATH|BENCHMARK/.test(c))).toEqual([]);
    expect(readFileSync(join(root, 'statestores/error-codes.ts'), 'utf8')).not.toMatch(/\bvot(e|es|ing)\b/i);
  });

  it('gives every VotestreamError a catalogued code', () => {
    const unknown = files.flatMap((f) => codesGiven(f.text).filter((c) => !catalogued.has(c)).map((c) => `${f.name}: ${c}`));
    expect(unknown).toEqual([]);
  });

  it('has every catalogued code in use (no stale code)', () => {
    const given = new Set(files.flatMap((f) => codesGiven(f.text)));
    expect([...catalogued].filter((c) => !given.has(c))).toEqual([]);
  });

  it('derives every error class from VotestreamError', () => {
    const bare = files.flatMap((f) => [...f.text.matchAll(/class (\w+)(?:<[^{]*?>)? extends (Error|TypeError|RangeError)\b/g)].map((m) => `${f.name}: ${m[1]}`));
    expect(bare).toEqual(['statestores/votestream-error.ts: VotestreamError']);
  });

  it('gives every code an exit code, and nothing else one', () => {
    expect(Object.keys(EXIT_CODES).sort()).toEqual([...catalogued].sort());
    expect([...CLI_ERROR_CODES].sort()).toEqual([...catalogued].sort());
    expect({ CONFIG: EXIT_CODES.CONFIG, PREREQUISITE: EXIT_CODES.PREREQUISITE, SERVICE_UNAVAILABLE: EXIT_CODES.SERVICE_UNAVAILABLE, COUNT_PATH_RUNNING: EXIT_CODES.COUNT_PATH_RUNNING }).toEqual({
      CONFIG: 2,
      PREREQUISITE: 3,
      SERVICE_UNAVAILABLE: 4,
      COUNT_PATH_RUNNING: 6,
    });
    expect(EXIT_CODES.TOPIC_MISMATCH).toBe(EXIT.FAILURE);
  });

  it('maps errors to exit codes by code', () => {
    expect(exitCodeOf(new VotestreamError('CONFIG', 'bad'))).toBe(2);
    expect(exitCodeOf(new CountPathRunningError('running'))).toBe(6);
    expect(exitCodeOf(new BenchmarkError('BENCHMARK_TIMEOUT', 'slow'))).toBe(1);
    expect(exitCodeOf(new Error('boom'))).toBe(1);
    expect(isErrorCode('CONFIG')).toBe(true);
    expect(isErrorCode('COUNT_PATH_RUNNING')).toBe(false);
  });

  it('has no bare `throw new Error(` (or rejection with one) in the sources', () => {
    const bare = files.flatMap((f) =>
      f.text
        .split('\n')
        .map((line, i) => ({ line, at: `${f.name}:${i + 1}` }))
        .filter(({ line }) => /\bthrow new Error\(|\breject\(\s*(?:[^()]*\?\?\s*)?new Error\(/.test(line))
        .map(({ at }) => at),
    );
    expect(bare).toEqual([]);
  });
});

describe('a processing failure', () => {
  it('carries its task, topic, partition and offset, and the record error as its cause', () => {
    const cause = new TypeError('no candidate');
    const err = new ProcessingFailedError({ taskId: '0_3', topic: 'votes', partition: 3, offset: 17 }, cause);
    expect({ code: err.code, taskId: err.taskId, topic: err.topic, partition: err.partition, offset: err.offset, cause: err.cause }).toEqual({
      code: 'PROCESSING_FAILED',
      taskId: '0_3',
      topic: 'votes',
      partition: 3,
      offset: 17,
      cause,
    });
    expect(err.message).toBe('processing votes[3]@17 in task 0_3 failed: no candidate');
  });
});
