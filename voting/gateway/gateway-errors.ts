/**
 * The gateway's answers that are not a 202, as DESIGN section 3 fixes them: a status and a body
 * `{"error":"<code>","message":"<human text>"}`. The codes are a closed list so that clients (and
 * the e2e tests) can branch on them; the message is for people.
 */
export const GATEWAY_ERRORS = {
  'malformed': 400,
  'token-missing': 401,
  'token-invalid': 401,
  'token-expired': 401,
  'token-not-yet-valid': 401,
  'token-wrong-election': 403,
  'not-found': 404,
  'unknown-election': 404,
  'unknown-candidate': 404,
  'method-not-allowed': 405,
  'not-open': 409,
  'too-large': 413,
  'unsupported-media-type': 415,
  'rate-limited': 429,
  'unavailable': 503,
  'overloaded': 503,
  'shutting-down': 503,
} as const;

export type GatewayErrorCode = keyof typeof GATEWAY_ERRORS;

export interface GatewayRejection {
  readonly status: number;
  readonly error: GatewayErrorCode;
  readonly message: string;
  /** Seconds, for 429 and 503 (`Retry-After`). */
  readonly retryAfterSec?: number;
}

export function rejection(error: GatewayErrorCode, message: string, retryAfterSec?: number): GatewayRejection {
  return { status: GATEWAY_ERRORS[error], error, message, ...(retryAfterSec === undefined ? {} : { retryAfterSec }) };
}
