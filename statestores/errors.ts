import { VotestreamError } from './votestream-error.js';

/**
 * Typed errors of the state stores. Each has a stable `code`, so the runtime can tell a bug in its
 * own use of the commit protocol (fail loudly) from an I/O problem (close the task, let a new owner
 * restore from the changelog).
 */

/** The store was used before open() resolved, or after close(). */
export class StoreNotOpenError extends VotestreamError {
  constructor(storeName: string, operation: string) {
    super('STORE_NOT_OPEN', `store "${storeName}" is not open (${operation})`);
  }
}

/** The store could not be opened: e.g. another process holds the LevelDB lock on its directory. */
export class StoreOpenError extends VotestreamError {
  /** Another process holds the LevelDB lock: worth retrying while a previous owner lets go. */
  readonly locked: boolean;
  constructor(storeName: string, location: string, options?: { cause?: unknown }) {
    const locked = causeCode(options?.cause) === 'LEVEL_LOCKED';
    super(
      'STORE_OPEN',
      locked
        ? `store "${storeName}" at ${location} is locked by another process (two workers on one state directory?)`
        : `store "${storeName}" at ${location} could not be opened`,
      options,
    );
    this.locked = locked;
  }
}

/** A key or value the stores cannot hold faithfully (see key-order.ts and the value checks). */
export class StoreArgumentError extends VotestreamError {
  constructor(storeName: string, message: string) {
    super('STORE_ARGUMENT', `store "${storeName}": ${message}`);
  }
}

/** Stored bytes could not be decoded by the store's codec: a codec mismatch or a corrupted store. */
export class StoreCorruptionError extends VotestreamError {
  constructor(storeName: string, message: string, options?: { cause?: unknown }) {
    super('STORE_CORRUPTION', `store "${storeName}": ${message}`, options);
  }
}

/**
 * The commit protocol (DESIGN section 4) was not followed: writes after pendingChangelog() that
 * would reach LevelDB without reaching the changelog, a changelog offset that goes backwards, a
 * restore while writes are buffered. Always a bug in the caller.
 */
export class StoreCommitProtocolError extends VotestreamError {
  constructor(storeName: string, message: string) {
    super('STORE_COMMIT_PROTOCOL', `store "${storeName}": ${message}`);
  }
}

/** Writing a committed batch failed (I/O). The buffered writes are kept; see TaskStore.commit. */
export class StoreWriteError extends VotestreamError {
  constructor(storeName: string, message: string, options?: { cause?: unknown }) {
    super('STORE_WRITE', `store "${storeName}": ${message}`, options);
  }
}

function causeCode(cause: unknown): string | undefined {
  // classic-level wraps the native error: LEVEL_DATABASE_NOT_OPEN with a cause of LEVEL_LOCKED.
  let current: unknown = cause;
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth++) {
    const { code, cause: next } = current as { code?: unknown; cause?: unknown };
    if (code === 'LEVEL_LOCKED') return code;
    current = next;
  }
  return undefined;
}
