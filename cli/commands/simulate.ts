import type { Argv, CommandModule } from 'yargs';
import { ConfigError } from '../../runtime/errors.js';
import { createKafkaDriver } from '../../runtime/kafka/create-driver.js';
import { createProgress } from '../../runtime/progress.js';
import { loadSigningKey } from '../../voting/gateway/token-issuer.js';
import { TOKEN_ALGORITHMS, type TokenAlgorithm } from '../../voting/gateway/token-verifier.js';
import { httpVoteSender } from '../../voting/http-voters.js';
import { simulateVoters } from '../../voting/simulator.js';
import { commandContext, type GlobalArgs } from '../context.js';

interface SimulateArgs extends GlobalArgs {
  rate: number;
  votes: number;
  duplicates: number;
  via: 'kafka' | 'http';
  gatewayUrl: string;
  tokenAlgorithm: TokenAlgorithm;
  tokenKeyFile?: string;
}

export const simulateCommand: CommandModule<GlobalArgs, SimulateArgs> = {
  command: 'simulate',
  describe: 'simulated voters: publish sample elections e1..e3 and send votes into `votes` at a steady rate',
  builder: (y: Argv<GlobalArgs>) =>
    y
      .option('rate', { type: 'number', default: 200, describe: 'votes per second' })
      .option('votes', { type: 'number', default: 0, describe: 'stop after this many votes (0 = until Ctrl-C)' })
      .option('duplicates', { type: 'number', default: 0.1, describe: 'share of votes repeating an earlier voter (0..1)' })
      .option('via', { choices: ['kafka', 'http'] as const, default: 'kafka' as const, describe: 'straight into `votes`, or through the gateway with issued tokens' })
      .option('gateway-url', { type: 'string', default: 'http://127.0.0.1:8080' })
      .option('token-algorithm', { choices: TOKEN_ALGORITHMS, default: 'HS256' as TokenAlgorithm })
      .option('token-key-file', { type: 'string', describe: '--via http: HS256 secret or private key file (else env VOTESTREAM_TOKEN_SECRET)' }) as unknown as Argv<SimulateArgs>,
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
    const http =
      argv.via === 'http'
        ? httpVoteSender({ url: argv.gatewayUrl, algorithm: argv.tokenAlgorithm, signingKey: await loadSigningKey(argv.tokenAlgorithm, argv.tokenKeyFile) })
        : undefined;
    const sent = await simulateVoters({
      ...(http === undefined ? {} : { sender: http }),
      driver: createKafkaDriver(ctx.config.driver, { brokers: ctx.config.brokers, clientId: 'votestream-simulate' }),
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
    if (http !== undefined) {
      const answers = [...http.outcomes.entries()].sort(([a], [b]) => a - b).map(([status, n]) => `${status === 0 ? 'unreachable' : status}: ${n}`);
      process.stdout.write(`gateway answers: ${answers.join(', ')}\n`);
      if (http.outcomes.size !== 1 || !http.outcomes.has(202)) process.exitCode = 1;
    }
  },
};
