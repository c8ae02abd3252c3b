import type { Argv, CommandModule } from 'yargs';
import { ConfigError } from '../../runtime/errors.js';
import { PlatformaticKafkaDriver } from '../../runtime/kafka/platformatic-driver.js';
import { createProgress } from '../../runtime/progress.js';
import { simulateVoters } from '../../voting/simulator.js';
import { commandContext, type GlobalArgs } from '../context.js';

interface SimulateArgs extends GlobalArgs {
  rate: number;
  votes: number;
  duplicates: number;
}

export const simulateCommand: CommandModule<GlobalArgs, SimulateArgs> = {
  command: 'simulate',
  describe: 'simulated voters: publish sample elections e1..e3 and send votes into `votes` at a steady rate',
  builder: (y: Argv<GlobalArgs>) =>
    y
      .option('rate', { type: 'number', default: 200, describe: 'votes per second' })
      .option('votes', { type: 'number', default: 0, describe: 'stop after this many votes (0 = until Ctrl-C)' })
      .option('duplicates', { type: 'number', default: 0.1, describe: 'share of votes repeating an earlier voter (0..1)' }) as unknown as Argv<SimulateArgs>,
  handler: async (argv) => {
    const ctx = commandContext(argv);
    if (!(argv.rate > 0)) throw new ConfigError(`--rate must be above 0, got ${argv.rate}`);
    if (!Number.isInteger(argv.votes) || argv.votes < 0) throw new ConfigError(`--votes must be an integer >= 0, got ${argv.votes}`);
    if (!(argv.duplicates >= 0 && argv.duplicates < 1)) throw new ConfigError(`--duplicates must be in [0, 1), got ${argv.duplicates}`);
    const abort = new AbortController();
    const stop = (): void => abort.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    const progress = createProgress('votes', argv.votes === 0 ? 1 : argv.votes, { unit: 'votes' });
    const sent = await simulateVoters({
      driver: new PlatformaticKafkaDriver({ brokers: ctx.config.brokers, clientId: 'votestream-simulate' }),
      prefix: ctx.config.topicPrefix,
      rate: argv.rate,
      votes: argv.votes,
      duplicateRatio: argv.duplicates,
      signal: abort.signal,
      logger: ctx.log,
      onProgress: (n) => (argv.votes === 0 ? undefined : progress.update(n)),
    });
    progress.stop();
    process.stdout.write(`${sent} votes sent\n`);
  },
};
