import { createReadStream, existsSync, statSync, watchFile } from 'node:fs';
import type { Argv, CommandModule } from 'yargs';
import { stackConfig } from '../../infra/stack-config.js';
import { resolveLayout } from '../../infra/stack-layout.js';
import { stackNodes } from '../../infra/stack-nodes.js';
import { SERVICE_NAMES, stackDown, stackLogFiles, stackNodeStatus, stackStatus, stackUp, tailFile, type ServiceName } from '../../infra/stack.js';
import { ConfigError } from '../../runtime/errors.js';
import { commandContext, type GlobalArgs } from '../context.js';

interface StackArgs extends GlobalArgs {
  action: 'up' | 'down' | 'status' | 'logs';
  dataDir?: string;
  json: boolean;
  persist: boolean;
  service?: ServiceName;
  lines: number;
  follow: boolean;
  kafkaBrokers?: number;
  redisCluster?: boolean;
}

function print(json: boolean, value: unknown, text: string): void {
  process.stdout.write(json ? `${JSON.stringify(value)}\n` : `${text}\n`);
}

export const stackCommand: CommandModule<GlobalArgs, StackArgs> = {
  command: 'stack <action>',
  describe: 'run the local stack (Kafka, Redis, DynamoDB Local) as child processes under .stack/',
  builder: (y: Argv<GlobalArgs>) =>
    y
      .positional('action', { choices: ['up', 'down', 'status', 'logs'] as const, demandOption: true, describe: 'what to do' })
      .option('data-dir', { type: 'string', describe: 'where data, logs and pid files go', default: '.stack' })
      .option('json', { type: 'boolean', default: false, describe: 'print machine-readable JSON on stdout' })
      .option('persist', { type: 'boolean', default: false, describe: 'up: keep DynamoDB Local data on disk (-dbPath) instead of in memory' })
      .option('kafka-brokers', { type: 'number', describe: 'up: KRaft nodes (each broker and controller; 3: replication factor 3, min.insync.replicas 2); default: what the data dir holds, else 1' })
      .option('redis-cluster', { type: 'boolean', describe: 'up: three Redis masters in cluster mode instead of one server; default: what the data dir holds' })
      .option('service', { choices: SERVICE_NAMES, describe: 'logs: only this service (all its nodes)' })
      .option('lines', { type: 'number', default: 40, describe: 'logs: how many lines of each log' })
      .option('follow', { alias: 'f', type: 'boolean', default: false, describe: 'logs: keep printing new lines' })
      .example('$0 stack up', 'start Kafka, Redis and DynamoDB Local, or reuse what runs')
      .example('$0 stack up --kafka-brokers 3 --redis-cluster', 'a replicated stack: three brokers, a Redis cluster of three masters')
      .example('$0 stack status --json', 'health of each service as JSON') as Argv<StackArgs>,
  handler: async (argv) => {
    const ctx = commandContext(argv);
    if (argv.action !== 'up' && (argv.kafkaBrokers !== undefined || argv.redisCluster !== undefined)) {
      throw new ConfigError('--kafka-brokers and --redis-cluster apply to `stack up`; the other actions use the layout the data dir holds');
    }
    const dataDir = argv.dataDir ?? '.stack';
    const layout = resolveLayout(dataDir, { kafkaBrokers: argv.kafkaBrokers, redisCluster: argv.redisCluster });
    const config = stackConfig({ dataDir, persist: argv.persist, ...layout });
    switch (argv.action) {
      case 'up': {
        const t0 = Date.now();
        const result = await stackUp(config, { external: ctx.external, log: (msg) => ctx.log.info(msg) });
        const lines = Object.entries(result).map(
          ([name, r]) => `${name.padEnd(9)} ${r.address.padEnd(24)} ${r.action}${r.pid !== undefined ? ` (pid ${r.pid})` : ''} in ${(r.ms / 1000).toFixed(1)}s`,
        );
        print(argv.json, { ...result, ms: Date.now() - t0 }, `${lines.join('\n')}\nstack healthy in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
        return;
      }
      case 'down': {
        const stopped = await stackDown(config);
        const lines = Object.entries(stopped).map(([name, s]) => `${name.padEnd(9)} ${s ? 'stopped' : 'was not running (from this stack)'}`);
        print(argv.json, stopped, lines.join('\n'));
        return;
      }
      case 'status': {
        const status = await stackStatus(config, { external: ctx.external });
        const lines = Object.entries(status).map(
          ([name, s]) => `${name.padEnd(9)} ${s.address.padEnd(24)} ${s.healthy ? 'healthy' : 'DOWN'}${s.managed ? ` (ours, pid ${s.pid})` : ''}`,
        );
        const replicated = config.layout.kafkaBrokers > 1 || config.layout.redisCluster;
        const nodes = replicated ? (await stackNodeStatus(config)).filter((n) => ctx.external[n.service] === undefined) : [];
        const nodeLines = nodes.map((n) => `  ${n.name.padEnd(9)} ${n.address.padEnd(24)} ${n.healthy ? 'healthy' : 'DOWN'}${n.pid !== undefined ? ` (pid ${n.pid})` : ''}`);
        print(argv.json, replicated ? { ...status, nodes } : status, [...lines, ...nodeLines].join('\n'));
        if (!Object.values(status).every((s) => s.healthy)) process.exitCode = 1;
        return;
      }
      case 'logs': {
        const files = stackLogFiles(config);
        const names = stackNodes(config).filter((n) => argv.service === undefined || n.service === argv.service).map((n) => n.name);
        for (const name of names) process.stdout.write(`==> ${files[name]} <==\n${tailFile(files[name], argv.lines)}\n`);
        if (argv.follow) await follow(names.map((n) => files[n]));
        return;
      }
    }
  },
};

function follow(files: string[]): Promise<never> {
  for (const file of files) {
    let position = existsSync(file) ? statSync(file).size : 0;
    watchFile(file, { interval: 500 }, (curr) => {
      if (curr.size <= position) return;
      createReadStream(file, { start: position, end: curr.size - 1 }).pipe(process.stdout, { end: false });
      position = curr.size;
    });
  }
  return new Promise<never>(() => undefined);
}
