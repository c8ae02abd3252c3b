/**
 * Typed errors. Every error votestream throws on purpose is a VotestreamError with a stable `code`,
 * so callers (the CLI's exit codes, the dead-letter handler, tests) can branch on the kind, not the text.
 */
export class VotestreamError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Bad options or configuration, found at the edge before anything runs. */
export class ConfigError extends VotestreamError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CONFIG', message, options);
  }
}

/** A program or service the command needs is not there. */
export class PrerequisiteError extends VotestreamError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('PREREQUISITE', message, options);
  }
}

/** A service did not become healthy in time, or stopped answering. */
export class ServiceUnavailableError extends VotestreamError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SERVICE_UNAVAILABLE', message, options);
  }
}
