import type { ErrorCode } from './error-codes.js';

/**
 * The base of every error votestream throws on purpose: a stable `code`, so callers (the CLI's exit
 * codes, the dead-letter handler, tests) branch on the kind, not the text. It lives on the ground
 * floor (DESIGN section 2) because every layer, the stores included, derives its errors from it.
 *
 * `C` is the closed list the code comes from: the framework's ErrorCode (statestores/error-codes.ts)
 * by default; an application passes its own `as const` list (`class MyError extends
 * VotestreamError<MyCode>`), so the framework's catalogue never names an application's codes. The
 * code argument does not infer `C` (NoInfer): a code outside the list fails typecheck instead of
 * widening it.
 */
export class VotestreamError<C extends string = ErrorCode> extends Error {
  readonly code: C;
  constructor(code: NoInfer<C>, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}
