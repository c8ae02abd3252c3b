import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Argv, CommandModule } from 'yargs';
import { dynamoClient } from '../../../infra/dynamo-client.js';
import { ConfigError } from '../../../runtime/errors.js';
import { createProgress } from '../../../runtime/progress.js';
import { publishOfficial, signOfficialResult, type OfficialResult } from '../../../voting/audit/official-result.js';
import { recountElection } from '../../../voting/audit/recount.js';
import { deploymentName, loadSigner, SIGNING_KEY_ENV, signingKeyPath } from '../../../voting/audit/signing-key.js';
import { closeCommandRedis, commandRedis, requireTable } from '../../../voting/audit/verify-sources.js';
import { tableNames } from '../../../voting/topics.js';
import { ID_PATTERN, MAX_ELECTION_ID_LENGTH } from '../../../voting/vote.js';
import { commandContext, type GlobalArgs } from '../../context.js';

interface RecountArgs extends GlobalArgs {
  election: string;
  publish: boolean;
  keyFile?: string;
  deployment?: string;
  json: boolean;
}

/** `--election E`, checked at the edge (the audit subcommands share it). */
export function checkElectionId(election: string): string {
  if (election.length > MAX_ELECTION_ID_LENGTH || !ID_PATTERN.test(election)) {
    throw new ConfigError(`--election must be an election id (letters and digits first, then letters, digits and . _ @ + -; at most ${MAX_ELECTION_ID_LENGTH}), got ${JSON.stringify(election)}`);
  }
  return election;
}

/** A DynamoDB client on the deployment's votes table, once the table is known to exist. */
export async function openVotesTable(endpoint: string, prefix: string): Promise<{ dynamodb: DynamoDBClient; table: string }> {
  const dynamodb = dynamoClient(endpoint);
  const table = tableNames(prefix).votes;
  try {
    await requireTable(dynamodb, table);
  } catch (err) {
    dynamodb.destroy();
    throw err;
  }
  return { dynamodb, table };
}

function describeResult(r: OfficialResult): string {
  const width = Math.max(9, ...Object.keys(r.counts).map((c) => c.length));
  const lines = [`election ${r.electionId}: ${r.total} votes in ${r.chains.length} chain(s), verified at ${new Date(r.verifiedAt).toISOString()}`];
  for (const [candidate, n] of Object.entries(r.counts)) lines.push(`  ${candidate.padEnd(width)} ${n}`);
  for (const [region, byCandidate] of Object.entries(r.regions)) {
    lines.push(`  region ${region}: ${Object.entries(byCandidate).map(([c, n]) => `${c}=${n}`).join(' ')}`);
  }
  lines.push(`root ${r.root}`, 'checkpoint:', r.checkpoint.trimEnd());
  return `${lines.join('\n')}\n`;
}

/** `votestream audit recount`: the official result from DynamoDB alone, signed; with --publish, made official. */
export const recountCommand: CommandModule<GlobalArgs, RecountArgs> = {
  command: 'recount',
  describe: "recount an election from the DynamoDB vote log alone (verified as it is read) and sign its checkpoint; --publish makes it the official result",
  builder: (y: Argv<GlobalArgs>) =>
    y
      .option('election', { type: 'string', demandOption: true, describe: 'the election id' })
      .option('publish', { type: 'boolean', default: false, describe: 'write the result to DynamoDB (once; never replaced) and Redis vs:{E}:official, and tell the feed' })
      .option('key-file', { type: 'string', describe: `the signing key file (default $${SIGNING_KEY_ENV}, else .stack/keys/signing.key)` })
      .option('deployment', { type: 'string', describe: 'the deployment in the checkpoint origin votestream/<deployment>/<E> (default: the key\'s)' })
      .option('json', { type: 'boolean', default: false, describe: 'print the result as JSON' })
      .epilog('Exits non-zero without publishing when a chain does not verify or a voter appears twice, and when a different official result exists.') as unknown as Argv<RecountArgs>,
  handler: async (argv) => {
    const ctx = commandContext(argv);
    const electionId = checkElectionId(argv.election);
    // The key first: a missing key should not cost a read of the whole log.
    const signer = loadSigner(signingKeyPath(argv.keyFile));
    const deployment = deploymentName(argv.deployment, { signer });
    const { dynamodb, table } = await openVotesTable(ctx.config.dynamodbEndpoint, ctx.config.topicPrefix);
    const progress = createProgress(`recount ${electionId}`, 0, { unit: 'votes' });
    try {
      const recount = await recountElection({
        dynamodb,
        table,
        electionId,
        onProgress: (done, expected) => {
          progress.setTotal(expected);
          progress.update(done);
        },
      });
      progress.stop();
      let result = signOfficialResult(recount, signer, deployment);
      let outcome: string | undefined;
      if (argv.publish) {
        const redis = commandRedis(ctx.config.redis, 'votestream-recount', ctx.log);
        try {
          const published = await publishOfficial({ dynamodb, table, redis, prefix: ctx.config.topicPrefix, result });
          result = published.result;
          outcome = published.outcome;
        } finally {
          await closeCommandRedis(redis);
        }
      }
      if (argv.json) process.stdout.write(`${JSON.stringify({ ...result, ...(outcome === undefined ? {} : { published: outcome }) })}\n`);
      else {
        process.stdout.write(describeResult(result));
        if (outcome !== undefined) process.stdout.write(outcome === 'published' ? 'published: the official result\n' : 'published: unchanged (this result was already official)\n');
      }
    } finally {
      progress.stop();
      dynamodb.destroy();
    }
  },
};
