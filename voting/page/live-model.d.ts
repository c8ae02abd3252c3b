// Types of live-model.js for the Node tests (the page itself is plain JS, no build step).
export interface Snapshot {
  readonly electionId: string;
  readonly total: number;
  readonly counts: Record<string, number>;
  readonly regions: Record<string, number>;
  readonly at: number;
  readonly official: Record<string, unknown> | undefined;
}
export interface CandidateRow {
  readonly id: string;
  readonly name: string;
  readonly count: number;
  readonly share: number;
}
export interface Sample {
  readonly at: number;
  readonly total: number;
  readonly delta: number;
  readonly span: number;
}
export interface RateOptions {
  readonly windowMs?: number;
  readonly bucketMs?: number;
}
export interface Bucket {
  readonly start: number;
  readonly rate: number;
}
export const RATE_WINDOW_MS: number;
export const RATE_BUCKET_MS: number;
export function parseSnapshot(text: string, electionId: string): Snapshot | null;
export function candidateRows(candidates: ReadonlyArray<{ id: string; name: string }>, counts: Record<string, number>, total: number): CandidateRow[];
export function formatShare(share: number): string;
export function formatCount(n: number, locale?: string): string;
export function regionTable(
  regions: Record<string, number>,
  electionRegions: readonly string[],
  candidateIds: readonly string[],
): Array<{ region: string; cells: number[]; total: number }>;
export function addSample(history: Sample[], sample: { at: number; total: number }, options?: RateOptions & { afterReconnect?: boolean }): Sample[];
export function rateBuckets(history: readonly Sample[], nowMs: number, options?: RateOptions): Bucket[];
export function recentRate(buckets: readonly Bucket[], overMs?: number, bucketMs?: number): number;
export function formatRate(rate: number): string;
export function chartBars(buckets: readonly Bucket[], width: number, height: number): { max: number; bars: Array<{ x: number; y: number; width: number; height: number }> };
export function backoffDelay(attempt: number, random?: () => number, options?: { baseMs?: number; maxMs?: number }): number;
export function windowState(election: { opensAt: number; closesAt: number }, nowMs: number): 'not open yet' | 'closed' | 'open';
export function officialResult(
  official: Record<string, unknown> | undefined | null,
  candidates: ReadonlyArray<{ id: string; name: string }>,
): { total: number; rows: CandidateRow[]; root: string; checkpoint: string; verifiedAt: number | undefined } | null;
