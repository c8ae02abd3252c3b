/**
 * What the final-recount scheduler reports per election: a status object (for tests and embedding
 * code) and the gauge `votestream_final_recount_state{election}` whose value is the state's index
 * in FINAL_RECOUNT_STATES (the help text lists them, so a dashboard can map numbers to words).
 */
import { Gauge, type Registry } from 'prom-client';

/**
 * In the order an election goes through them. The last four are final: the scheduler stops
 * working on the election (until a new version changes its `closesAt`).
 */
export const FINAL_RECOUNT_STATES = [
  'waiting for grace',
  'waiting for dedup',
  'waiting for persist',
  'recounting',
  'published',
  'already official',
  'conflict',
  'refused',
] as const;
export type FinalRecountState = (typeof FINAL_RECOUNT_STATES)[number];

const FINAL: ReadonlySet<FinalRecountState> = new Set(['published', 'already official', 'conflict', 'refused']);

export function isFinalState(state: FinalRecountState): boolean {
  return FINAL.has(state);
}

export interface FinalRecountStatus {
  readonly electionId: string;
  /** The `closesAt` of the version the proof is about. */
  readonly closesAt: number;
  readonly state: FinalRecountState;
  /** When the state was entered (ms). */
  readonly since: number;
  /** What it waits for (`p3 12/40`: partition, committed, needed), or why it stopped. */
  readonly detail?: string;
  /** The last infrastructure error while in this state, if the step is retrying. */
  readonly lastError?: string;
}

export class FinalRecountGauge {
  readonly #gauge: Gauge<'election'> | undefined;

  constructor(registry: Registry | undefined) {
    this.#gauge =
      registry === undefined
        ? undefined
        : new Gauge({
            name: 'votestream_final_recount_state',
            help: `Final recount state per closed election: ${FINAL_RECOUNT_STATES.map((s, i) => `${i}=${s}`).join(', ')}`,
            labelNames: ['election'],
            registers: [registry],
          });
  }

  set(electionId: string, state: FinalRecountState): void {
    this.#gauge?.set({ election: electionId }, FINAL_RECOUNT_STATES.indexOf(state));
  }
}
