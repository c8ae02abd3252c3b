import { spawnSync } from 'node:child_process';
import { createHash, createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync, chmodSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  checkpointText,
  ed25519Seed,
  encodeVerifierKey,
  openNote,
  parseCheckpoint,
  parseVerifierKey,
  signerFromSeed,
  signNote,
  SignedNoteError,
} from '../../../voting/audit/signed-note.js';
import { createSigningKeys, loadSigner, SigningKeyError } from '../../../voting/audit/signing-key.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'vs-note-'));
  dirs.push(d);
  return d;
};

const signer = signerFromSeed('votestream/test', ed25519Seed(generateKeyPairSync('ed25519').privateKey));
const checkpoint = checkpointText({ origin: 'votestream/test/e1', treeSize: 1234, root: createHash('sha256').update('root').digest() });

describe('C2SP signed note', () => {
  it('a known vector: the spec example key (Go sumdb/note) gives the same key hash and vkey', () => {
    // From golang.org/x/mod/sumdb/note's documentation: PeterNeumann's verifier key.
    const vkey = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
    const v = parseVerifierKey(vkey);
    expect(v.name).toBe('PeterNeumann');
    expect(encodeVerifierKey(v)).toBe(vkey);
    // The spec's own example note verifies with it.
    const note = 'If you think cryptography is the answer to your problem,\nthen you don\'t know what your problem is.\n\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n';
    expect(openNote(note, v)).toBe("If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n");
  });

  it('signs a checkpoint: text, blank line, em dash + space, name, base64(key hash || 64-byte signature)', () => {
    const note = signNote(checkpoint, signer);
    const lines = note.split('\n');
    expect(lines.slice(0, 4)).toEqual(['votestream/test/e1', '1234', createHash('sha256').update('root').digest('base64'), '']);
    expect(lines[4].startsWith('\u2014 votestream/test ')).toBe(true);
    const sig = Buffer.from(lines[4].split(' ')[2], 'base64');
    expect(sig.length).toBe(68);
    expect(sig.subarray(0, 4)).toEqual(createHash('sha256').update(Buffer.concat([Buffer.from('votestream/test\n\x01'), signer.rawPublicKey])).digest().subarray(0, 4));
    expect(openNote(note, parseVerifierKey(encodeVerifierKey(signer)))).toBe(checkpoint);
    expect(parseCheckpoint(openNote(note, signer))).toEqual({ origin: 'votestream/test/e1', treeSize: 1234, root: createHash('sha256').update('root').digest() });
  });

  it('a second implementation verifies the signature: crypto.verify with a key rebuilt from the vkey bytes, and openssl', () => {
    const note = signNote(checkpoint, signer);
    const vkey = encodeVerifierKey(signer);
    const raw = Buffer.from(vkey.split('+').slice(2).join('+'), 'base64').subarray(1);
    const sig = Buffer.from(note.trimEnd().split('\n').pop()!.split(' ')[2], 'base64').subarray(4);
    // SPKI DER by hand (RFC 8410): no help from the code under test.
    const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), raw]);
    const pub = createPublicKey({ key: spki, format: 'der', type: 'spki' });
    expect(verify(null, Buffer.from(checkpoint), pub, sig)).toBe(true);
    if (spawnSync('openssl', ['version']).status === 0) {
      const dir = tempDir();
      writeFileSync(join(dir, 'pub.pem'), pub.export({ format: 'pem', type: 'spki' }));
      writeFileSync(join(dir, 'msg'), checkpoint);
      writeFileSync(join(dir, 'sig'), sig);
      const r = spawnSync('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', join(dir, 'pub.pem'), '-rawin', '-in', join(dir, 'msg'), '-sigfile', join(dir, 'sig')], { encoding: 'utf8' });
      expect(r.stdout + r.stderr).toContain('Signature Verified Successfully');
      writeFileSync(join(dir, 'msg'), checkpoint.replace('1234', '1235'));
      const bad = spawnSync('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', join(dir, 'pub.pem'), '-rawin', '-in', join(dir, 'msg'), '-sigfile', join(dir, 'sig')], { encoding: 'utf8' });
      expect(bad.status).not.toBe(0);
    }
  });

  it('every changed byte of the note fails to open', () => {
    const note = Buffer.from(signNote(checkpoint, signer), 'utf8');
    for (let i = 0; i < note.length; i++) {
      for (const xor of [0x01, 0x20]) {
        const changed = Buffer.from(note);
        changed[i] ^= xor;
        expect(() => openNote(changed.toString('utf8'), signer), `byte ${i} ^ ${xor}`).toThrow(SignedNoteError);
      }
    }
  });

  it('property: any text without blank lines round-trips; a note with another signer is refused', () => {
    const other = signerFromSeed('votestream/test', ed25519Seed(generateKeyPairSync('ed25519').privateKey));
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^[a-z0-9 /+=.—-]{1,30}$/), { minLength: 1, maxLength: 5 }), (lines) => {
        const text = `${lines.join('\n')}\n`;
        expect(openNote(signNote(text, signer), signer)).toBe(text);
        expect(() => openNote(signNote(text, other), signer)).toThrow(/not signed by/);
      }),
      { numRuns: 100 },
    );
  });

  it('refuses malformed vkeys, notes and checkpoints', () => {
    const vkey = encodeVerifierKey(signer);
    expect(() => parseVerifierKey(vkey.replace(/\+([0-9a-f]{8})\+/, '+00000000+'))).toThrow(/does not match/);
    expect(() => parseVerifierKey('name+abc')).toThrow(SignedNoteError);
    expect(() => signNote('no newline', signer)).toThrow(/end with a newline/);
    expect(() => signNote('a\n\nb\n', signer)).toThrow(/blank line/);
    expect(() => parseCheckpoint('o\n01\nAAAA\n')).toThrow(SignedNoteError);
    expect(() => checkpointText({ origin: 'with space', treeSize: 1, root: Buffer.alloc(32) })).toThrow(SignedNoteError);
  });
});

describe('signing key files', () => {
  it('creates a 0600 private key and a vkey; loads it back; never replaces it', () => {
    const dir = tempDir();
    const keys = createSigningKeys(dir, 'prod');
    expect(statSync(keys.privateKeyFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(keys.publicKeyFile, 'utf8')).toBe(`${keys.vkey}\n`);
    expect(keys.vkey.startsWith('votestream/prod+')).toBe(true);
    const loaded = loadSigner(keys.privateKeyFile);
    expect(encodeVerifierKey(loaded)).toBe(keys.vkey);
    expect(openNote(signNote(checkpoint, loaded), parseVerifierKey(keys.vkey))).toBe(checkpoint);
    expect(keys.publicKeyFile).toBe(join(dir, 'signing.vkey'));
    expect(() => createSigningKeys(dir, 'prod')).toThrow(/refusing to replace/);
    expect(createSigningKeys(dir, 'prod', 'other.key').publicKeyFile).toBe(join(dir, 'other.vkey'));
    chmodSync(keys.privateKeyFile, 0o644);
    expect(() => loadSigner(keys.privateKeyFile)).toThrow(SigningKeyError);
    expect(() => loadSigner(join(dir, 'missing.key'))).toThrow(/audit keys/);
  });
});
