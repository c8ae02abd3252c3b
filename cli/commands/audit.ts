import type { Argv, CommandModule } from 'yargs';
import type { GlobalArgs } from '../context.js';
import { checkReceiptCommand } from './audit/check-receipt.js';
import { invariantsCommand } from './audit/invariants.js';
import { keysCommand } from './audit/keys.js';
import { receiptCommand } from './audit/receipt.js';
import { recountCommand } from './audit/recount.js';
import { verifyCommand } from './audit/verify.js';

/** `votestream audit ...`: what auditors run against the vote log (DESIGN section 3). */
export const auditCommand: CommandModule<GlobalArgs, GlobalArgs> = {
  command: 'audit <command>',
  describe: 'verify the vote log, recount and publish the official result, receipts, invariants',
  builder: (y: Argv<GlobalArgs>) =>
    y
      .command(verifyCommand as CommandModule<GlobalArgs, never>)
      .command(recountCommand as CommandModule<GlobalArgs, never>)
      .command(keysCommand as CommandModule<GlobalArgs, never>)
      .command(receiptCommand as CommandModule<GlobalArgs, never>)
      .command(checkReceiptCommand as CommandModule<GlobalArgs, never>)
      .command(invariantsCommand as CommandModule<GlobalArgs, never>)
      .demandCommand(1, 'name an audit command; see votestream audit --help'),
  handler: () => undefined,
};
