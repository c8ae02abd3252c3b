/**
 * C2SP signed notes (https://c2sp.org/signed-note) with Ed25519 keys, and the tlog checkpoint
 * body they carry (https://c2sp.org/tlog-checkpoint). Formats, so outside tools (Go's
 * golang.org/x/mod/sumdb/note, sigsum, ...) read ours:
 *
 *   note      = text "\n" "\n" 1*( "— " keyName " " base64(keyHash || signature) "\n" )
 *   text      = lines each ending in "\n"; the signature covers text exactly, final newline included
 *   keyHash   = first 4 bytes of SHA-256(keyName || 0x0A || 0x01 || 32-byte public key)
 *   vkey      = keyName "+" hex8(keyHash) "+" base64(0x01 || public key)
 *   checkpoint text = origin "\n" treeSize "\n" base64(root) "\n"
 */
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { VotestreamError } from '../../runtime/errors.js';
import type { VotingErrorCode } from '../error-codes.js';

/** A malformed note, key or checkpoint, or a signature that does not verify. */
export class SignedNoteError extends VotestreamError<VotingErrorCode> {
  constructor(message: string) {
    super('SIGNED_NOTE', message);
  }
}

const ED25519 = 0x01;
const SIGNATURE_PREFIX = '\u2014 ';
// Key names may not hold spaces or '+' (they delimit vkeys and signature lines).
const KEY_NAME_PATTERN = /^[^\s+]+$/;
const BASE64_PATTERN = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Strict standard base64: padded, and canonical (unused low bits zero), so one text has one meaning. */
function isBase64(text: string): boolean {
  return BASE64_PATTERN.test(text) && Buffer.from(text, 'base64').toString('base64') === text;
}
// PKCS#8 wrapping of a raw Ed25519 seed (RFC 8410): node:crypto takes no raw private keys.
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export interface NoteVerifier {
  readonly name: string;
  readonly keyHash: Buffer;
  readonly publicKey: KeyObject;
  /** The 32 raw bytes of the public key. */
  readonly rawPublicKey: Buffer;
}

export interface NoteSigner extends NoteVerifier {
  readonly privateKey: KeyObject;
}

export function checkKeyName(name: string): string {
  if (!KEY_NAME_PATTERN.test(name) || name.length > 256) throw new SignedNoteError(`a key name must be 1..256 characters without spaces or "+", got ${JSON.stringify(name)}`);
  return name;
}

/** First 4 bytes of SHA-256(name || 0x0A || 0x01 || public key). */
export function keyHash(name: string, rawPublicKey: Uint8Array): Buffer {
  return createHash('sha256').update(name, 'utf8').update(Buffer.from([0x0a, ED25519])).update(rawPublicKey).digest().subarray(0, 4);
}

/** The 32 raw bytes of an Ed25519 public key. */
export function rawEd25519PublicKey(key: KeyObject): Buffer {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') throw new SignedNoteError('the key is not an Ed25519 key');
  return Buffer.from(jwk.x, 'base64url');
}

/** A public KeyObject from the 32 raw bytes. */
export function ed25519PublicKey(raw: Uint8Array): KeyObject {
  if (raw.length !== 32) throw new SignedNoteError(`an Ed25519 public key has 32 bytes, got ${raw.length}`);
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(raw).toString('base64url') }, format: 'jwk' });
}

export function verifierOf(name: string, publicKey: KeyObject): NoteVerifier {
  const rawPublicKey = rawEd25519PublicKey(publicKey);
  return { name: checkKeyName(name), keyHash: keyHash(name, rawPublicKey), publicKey, rawPublicKey };
}

/** A signer from a 32-byte Ed25519 seed (the private key's raw form). */
export function signerFromSeed(name: string, seed: Uint8Array): NoteSigner {
  if (seed.length !== 32) throw new SignedNoteError(`an Ed25519 private key has 32 bytes, got ${seed.length}`);
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  return { ...verifierOf(name, createPublicKey(privateKey)), privateKey };
}

/** The 32-byte seed of an Ed25519 private key. */
export function ed25519Seed(privateKey: KeyObject): Buffer {
  const jwk = privateKey.export({ format: 'jwk' });
  if (jwk.crv !== 'Ed25519' || typeof jwk.d !== 'string') throw new SignedNoteError('the key is not an Ed25519 private key');
  return Buffer.from(jwk.d, 'base64url');
}

/** `name+hex8(keyHash)+base64(0x01 || public key)`. */
export function encodeVerifierKey(v: NoteVerifier): string {
  return `${v.name}+${v.keyHash.toString('hex')}+${Buffer.concat([Buffer.from([ED25519]), v.rawPublicKey]).toString('base64')}`;
}

/** Parses a vkey; refuses one whose key hash does not match its name and key. */
export function parseVerifierKey(vkey: string): NoteVerifier {
  const parts = vkey.trim().split('+');
  // base64 may itself hold '+': the name and hash are the first two fields, the key the rest.
  if (parts.length < 3) throw new SignedNoteError('a verifier key is name+keyhash+base64key');
  const [name, hashHex] = parts;
  const keyText = parts.slice(2).join('+');
  checkKeyName(name);
  if (!/^[0-9a-f]{8}$/.test(hashHex)) throw new SignedNoteError(`the verifier key's hash must be 8 lowercase hex digits, got ${JSON.stringify(hashHex)}`);
  if (!isBase64(keyText)) throw new SignedNoteError("the verifier key's key is not base64");
  const key = Buffer.from(keyText, 'base64');
  if (key.length !== 33 || key[0] !== ED25519) throw new SignedNoteError('the verifier key is not an Ed25519 key (0x01 and 32 bytes)');
  const v = verifierOf(name, ed25519PublicKey(key.subarray(1)));
  if (!v.keyHash.equals(Buffer.from(hashHex, 'hex'))) throw new SignedNoteError(`the verifier key's hash ${hashHex} does not match its name and key`);
  return v;
}

function checkText(text: string): void {
  if (text.length === 0 || !text.endsWith('\n')) throw new SignedNoteError('a note text must end with a newline');
  if (text.includes('\n\n')) throw new SignedNoteError('a note text must not contain a blank line');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0009\u000b-\u001f]/.test(text)) throw new SignedNoteError('a note text must not contain control characters other than newline');
}

/** The note: `text`, a blank line, and one signature line by `signer`. */
export function signNote(text: string, signer: NoteSigner): string {
  checkText(text);
  const signature = sign(null, Buffer.from(text, 'utf8'), signer.privateKey);
  return `${text}\n${SIGNATURE_PREFIX}${signer.name} ${Buffer.concat([signer.keyHash, signature]).toString('base64')}\n`;
}

export interface SignatureLine {
  readonly name: string;
  readonly keyHash: Buffer;
  readonly signature: Buffer;
}

/** Splits a note into its text and signature lines (nothing verified yet). */
export function parseNote(note: string): { text: string; signatures: SignatureLine[] } {
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw new SignedNoteError('a signed note has its text, a blank line, then signature lines');
  const text = note.slice(0, split + 1);
  checkText(text);
  const lines = note.slice(split + 2);
  if (!lines.endsWith('\n')) throw new SignedNoteError('a signed note must end with a newline');
  const signatures = lines
    .slice(0, -1)
    .split('\n')
    .map((line) => {
      const m = /^\u2014 (\S+) (\S+)$/.exec(line);
      if (m === null || !isBase64(m[2])) throw new SignedNoteError(`malformed signature line ${JSON.stringify(line)}`);
      const bytes = Buffer.from(m[2], 'base64');
      if (bytes.length < 5) throw new SignedNoteError(`signature line of ${m[1]} is too short`);
      return { name: m[1], keyHash: bytes.subarray(0, 4), signature: bytes.subarray(4) };
    });
  if (signatures.length > 100) throw new SignedNoteError('a signed note has at most 100 signatures');
  return { text, signatures };
}

/**
 * The note's text, once the signature by `verifier` verifies. As the spec says, the first line
 * naming the verifier decides: a bad signature rejects the note even if another line would pass.
 */
export function openNote(note: string, verifier: NoteVerifier): string {
  const { text, signatures } = parseNote(note);
  const line = signatures.find((s) => s.name === verifier.name && s.keyHash.equals(verifier.keyHash));
  if (line === undefined) throw new SignedNoteError(`the note is not signed by ${verifier.name}+${verifier.keyHash.toString('hex')}`);
  if (line.signature.length !== 64 || !verify(null, Buffer.from(text, 'utf8'), verifier.publicKey, line.signature)) {
    throw new SignedNoteError(`the signature by ${verifier.name} does not verify`);
  }
  return text;
}

export interface Checkpoint {
  readonly origin: string;
  readonly treeSize: number;
  readonly root: Buffer;
}

/** `origin\ntreeSize\nbase64(root)\n`. */
export function checkpointText(c: Checkpoint): string {
  if (c.origin.length === 0 || /\s/.test(c.origin)) throw new SignedNoteError(`a checkpoint origin must be non-empty without spaces, got ${JSON.stringify(c.origin)}`);
  if (!Number.isSafeInteger(c.treeSize) || c.treeSize < 0) throw new SignedNoteError(`a tree size is an integer >= 0, got ${c.treeSize}`);
  if (c.root.length !== 32) throw new SignedNoteError(`a root hash has 32 bytes, got ${c.root.length}`);
  return `${c.origin}\n${c.treeSize}\n${c.root.toString('base64')}\n`;
}

/** Parses a checkpoint text (the first three lines; extension lines after them are allowed and ignored). */
export function parseCheckpoint(text: string): Checkpoint {
  const lines = text.split('\n');
  if (lines.length < 4 || lines[lines.length - 1] !== '') throw new SignedNoteError('a checkpoint has at least origin, tree size and root lines');
  const [origin, size, root] = lines;
  if (!/^(0|[1-9][0-9]*)$/.test(size) || !Number.isSafeInteger(Number(size))) throw new SignedNoteError(`the checkpoint's tree size ${JSON.stringify(size)} is not a decimal number`);
  if (!isBase64(root) || Buffer.from(root, 'base64').length !== 32) throw new SignedNoteError("the checkpoint's root is not 32 bytes of base64");
  const c = { origin, treeSize: Number(size), root: Buffer.from(root, 'base64') };
  checkpointText(c);
  return c;
}
