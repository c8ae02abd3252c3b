import type { CommandModule } from 'yargs';
import { ConfigError } from '../../../runtime/errors.js';
import type { GlobalArgs } from '../../context.js';

// Placeholder until the subcommand is built (issue 12).
export const checkReceiptCommand: CommandModule<GlobalArgs, GlobalArgs> = {
  command: 'check-receipt',
  describe: 'not built yet',
  handler: async () => {
    throw new ConfigError('audit check-receipt is not built yet');
  },
};
