import { generateKeyPair, exportPKCS8, exportSPKI, importPKCS8, SignJWT } from 'jose';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ConfigError } from '../../runtime/errors.js';
import { MIN_SECRET_BYTES, type TokenAlgorithm } from './token-verifier.js';

export interface IssueTokenOptions {
  readonly voterId: string;
  readonly electionId?: string;
  readonly ttlSec: number;
  readonly algorithm: TokenAlgorithm;
  /** HS256: the secret; EdDSA/ES256: the PKCS#8 PEM private key. */
  readonly key: string;
  readonly kid?: string;
  readonly nowSec?: number;
}

/** A voter token as the gateway expects it: `sub` = voterId, `exp` set, `election` when given. */
export async function issueToken(o: IssueTokenOptions): Promise<string> {
  const now = o.nowSec ?? Math.floor(Date.now() / 1000);
  const key = o.algorithm === 'HS256' ? new TextEncoder().encode(o.key) : await importPKCS8(o.key, o.algorithm);
  const jwt = new SignJWT(o.electionId === undefined ? {} : { election: o.electionId })
    .setProtectedHeader({ alg: o.algorithm, typ: 'JWT', ...(o.kid === undefined ? {} : { kid: o.kid }) })
    .setSubject(o.voterId)
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(now + o.ttlSec);
  return jwt.sign(key);
}

/** The signing material for a deployment: a random HS256 secret, or an EdDSA/ES256 key pair in PEM. */
export async function createTokenKeys(algorithm: TokenAlgorithm): Promise<{ readonly secret?: string; readonly privateKeyPem?: string; readonly publicKeyPem?: string }> {
  if (algorithm === 'HS256') return { secret: randomBytes(MIN_SECRET_BYTES * 2).toString('base64url') };
  const { privateKey, publicKey } = await generateKeyPair(algorithm, { extractable: true });
  return { privateKeyPem: await exportPKCS8(privateKey), publicKeyPem: await exportSPKI(publicKey) };
}

/** The signing key from a file (secret or PKCS#8 PEM), or for HS256 env VOTESTREAM_TOKEN_SECRET. */
export async function loadSigningKey(algorithm: TokenAlgorithm, file: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  if (file !== undefined) return (await readFile(file, 'utf8')).trim();
  if (algorithm === 'HS256' && env.VOTESTREAM_TOKEN_SECRET !== undefined && env.VOTESTREAM_TOKEN_SECRET !== '') return env.VOTESTREAM_TOKEN_SECRET;
  throw new ConfigError(algorithm === 'HS256' ? 'give --secret-file F or env VOTESTREAM_TOKEN_SECRET' : `give --key-file F (the ${algorithm} private key, PKCS#8 PEM)`);
}
