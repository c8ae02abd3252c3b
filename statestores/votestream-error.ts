/**
 * The base of every error votestream throws on purpose: a stable `code`, so callers (the CLI's exit
 * codes, the dead-letter handler, tests) branch on the kind, not the text. It lives on the ground
 * floor (DESIGN section 2) because every layer, the stores included, derives its errors from it.
 */
export class VotestreamError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}
