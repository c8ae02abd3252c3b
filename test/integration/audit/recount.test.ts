import { spawnSync } from 'node:child_process';
import { createPublicKey, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../runtime/logger.js';
import { createMetricsRegistry } from '../../../runtime/metrics.js';
import { OfficialConflictError, publishOfficial, readOfficial, signOfficialResult, type OfficialResult } from '../../../voting/audit/official-result.js';
import { ElectionReceipts } from '../../../voting/audit/receipt-index.js';
import { checkReceipt, ReceiptInvalidError, serializeReceipt } from '../../../voting/audit/receipt.js';
import { recountElection, type Recount } from '../../../voting/audit/recount.js';
import { parseVerifierKey } from '../../../voting/audit/signed-note.js';
import { deploymentName, loadSigner } from '../../../voting/audit/signing-key.js';
import { startFeed, type RunningFeed } from '../../../voting/feed/feed.js';
import { chainPk, voteSk } from '../../../voting/hash-chain.js';
import { countsKey, officialKey, regionsKey, updatesChannel } from '../../../voting/redis-keys.js';
import { cliEnv, runCli, runCliAsync } from '../../support/cli.js';
import { expectedFor, killWorker, makeVotes, produceVotes, redisKeyPrefix, runWorker, setupPipeline, stopWorkerCleanly, waitForChains, waitForTotal, type Pipeline } from '../../support/scenario.js';
import { waitUntil } from '../../support/poll.js';
import { services } from '../../support/services.js';

/**
 * Issue 12, the official result: a real pipeline run, then the recount from DynamoDB alone, its
 * signed checkpoint (checked by a second implementation), publishing (once), receipts (offline
 * checks, tampering), the feed's receipt and key routes, and the CLI end to end.
 */
describe('audit recount, official result and receipts', () => {
  let p: Pipeline;
  let redis: Redis;
  let keyDir: string;
  let electionId: string;
  let recount: Recount;
  let official: OfficialResult;
  const keyPrefix = () => redisKeyPrefix(p);
  const env = () => cliEnv({ brokers: p.brokers, redis: services().redis, dynamodbEndpoint: p.dynamodbEndpoint, prefix: p.prefix });

  beforeAll(async () => {
    // Two elections: the second is never published (the feed's 404 before official, and tampering).
    p = await setupPipeline('recount', 2);
    redis = new Redis(services().redis);
    keyDir = mkdtempSync(join(tmpdir(), 'vs-keys-'));
    electionId = p.elections[0].electionId;
    const set = makeVotes(p, 900, 12);
    await produceVotes(p, set.votes);
    // A crash half-way (SIGKILL after some votes are counted), then a worker that finishes the run.
    const crashing = await runWorker(p, { redisUrl: services().redis });
    await waitUntil(async () => Number((await redis.hget(countsKey(electionId, keyPrefix()), '_total')) ?? 0) > 0, 'some votes counted', { timeoutMs: 60_000, intervalMs: 20 });
    await killWorker(crashing);
    const worker = await runWorker(p, { redisUrl: services().redis });
    for (const e of p.elections) {
      const { total } = expectedFor(set, e.electionId);
      await waitForTotal(redis, e.electionId, total, 90_000, keyPrefix());
      await waitForChains(p, e.electionId, total);
    }
    await stopWorkerCleanly(worker);
  });

  afterAll(async () => {
    await redis?.quit();
    rmSync(keyDir, { recursive: true, force: true });
    await p?.cleanup();
  });

  it('`audit keys` makes the key pair once and prints only the verifier key', () => {
    const made = runCli(['audit', 'keys', '--out', keyDir, '--deployment', 'itest'], env());
    expect(made.status, made.stderr).toBe(0);
    const vkey = made.stdout.trim();
    expect(vkey).toBe(readFileSync(join(keyDir, 'signing.vkey'), 'utf8').trim());
    expect(parseVerifierKey(vkey).name).toBe('votestream/itest');
    const privateLine = readFileSync(join(keyDir, 'signing.key'), 'utf8').trim();
    expect(made.stdout + made.stderr).not.toContain(privateLine.split('+').at(-1));
    const again = runCli(['audit', 'keys', '--out', keyDir], env());
    expect(again.status).toBe(2);
    expect(again.stderr).toContain('refusing to replace a signing key');
  });

  it('the recount from DynamoDB alone equals the live Redis counts exactly', async () => {
    recount = await recountElection({ dynamodb: p.dynamodb, table: p.table, electionId });
    const live = await redis.hgetall(countsKey(electionId, keyPrefix()));
    const liveRegions = await redis.hgetall(regionsKey(electionId, keyPrefix()));
    const { _total: liveTotal, ...liveCounts } = live;
    expect(recount.total).toBe(Number(liveTotal));
    expect(recount.counts).toEqual(Object.fromEntries(Object.entries(liveCounts).map(([c, n]) => [c, Number(n)])));
    const flatRegions = Object.fromEntries(Object.entries(recount.regions).flatMap(([r, byC]) => Object.entries(byC).map(([c, n]) => [`${r}:${c}`, String(n)])));
    expect(flatRegions).toEqual(liveRegions);
    expect(recount.chains.reduce((n, c) => n + c.size, 0)).toBe(recount.total);
    expect(recount.chains.length).toBeGreaterThan(1);
  });

  it('the checkpoint is signed in C2SP form and verifies with a second implementation (crypto.verify on raw key bytes, openssl)', () => {
    const signer = loadSigner(join(keyDir, 'signing.key'));
    official = signOfficialResult(recount, signer, deploymentName(undefined, { signer }));
    const [origin, size, root, blank, sigLine] = official.checkpoint.split('\n');
    expect([origin, size, root, blank]).toEqual([`votestream/itest/${electionId}`, String(recount.total), Buffer.from(recount.root, 'hex').toString('base64'), '']);
    expect(sigLine.startsWith('\u2014 votestream/itest ')).toBe(true);
    const body = `${origin}\n${size}\n${root}\n`;
    const signature = Buffer.from(sigLine.split(' ')[2], 'base64').subarray(4);
    const raw = Buffer.from(official.vkey.split('+').slice(2).join('+'), 'base64').subarray(1);
    const publicKey = createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), raw]), format: 'der', type: 'spki' });
    expect(verify(null, Buffer.from(body), publicKey, signature)).toBe(true);
    if (spawnSync('openssl', ['version']).status === 0) {
      writeFileSync(join(keyDir, 'pub.pem'), publicKey.export({ format: 'pem', type: 'spki' }));
      writeFileSync(join(keyDir, 'body'), body);
      writeFileSync(join(keyDir, 'sig'), signature);
      const r = spawnSync('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', join(keyDir, 'pub.pem'), '-rawin', '-in', join(keyDir, 'body'), '-sigfile', join(keyDir, 'sig')], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
    }
  });

  it('publishing writes exactly the documented Redis fields and tells the feed; republishing is idempotent; a different result is refused', async () => {
    const listener = new Redis(services().redis);
    const messages: string[] = [];
    listener.on('message', (_channel: string, message: string) => messages.push(message));
    await listener.subscribe(updatesChannel(electionId, keyPrefix()));
    try {
      const first = await publishOfficial({ dynamodb: p.dynamodb, table: p.table, redis, prefix: keyPrefix(), result: official });
      expect(first.outcome).toBe('published');
      const hash = await redis.hgetall(officialKey(electionId, keyPrefix()));
      expect(hash).toEqual({
        ...Object.fromEntries(Object.entries(recount.counts).map(([c, n]) => [c, String(n)])),
        _total: String(recount.total),
        _verifiedAt: String(official.verifiedAt),
        _root: recount.root,
        _checkpoint: official.checkpoint,
      });
      expect(await readOfficial(p.dynamodb, p.table, electionId)).toEqual(official);
      await expect.poll(() => messages.length).toBeGreaterThan(0);

      // The same result recounted later: unchanged, and the stored one (its verifiedAt) stays.
      const later = { ...official, verifiedAt: official.verifiedAt + 60_000 };
      const second = await publishOfficial({ dynamodb: p.dynamodb, table: p.table, redis, prefix: keyPrefix(), result: later });
      expect(second).toEqual({ outcome: 'unchanged', result: official });
      expect(await redis.hgetall(officialKey(electionId, keyPrefix()))).toEqual(hash);

      const [someone] = Object.keys(official.counts);
      const other = { ...official, counts: { ...official.counts, [someone]: official.counts[someone] + 1 } };
      await expect(publishOfficial({ dynamodb: p.dynamodb, table: p.table, redis, prefix: keyPrefix(), result: other })).rejects.toThrow(OfficialConflictError);
      await expect(publishOfficial({ dynamodb: p.dynamodb, table: p.table, redis, prefix: keyPrefix(), result: other })).rejects.toThrow(/same tree but other counts/);
      expect(await redis.hgetall(officialKey(electionId, keyPrefix()))).toEqual(hash);
    } finally {
      await listener.quit();
    }
  });

  it('receipts verify offline, and fail after any single byte of them or of the checkpoint changes', async () => {
    const receipts = await ElectionReceipts.load({ dynamodb: p.dynamodb, table: p.table, official });
    const verifier = parseVerifierKey(official.vkey);
    const { votes } = await import('../../../voting/vote-chain.js').then(async (m) => m.readChain(p.dynamodb, p.table, electionId, official.chains[0].partition));
    const sample = [votes[0], votes[Math.floor(votes.length / 2)], votes.at(-1)!];
    for (const vote of sample) {
      const receipt = await receipts.receipt(vote.voteId);
      expect(receipt?.vote.hash).toBe(vote.hash);
      expect(checkReceipt(serializeReceipt(receipt!), verifier).voteId).toBe(vote.voteId);
    }
    expect(await receipts.receipt('no-such-vote')).toBeUndefined();

    const bytes = Buffer.from(serializeReceipt((await receipts.receipt(sample[1].voteId))!), 'utf8');
    const checkpointAt = bytes.indexOf('"checkpoint"');
    // Every byte of the checkpoint, and every 3rd byte of the rest.
    const positions = [...bytes.keys()].filter((i) => i >= checkpointAt || i % 3 === 0);
    for (const i of positions) {
      const changed = Buffer.from(bytes);
      changed[i] ^= 0x02;
      expect(() => checkReceipt(changed, verifier), `byte ${i}`).toThrow(ReceiptInvalidError);
    }
  });

  it('the feed serves a receipt once official (404 for an unknown vote or election) and the verifier key', async () => {
    let feed: RunningFeed | undefined;
    try {
      feed = await startFeed({
        driver: p.driver,
        logger: createLogger({ level: 'silent' }),
        registry: createMetricsRegistry(),
        config: { host: '127.0.0.1', port: 0, prefix: p.prefix, redis: services().redis, dynamodbEndpoint: p.dynamodbEndpoint, signingPublicKeyFile: join(keyDir, 'signing.vkey') },
      });
      const base = `http://127.0.0.1:${feed.port}`;
      expect(await (await fetch(`${base}/v1/keys`)).json()).toEqual({ keys: [official.vkey] });
      const { votes } = await import('../../../voting/vote-chain.js').then((m) => m.readChain(p.dynamodb, p.table, electionId, official.chains.at(-1)!.partition));
      const answer = await fetch(`${base}/v1/elections/${electionId}/receipts/${votes[2].voteId}`);
      expect(answer.status).toBe(200);
      const text = await answer.text();
      expect(checkReceipt(text, parseVerifierKey(official.vkey)).voteId).toBe(votes[2].voteId);
      const unknown = await fetch(`${base}/v1/elections/${electionId}/receipts/nope`);
      expect(unknown.status).toBe(404);
      expect(await unknown.json()).toMatchObject({ error: 'unknown-vote' });
      expect((await fetch(`${base}/v1/elections/nope/receipts/x`)).status).toBe(404);
      const notYet = await fetch(`${base}/v1/elections/${p.elections[1].electionId}/receipts/${votes[2].voteId}`);
      expect(notYet.status).toBe(404);
      expect(await notYet.json()).toMatchObject({ error: 'not-official' });
      // The live snapshot shows the official result.
      const results = (await (await fetch(`${base}/v1/elections/${electionId}/results`)).json()) as { official?: { total: number; root: string; checkpoint: string } };
      expect(results.official).toMatchObject({ total: official.total, root: official.root, checkpoint: official.checkpoint });
    } finally {
      await feed?.close();
    }
  });

  it('the CLI end to end: recount --publish (unchanged), receipt, check-receipt valid, then invalid after an edit', async () => {
    const keyFile = join(keyDir, 'signing.key');
    const rec = await runCliAsync(['audit', 'recount', '--election', electionId, '--publish', '--key-file', keyFile, '--json'], env());
    expect(rec.status, rec.stderr).toBe(0);
    const printed = JSON.parse(rec.stdout) as OfficialResult & { published: string };
    expect(printed).toEqual({ ...official, published: 'unchanged' });

    const { votes } = await import('../../../voting/vote-chain.js').then((m) => m.readChain(p.dynamodb, p.table, electionId, official.chains[1].partition));
    const file = join(keyDir, 'receipt.json');
    const made = await runCliAsync(['audit', 'receipt', '--election', electionId, '--vote', votes[0].voteId, '--out', file], env());
    expect(made.status, made.stderr).toBe(0);
    const ok = await runCliAsync(['audit', 'check-receipt', file, '--key', join(keyDir, 'signing.vkey')], cliEnv({}));
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toContain(`receipt valid: vote ${votes[0].voteId} is counted in election ${electionId} (${official.total} votes`);

    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.replace(`"candidateId": "${votes[0].candidateId}"`, `"candidateId": "${votes[0].candidateId}x"`));
    const bad = await runCliAsync(['audit', 'check-receipt', file, '--key', official.vkey], cliEnv({}));
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^votestream: the vote's fields hash to [0-9a-f]{64}, not to its hash/);

    const missing = await runCliAsync(['audit', 'receipt', '--election', electionId, '--vote', 'nope'], env());
    expect(missing.status).toBe(2);

    // The same count under another deployment's name is another result: refused, nothing replaced.
    const conflict = await runCliAsync(['audit', 'recount', '--election', electionId, '--publish', '--key-file', keyFile, '--deployment', 'elsewhere'], env());
    expect(conflict.status).toBe(1);
    expect(conflict.stderr).toContain(`votestream: election ${electionId} already has an official result`);
    expect(await readOfficial(p.dynamodb, p.table, electionId)).toEqual(official);

    // The key as the feed serves it (GET /v1/keys saved to a file) works too.
    writeFileSync(file, text);
    writeFileSync(join(keyDir, 'keys.json'), JSON.stringify({ keys: [official.vkey] }));
    const viaJson = await runCliAsync(['audit', 'check-receipt', file, '--key', join(keyDir, 'keys.json')], cliEnv({}));
    expect(viaJson.status, viaJson.stderr).toBe(0);
  });

  it('a recount over a tampered chain is refused, naming the chain and seq', async () => {
    const other = p.elections[1].electionId;
    const [chain] = (await recountElection({ dynamodb: p.dynamodb, table: p.table, electionId: other })).chains;
    const pk = chainPk(other, chain.partition);
    const sk = voteSk(2);
    await p.dynamodb.send(new UpdateItemCommand({ TableName: p.table, Key: { pk: { S: pk }, sk: { S: sk } }, UpdateExpression: 'SET candidateId = :c', ExpressionAttributeValues: { ':c': { S: 'forged' } } }));
    await expect(recountElection({ dynamodb: p.dynamodb, table: p.table, electionId: other })).rejects.toThrow(new RegExp(`^chain ${pk}: seq 2: hash is `));
    const cli = await runCliAsync(['audit', 'recount', '--election', other, '--publish', '--key-file', join(keyDir, 'signing.key')], env());
    expect(cli.status).toBe(1);
    expect(cli.stderr).toContain(`chain ${pk}: seq 2: hash`);
    expect(await readOfficial(p.dynamodb, p.table, other)).toBeUndefined();
  });
});
