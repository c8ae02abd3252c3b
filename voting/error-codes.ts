/**
 * The voting application's error codes, its own closed list beside the framework's ERROR_CODES
 * (statestores/error-codes.ts), which knows nothing of votes. Its errors are
 * `VotestreamError<VotingErrorCode>`; the CLI's exit-code table is keyed by both lists.
 */
export const VOTING_ERROR_CODES = [
  /** An encoder was handed a vote the contract cannot represent (DESIGN section 3). */
  'VOTE_FORMAT',
  /** A value cannot be put into a hash-chain preimage or key unambiguously. */
  'HASH_CHAIN',
  /** An `elections` record cannot be part of its election's history (another id, a conflicting version, an earlier effectiveAt). */
  'ELECTION_VERSION',
  /** `rebuild redis` found the count path running (its consumer group has members). */
  'COUNT_PATH_RUNNING',
  /** An admin change that is not a valid election version (the message names the field). */
  'ELECTION_INVALID',
  /** The admin was asked about an election that does not exist. */
  'ELECTION_NOT_FOUND',
  /** Two admins wrote the same version of an election; the later one rereads and retries. */
  'ELECTION_CONFLICT',
  /** A signed note or verifier key that is malformed, or whose signature does not verify (C2SP signed-note). */
  'SIGNED_NOTE',
  /** The deployment's signing key is missing, unreadable or malformed (`audit keys` makes one). */
  'SIGNING_KEY',
  /** The recount found the vote log broken (a chain, seq and field are named) and published nothing. */
  'RECOUNT_REFUSED',
  /** An official result exists for the election and differs from the one being published. */
  'OFFICIAL_CONFLICT',
  /** A receipt that does not prove its vote against its signed checkpoint (the reason is named). */
  'RECEIPT_INVALID',
  /** `audit verify` or `audit invariants` found a discrepancy (the report names each one). */
  'AUDIT_DISCREPANCY',
] as const;

/** A code of the voting application's errors: one of VOTING_ERROR_CODES. */
export type VotingErrorCode = (typeof VOTING_ERROR_CODES)[number];
