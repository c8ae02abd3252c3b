import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { chainRoot, electionRoot, GENESIS_HASH, voteHash, type ChainLink } from '../../../voting/hash-chain.js';
import { MerkleTree } from '../../../voting/audit/merkle.js';
import { signOfficialResult } from '../../../voting/audit/official-result.js';
import { receiptOf } from '../../../voting/audit/receipt-index.js';
import { checkReceipt, parseReceipt, ReceiptInvalidError, serializeReceipt } from '../../../voting/audit/receipt.js';
import { ed25519Seed, signerFromSeed } from '../../../voting/audit/signed-note.js';

const signer = signerFromSeed('votestream/unit', ed25519Seed(generateKeyPairSync('ed25519').privateKey));
const other = signerFromSeed('votestream/unit', ed25519Seed(generateKeyPairSync('ed25519').privateKey));

function chain(electionId: string, partition: number, n: number): ChainLink[] {
  const links: ChainLink[] = [];
  let prevHash = GENESIS_HASH;
  for (let seq = 1; seq <= n; seq++) {
    const fields = { prevHash, electionId, partition, seq, voteId: `v-${partition}-${seq}`, voterId: `u${partition}x${seq}`, candidateId: `c${seq % 3}`, ...(seq % 2 ? { region: 'SP' } : {}), ts: 1_763_800_000_000 + seq };
    const hash = voteHash(fields);
    links.push({ ...fields, hash });
    prevHash = hash;
  }
  return links;
}

/** An official election over chains of the given sizes (partition -> size), and its receipts. */
function election(sizes: Record<number, number>) {
  const electionId = 'e1';
  const chains = Object.entries(sizes).map(([p, n]) => chain(electionId, Number(p), n));
  const summaries = chains.map((links) => ({ partition: links[0].partition, size: links.length, root: chainRoot(links.map((l) => l.hash)) }));
  const total = summaries.reduce((n, c) => n + c.size, 0);
  const official = signOfficialResult({ electionId, total, counts: {}, regions: {}, chains: summaries, root: electionRoot(summaries), verifiedAt: 1 }, signer, 'unit');
  const electionTree = MerkleTree.fromEntries(summaries.map((c) => Buffer.from(c.root, 'hex')));
  const receipt = (chainIndex: number, seq: number) =>
    receiptOf({ official, chainIndex, electionTree, chainTree: MerkleTree.fromEntries(chains[chainIndex].map((l) => Buffer.from(l.hash, 'hex'))), vote: chains[chainIndex][seq - 1] });
  return { official, chains, receipt };
}

describe('receipts', () => {
  it('every vote of a small election has a receipt that checks offline against the checkpoint', () => {
    const e = election({ 0: 5, 3: 1, 4: 8, 11: 3 });
    expect(e.official.checkpoint.split('\n').slice(0, 2)).toEqual(['votestream/unit/e1', '17']);
    e.chains.forEach((links, i) =>
      links.forEach((l) => {
        const text = serializeReceipt(e.receipt(i, l.seq));
        expect(checkReceipt(text, signer)).toEqual({ electionId: 'e1', voteId: l.voteId, origin: 'votestream/unit/e1', treeSize: 17, root: e.official.root });
      }),
    );
  });

  it('a receipt with any single byte changed fails, every byte of it including the checkpoint', () => {
    const e = election({ 1: 6, 2: 7, 5: 2 });
    const bytes = Buffer.from(serializeReceipt(e.receipt(1, 4)), 'utf8');
    expect(parseReceipt(bytes).vote.seq).toBe(4);
    for (let i = 0; i < bytes.length; i++) {
      const changed = Buffer.from(bytes);
      changed[i] ^= i % 2 ? 0x01 : 0x04;
      expect(() => checkReceipt(changed, signer), `byte ${i}: ${JSON.stringify(bytes.subarray(Math.max(0, i - 40), i + 10).toString())}`).toThrow(ReceiptInvalidError);
    }
  });

  it('names the failure: another key, a reformatted file, a vote field, a proof, a size', () => {
    const e = election({ 0: 4, 1: 4 });
    const r = e.receipt(0, 2);
    expect(() => checkReceipt(serializeReceipt(r), other)).toThrow(/checkpoint: the note is not signed by/);
    expect(() => checkReceipt(JSON.stringify(r), signer)).toThrow(/canonical form/);
    expect(() => checkReceipt(serializeReceipt({ ...r, vote: { ...r.vote, candidateId: 'c9' } }), signer)).toThrow(/hash to/);
    expect(() => checkReceipt(serializeReceipt({ ...r, voteProof: r.voteProof.slice(1) }), signer)).toThrow(/vote proof does not fit|not to the checkpoint/);
    expect(() => checkReceipt(serializeReceipt({ ...r, chainSizes: [5, 3] }), signer)).toThrow(ReceiptInvalidError);
    expect(() => checkReceipt(serializeReceipt({ ...r, chainSizes: [4, 5] }), signer)).toThrow(/the checkpoint says 8/);
    expect(() => checkReceipt(serializeReceipt({ ...r, chainIndex: 1 }), signer)).toThrow(ReceiptInvalidError);
    expect(() => checkReceipt(serializeReceipt({ ...r, chainIndex: 2 }), signer)).toThrow(/not among the 2 chains/);
  });
});
