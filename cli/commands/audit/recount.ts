import type { CommandModule } from 'yargs';
import { ConfigError } from '../../../runtime/errors.js';
import type { GlobalArgs } from '../../context.js';

// Placeholder until the subcommand is built (issue 12).
export const recountCommand: CommandModule<GlobalArgs, GlobalArgs> = {
  command: 'recount',
  describe: 'not built yet',
  handler: async () => {
    throw new ConfigError('audit recount is not built yet');
  },
};
