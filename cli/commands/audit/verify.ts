import type { Argv, CommandModule } from 'yargs';
import { z } from 'zod';
import { ConfigError } from '../../../runtime/errors.js';
import { createProgress } from '../../../runtime/progress.js';
import { AuditDiscrepancyError, formatVerifyReport } from '../../../voting/audit/audit-report.js';
import { verifyElection } from '../../../voting/audit/verify-chains.js';
import { openAuditSources } from '../../../voting/audit/verify-sources.js';
import { idSchema, MAX_ELECTION_ID_LENGTH } from '../../../voting/vote.js';
import { commandContext, type GlobalArgs } from '../../context.js';

/** The options `audit verify` and `audit invariants` share. */
export interface AuditArgs extends GlobalArgs {
  election: string;
  json: boolean;
  concurrency: number;
}

const auditArgsSchema = z.object({
  election: idSchema(MAX_ELECTION_ID_LENGTH),
  concurrency: z.int().min(1).max(64),
});

export function auditOptions(y: Argv<GlobalArgs>): Argv<AuditArgs> {
  return y
    .option('election', { type: 'string', demandOption: true, describe: 'the election id' })
    .option('json', { type: 'boolean', default: false, describe: 'print the report as JSON (every finding, every voteId)' })
    .option('concurrency', { type: 'number', default: 4, describe: 'DynamoDB chain Queries in flight' })
    .epilog('Exit codes: 0 clean, 7 a discrepancy (the report names it), 4 a service does not answer, 2 bad usage.') as unknown as Argv<AuditArgs>;
}

/** Validated at the edge: an id the contract allows and a sane concurrency. */
export function parseAuditArgs(argv: AuditArgs): { election: string; concurrency: number } {
  const parsed = auditArgsSchema.safeParse({ election: argv.election, concurrency: argv.concurrency });
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; '));
  return parsed.data;
}

export const verifyCommand: CommandModule<GlobalArgs, AuditArgs> = {
  command: 'verify',
  describe: "verify an election's vote log: every hash, seq, prevHash and head of its DynamoDB chains, no voter twice, every vote valid; counts against Redis, voteIds against votes-accepted",
  builder: auditOptions,
  handler: async (argv) => {
    const ctx = commandContext(argv);
    const { election, concurrency } = parseAuditArgs(argv);
    const progress = createProgress(`audit verify ${election}`, 0, { unit: 'votes' });
    const sources = await openAuditSources({ ...ctx.config }, ctx.log, { concurrency, progress });
    try {
      const report = await verifyElection(sources, election);
      progress.stop();
      ctx.log.info({ electionId: election, votes: report.votes, findings: report.findings.length, elapsedMs: report.elapsedMs }, 'audit verify: done');
      process.stdout.write(argv.json ? `${JSON.stringify(report)}\n` : formatVerifyReport(report));
      if (!report.ok) throw new AuditDiscrepancyError(`audit verify: ${report.findings.length} discrepanc${report.findings.length === 1 ? 'y' : 'ies'} in election ${election}`);
    } finally {
      progress.stop();
      await sources.close();
    }
  },
};
