import type { CommandModule } from 'yargs';
import { createProgress } from '../../../runtime/progress.js';
import { AuditDiscrepancyError } from '../../../voting/audit/audit-report.js';
import { checkInvariants } from '../../../voting/audit/invariants-check.js';
import { formatInvariantsReport } from '../../../voting/audit/invariants-report.js';
import { openAuditSources } from '../../../voting/audit/verify-sources.js';
import { commandContext, type GlobalArgs } from '../../context.js';
import { auditOptions, parseAuditArgs, type AuditArgs } from './verify.js';

export const invariantsCommand: CommandModule<GlobalArgs, AuditArgs> = {
  command: 'invariants',
  describe: 'the independent check: the expected result computed from votes (first valid vote per voter) against votes-accepted, DynamoDB, Redis and the official result; lost-write, duplicate, unexpected, miscount by voteId',
  builder: auditOptions,
  handler: async (argv) => {
    const ctx = commandContext(argv);
    const { election, concurrency } = parseAuditArgs(argv);
    const progress = createProgress(`audit invariants ${election}: chains`, 0, { unit: 'votes' });
    const sources = await openAuditSources({ ...ctx.config }, ctx.log, { concurrency, progress });
    try {
      const report = await checkInvariants(sources, election);
      progress.stop();
      ctx.log.info({ electionId: election, expected: report.expected.counts, anomalies: report.anomalies.length, elapsedMs: report.elapsedMs }, 'audit invariants: done');
      process.stdout.write(argv.json ? `${JSON.stringify(report)}\n` : formatInvariantsReport(report));
      if (!report.ok) throw new AuditDiscrepancyError(`audit invariants: ${report.anomalies.length} anomal${report.anomalies.length === 1 ? 'y' : 'ies'} in election ${election}`);
    } finally {
      progress.stop();
      await sources.close();
    }
  },
};
