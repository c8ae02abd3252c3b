import { readFile } from 'node:fs/promises';
import { createLocalJWKSet, errors, importSPKI, jwtVerify, type JSONWebKeySet, type JWTVerifyGetKey, type KeyObject } from 'jose';
import { ConfigError } from '../../runtime/errors.js';
import { ID_PATTERN, MAX_VOTER_ID_LENGTH } from '../vote.js';
import { rejection, type GatewayRejection } from './gateway-errors.js';

/** The algorithms a deployment may pin; one per deployment, never taken from the token. */
export const TOKEN_ALGORITHMS = ['HS256', 'EdDSA', 'ES256'] as const;
export type TokenAlgorithm = (typeof TOKEN_ALGORITHMS)[number];

/** Where the verification key comes from: files or the environment, never a flag's value. */
export interface TokenKeySource {
  readonly algorithm: TokenAlgorithm;
  /** HS256: a file holding the shared secret (at least 32 bytes). Else env VOTESTREAM_TOKEN_SECRET. */
  readonly secretFile?: string;
  /** EdDSA/ES256: a PEM (SPKI) public key file. */
  readonly publicKeyFile?: string;
  /** EdDSA/ES256: a JWKS file (keys chosen by `kid`). */
  readonly jwksFile?: string;
}

export type VerificationKey = Uint8Array | KeyObject | Awaited<ReturnType<typeof importSPKI>> | JWTVerifyGetKey;

export const MIN_SECRET_BYTES = 32;

export async function loadVerificationKey(source: TokenKeySource, env: NodeJS.ProcessEnv = process.env): Promise<VerificationKey> {
  if (source.algorithm === 'HS256') {
    const secret = source.secretFile !== undefined ? (await readFile(source.secretFile)).toString('utf8').trim() : env.VOTESTREAM_TOKEN_SECRET;
    if (secret === undefined || secret === '') throw new ConfigError('HS256 tokens need a secret: --token-secret-file F or env VOTESTREAM_TOKEN_SECRET');
    const bytes = new TextEncoder().encode(secret);
    if (bytes.length < MIN_SECRET_BYTES) throw new ConfigError(`the HS256 secret must have at least ${MIN_SECRET_BYTES} bytes (it has ${bytes.length})`);
    return bytes;
  }
  if (source.jwksFile !== undefined) {
    return createLocalJWKSet(JSON.parse(await readFile(source.jwksFile, 'utf8')) as JSONWebKeySet);
  }
  if (source.publicKeyFile !== undefined) return importSPKI(await readFile(source.publicKeyFile, 'utf8'), source.algorithm);
  throw new ConfigError(`${source.algorithm} tokens need --token-public-key-file or --token-jwks-file`);
}

export interface TokenVerifierOptions {
  readonly algorithm: TokenAlgorithm;
  readonly key: VerificationKey;
  /** Clock leeway for exp and nbf, seconds. Default 5. */
  readonly leewaySec?: number;
  readonly issuer?: string;
  readonly audience?: string;
}

export type VerifiedVoter = { readonly ok: true; readonly voterId: string } | ({ readonly ok: false } & GatewayRejection);

/**
 * Checks a voter's bearer token: signature with the pinned algorithm only (`alg: none` and every
 * other algorithm fail), `exp` required, `sub` a valid voterId, and an `election` claim, when there
 * is one, equal to the election voted in. The reasons given are generic enough to tell a client
 * what to fix without helping a forger.
 */
export class TokenVerifier {
  readonly #o: TokenVerifierOptions;

  constructor(options: TokenVerifierOptions) {
    this.#o = options;
  }

  async verify(authorization: string, electionId: string): Promise<VerifiedVoter> {
    const match = /^Bearer ([A-Za-z0-9_\-.]+)$/.exec(authorization);
    if (match === null) return fail('token-missing', 'send Authorization: Bearer <token>');
    let payload;
    try {
      const verify = this.#o.key;
      const options = {
        algorithms: [this.#o.algorithm],
        clockTolerance: this.#o.leewaySec ?? 5,
        requiredClaims: ['exp', 'sub'],
        ...(this.#o.issuer === undefined ? {} : { issuer: this.#o.issuer }),
        ...(this.#o.audience === undefined ? {} : { audience: this.#o.audience }),
      };
      ({ payload } = typeof verify === 'function' ? await jwtVerify(match[1], verify, options) : await jwtVerify(match[1], verify, options));
    } catch (error) {
      return tokenFailure(error);
    }
    const sub = payload.sub;
    if (typeof sub !== 'string' || sub.length > MAX_VOTER_ID_LENGTH || !ID_PATTERN.test(sub)) {
      return fail('token-invalid', 'the token subject is not a valid voter id');
    }
    const election = payload.election;
    if (election !== undefined && election !== electionId) {
      return fail('token-wrong-election', 'the token is for another election');
    }
    return { ok: true, voterId: sub };
  }
}

function fail(code: Parameters<typeof rejection>[0], message: string): VerifiedVoter {
  return { ok: false, ...rejection(code, message) };
}

function tokenFailure(error: unknown): VerifiedVoter {
  if (error instanceof errors.JWTExpired) return fail('token-expired', 'the token has expired');
  if (error instanceof errors.JWTClaimValidationFailed) {
    // Only a well-formed nbf still in the future means "not yet"; a nbf or iat that is not a number is a broken token.
    if (error.claim === 'nbf' && error.reason === 'check_failed') return fail('token-not-yet-valid', 'the token is not valid yet');
    return fail('token-invalid', `the token's "${error.claim}" claim is missing or wrong`);
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return fail('token-invalid', 'the token is not signed with the algorithm this deployment uses');
  if (error instanceof errors.JWSSignatureVerificationFailed) return fail('token-invalid', 'the token signature does not verify');
  return fail('token-invalid', 'the token is not a valid signed JWT');
}
