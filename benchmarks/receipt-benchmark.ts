/**
 * Receipt size and offline verification time for an election of `--votes` votes (issue 12,
 * "Measure"): the trees are built from synthetic vote hashes over `--chains` chains (no DynamoDB;
 * only the sampled votes are real, hashed from their fields, so their receipts check end to end),
 * the checkpoint is signed with a fresh Ed25519 key, and each sampled receipt is serialized and
 * checked `--rounds` times (JSON parse, canonical form, signature, vote hash, both proofs).
 * Prints JSON: tree build time, receipt bytes and proof lengths, verification time percentiles.
 *
 *   npm run build && node dist/benchmarks/receipt-benchmark.js --votes 1000000 --chains 12 [--write-receipt /tmp/r.json]
 *   time node dist/cli/main.js audit check-receipt /tmp/r.json --key /tmp/r.json.vkey   (the CLI, process start included)
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { leafHash, MerkleTree } from '../voting/audit/merkle.js';
import { signOfficialResult } from '../voting/audit/official-result.js';
import { receiptOf } from '../voting/audit/receipt-index.js';
import { checkReceipt, serializeReceipt } from '../voting/audit/receipt.js';
import { ed25519Seed, encodeVerifierKey, signerFromSeed } from '../voting/audit/signed-note.js';
import { electionRoot, voteHash, type ChainLink } from '../voting/hash-chain.js';
import { ConfigError } from '../runtime/errors.js';

interface Options {
  readonly votes: number;
  readonly chains: number;
  readonly samples: number;
  readonly rounds: number;
  /** Also write the first receipt here and the verifier key beside it (PATH.vkey), to time the CLI. */
  readonly writeReceipt?: string;
}

function options(argv: string[]): Options {
  const { values } = parseArgs({ args: argv, options: { votes: { type: 'string', default: '1000000' }, chains: { type: 'string', default: '12' }, samples: { type: 'string', default: '24' }, rounds: { type: 'string', default: '200' }, 'write-receipt': { type: 'string' } } });
  const int = (name: string, text: string, min: number): number => {
    const n = Number(text);
    if (!Number.isSafeInteger(n) || n < min) throw new ConfigError(`--${name} must be an integer >= ${min}, got ${text}`);
    return n;
  };
  const o = { votes: int('votes', values.votes, 1), chains: int('chains', values.chains, 1), samples: int('samples', values.samples, 1), rounds: int('rounds', values.rounds, 1), writeReceipt: values['write-receipt'] };
  if (o.chains > 1000 || o.chains > o.votes) throw new ConfigError('--chains must be in 1..min(1000, votes)');
  return o;
}

/** A real vote at (partition, seq), hashed from its fields; its prevHash is synthetic like its neighbours. */
function realVote(electionId: string, partition: number, seq: number): ChainLink {
  const fields = { prevHash: randomBytes(32).toString('hex'), electionId, partition, seq, voteId: `00000000-0000-4000-8000-${String(partition * 1e6 + seq).padStart(12, '0')}`, voterId: `u${partition}-${seq}`, candidateId: 'c3', region: 'SP', ts: 1_763_800_000_000 + seq };
  return { ...fields, hash: voteHash(fields) };
}

const percentile = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const round = (n: number, digits = 3): number => Number(n.toFixed(digits));

export function runReceiptBenchmark(o: Options): Record<string, unknown> {
  const electionId = 'bench';
  const sizes = Array.from({ length: o.chains }, (_, i) => Math.floor(o.votes / o.chains) + (i < o.votes % o.chains ? 1 : 0));
  // Sampled votes: spread over chains and positions (first, last, and between).
  const sampled = Array.from({ length: o.samples }, (_, i) => {
    const chainIndex = i % o.chains;
    const seq = 1 + Math.floor(((i * 7919) % 1000) / 1000 * sizes[chainIndex]);
    return { chainIndex, vote: realVote(electionId, chainIndex, Math.min(seq, sizes[chainIndex])) };
  });
  const built = performance.now();
  const trees = sizes.map((size, chainIndex) => {
    const leaves = randomBytes(size * 32);
    for (const s of sampled) if (s.chainIndex === chainIndex) leafHash(Buffer.from(s.vote.hash, 'hex')).copy(leaves, (s.vote.seq - 1) * 32);
    return MerkleTree.fromLeafHashes(leaves);
  });
  const chains = trees.map((t, partition) => ({ partition, size: t.size, root: t.root().toString('hex') }));
  const electionTree = MerkleTree.fromEntries(chains.map((c) => Buffer.from(c.root, 'hex')));
  const buildMs = performance.now() - built;
  const signer = signerFromSeed('votestream/bench', ed25519Seed(generateKeyPairSync('ed25519').privateKey));
  const official = signOfficialResult({ electionId, total: o.votes, counts: {}, regions: {}, chains, root: electionRoot(chains), verifiedAt: Date.now() }, signer, 'bench');
  const texts = sampled.map((s) => serializeReceipt(receiptOf({ official, chainIndex: s.chainIndex, chainTree: trees[s.chainIndex], electionTree, vote: s.vote })));
  const bytes = texts.map((t) => Buffer.byteLength(t)).sort((a, b) => a - b);
  const times: number[] = [];
  for (let r = 0; r < o.rounds; r++) {
    for (const text of texts) {
      const t0 = performance.now();
      checkReceipt(text, signer);
      times.push(performance.now() - t0);
    }
  }
  times.sort((a, b) => a - b);
  if (o.writeReceipt !== undefined) {
    writeFileSync(o.writeReceipt, texts[0]);
    writeFileSync(`${o.writeReceipt}.vkey`, `${encodeVerifierKey(signer)}\n`);
  }
  const first = JSON.parse(texts[0]) as { voteProof: string[]; chainProof: string[] };
  return {
    votes: o.votes,
    chains: o.chains,
    treeBuildMs: round(buildMs, 1),
    receiptBytes: { min: bytes[0], median: percentile(bytes, 0.5), max: bytes.at(-1) },
    proofHashes: { vote: first.voteProof.length, chain: first.chainProof.length },
    checks: times.length,
    verifyMs: { p50: round(percentile(times, 0.5)), p99: round(percentile(times, 0.99)), max: round(times.at(-1)!) },
    rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.stdout.write(`${JSON.stringify(runReceiptBenchmark(options(process.argv.slice(2))))}\n`);
}
