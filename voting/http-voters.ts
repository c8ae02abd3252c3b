import { issueToken } from './gateway/token-issuer.js';
import type { TokenAlgorithm } from './gateway/token-verifier.js';
import type { VoteSender } from './simulator.js';
import type { Vote } from './vote.js';

export interface HttpVoteSenderOptions {
  /** The gateway, e.g. http://127.0.0.1:8080. */
  readonly url: string;
  readonly algorithm: TokenAlgorithm;
  /** HS256 secret, or EdDSA/ES256 private key PEM: simulated voters sign their own tokens. */
  readonly signingKey: string;
  /** Requests in flight at most (default 64). */
  readonly concurrency?: number;
}

/** What the gateway answered, by status: 202s, and each refusal counted. */
export type HttpVoteOutcomes = Map<number, number>;

/**
 * Simulated voters through the gateway: each vote a POST with the voter's own token (sub = voterId,
 * election claim set), the body as a client sends it (the gateway sets ts, electionId, voterId).
 */
export function httpVoteSender(o: HttpVoteSenderOptions): VoteSender & { readonly outcomes: HttpVoteOutcomes } {
  const outcomes: HttpVoteOutcomes = new Map();
  const limit = o.concurrency ?? 64;
  const base = o.url.replace(/\/$/, '');
  const one = async (v: Vote): Promise<void> => {
    const token = await issueToken({ voterId: v.voterId, electionId: v.electionId, ttlSec: 300, algorithm: o.algorithm, key: o.signingKey });
    let status = 0;
    try {
      const res = await fetch(`${base}/v1/elections/${encodeURIComponent(v.electionId)}/votes`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ candidateId: v.candidateId, voteId: v.voteId, ...(v.region === undefined ? {} : { region: v.region }) }),
      });
      status = res.status;
      await res.arrayBuffer();
    } catch {
      // 0: the gateway could not be reached; counted like any other outcome.
    }
    outcomes.set(status, (outcomes.get(status) ?? 0) + 1);
  };
  return {
    outcomes,
    send: async (votes) => {
      for (let i = 0; i < votes.length; i += limit) await Promise.all(votes.slice(i, i + limit).map(one));
    },
    close: async () => undefined,
  };
}
