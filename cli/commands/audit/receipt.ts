import type { CommandModule } from 'yargs';
import { ConfigError } from '../../../runtime/errors.js';
import type { GlobalArgs } from '../../context.js';

// Placeholder until the subcommand is built (issue 12).
export const receiptCommand: CommandModule<GlobalArgs, GlobalArgs> = {
  command: 'receipt',
  describe: 'not built yet',
  handler: async () => {
    throw new ConfigError('audit receipt is not built yet');
  },
};
