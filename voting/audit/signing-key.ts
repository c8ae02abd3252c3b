/**
 * The deployment's checkpoint signing key as files. The private key file holds one line in the
 * format of Go's golang.org/x/mod/sumdb/note signer keys, so the same file signs with their tools:
 *
 *   PRIVATE+KEY+<name>+<hex8 key hash>+<base64(0x01 || 32-byte Ed25519 seed)>
 *
 * written with mode 0600 and never printed or logged; the public verifier key (vkey) goes beside
 * it, for auditors. Secrets come from files only: the path is an option or an environment
 * variable, never the key itself on a command line.
 */
import { generateKeyPairSync } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { VotestreamError } from '../../runtime/errors.js';
import type { VotingErrorCode } from '../error-codes.js';
import { checkKeyName, ed25519Seed, encodeVerifierKey, keyHash, rawEd25519PublicKey, signerFromSeed, SignedNoteError, type NoteSigner } from './signed-note.js';

/** The signing key is missing, unreadable, too widely readable, or malformed. */
export class SigningKeyError extends VotestreamError<VotingErrorCode> {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SIGNING_KEY', message, options);
  }
}

export const SIGNING_KEY_ENV = 'VOTESTREAM_SIGNING_KEY_FILE';
export const DEFAULT_KEY_DIR = join('.stack', 'keys');
export const PRIVATE_KEY_FILE = 'signing.key';
export const PUBLIC_KEY_FILE = 'signing.vkey';

/** The private key file: `--key-file`, else $VOTESTREAM_SIGNING_KEY_FILE, else .stack/keys/signing.key. */
export function signingKeyPath(keyFile: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(keyFile ?? env[SIGNING_KEY_ENV] ?? join(DEFAULT_KEY_DIR, PRIVATE_KEY_FILE));
}

const DEPLOYMENT_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * The deployment's name: `given`, else the one the signing key was made for, else the topic
 * prefix without its trailing separators, else `default`.
 */
export function deploymentName(given: string | undefined, o: { signer?: NoteSigner; topicPrefix?: string } = {}): string {
  const fromKey = o.signer?.name.startsWith('votestream/') ? o.signer.name.slice('votestream/'.length) : undefined;
  const name = given ?? fromKey ?? (o.topicPrefix?.replace(/[._-]+$/, '') || 'default');
  if (!DEPLOYMENT_PATTERN.test(name) || name.length > 100) throw new SigningKeyError(`a deployment name is letters, digits, ".", "_" and "-" (at most 100), got ${JSON.stringify(name)}`);
  return name;
}

/** The key name for a deployment: `votestream/<deployment>` (the checkpoints' origins start with it). */
export function deploymentKeyName(deployment: string): string {
  return checkKeyName(`votestream/${deployment}`);
}

export interface CreatedKeys {
  readonly privateKeyFile: string;
  readonly publicKeyFile: string;
  readonly vkey: string;
}

/**
 * A new key pair in `dir`: the private key `fileName` (signing.key by default; 0600, created
 * exclusively: an existing key is never overwritten, since checkpoints signed with it would lose
 * their verifier) and the vkey beside it (its name with `.vkey` for `.key`: signing.vkey).
 */
export function createSigningKeys(dir: string, deployment: string, fileName: string = PRIVATE_KEY_FILE): CreatedKeys {
  const name = deploymentKeyName(deployment);
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const raw = rawEd25519PublicKey(publicKey);
  const seed = ed25519Seed(privateKey);
  const line = `PRIVATE+KEY+${name}+${keyHash(name, raw).toString('hex')}+${Buffer.concat([Buffer.from([0x01]), seed]).toString('base64')}\n`;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const privateKeyFile = resolve(dir, fileName);
  const publicKeyFile = `${privateKeyFile.replace(/\.key$/, '')}.vkey`;
  let fd: number;
  try {
    fd = openSync(privateKeyFile, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new SigningKeyError(`${privateKeyFile} exists; refusing to replace a signing key (move it away first)`);
    throw new SigningKeyError(`cannot create ${privateKeyFile}: ${(err as Error).message}`);
  }
  try {
    writeSync(fd, line);
  } finally {
    closeSync(fd);
  }
  const vkey = encodeVerifierKey(signerFromSeed(name, seed));
  writeFileSync(publicKeyFile, `${vkey}\n`, { mode: 0o644 });
  return { privateKeyFile, publicKeyFile, vkey };
}

/** Reads the signer from its file; refuses a file that others than its owner can read. */
export function loadSigner(path: string): NoteSigner {
  let text: string;
  try {
    const mode = statSync(path).mode;
    if ((mode & 0o077) !== 0) throw new SigningKeyError(`${path} is readable by others (mode ${(mode & 0o777).toString(8)}); chmod 600 it`);
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (err instanceof SigningKeyError) throw err;
    throw new SigningKeyError(`cannot read the signing key ${path} (create one with \`votestream audit keys\`): ${(err as Error).message}`);
  }
  // The message never quotes the file: it is a secret.
  const parts = text.trim().split('+');
  if (parts.length < 5 || parts[0] !== 'PRIVATE' || parts[1] !== 'KEY') throw new SigningKeyError(`${path} is not a PRIVATE+KEY+name+hash+key signing key`);
  const [, , name, hashHex] = parts;
  const key = Buffer.from(parts.slice(4).join('+'), 'base64');
  if (key.length !== 33 || key[0] !== 0x01) throw new SigningKeyError(`${path} does not hold an Ed25519 key`);
  try {
    const signer = signerFromSeed(name, key.subarray(1));
    if (signer.keyHash.toString('hex') !== hashHex) throw new SigningKeyError(`${path}: the key hash does not match its name and key`);
    return signer;
  } catch (err) {
    if (err instanceof SignedNoteError) throw new SigningKeyError(`${path}: ${err.message}`);
    throw err;
  }
}
