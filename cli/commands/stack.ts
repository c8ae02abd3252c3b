import { createReadStream, existsSync, statSync, watchFile } from 'node:fs';
import type { Argv, CommandModule } from 'yargs';
import { stackConfig } from '../../infra/stack-config.js';
import { SERVICE_NAMES, stackDown, stackLogFiles, stackStatus, stackUp, tailFile, type ServiceName } from '../../infra/stack.js';
import { commandContext, type GlobalArgs } from '../context.js';

interface StackArgs extends GlobalArgs {
  action: 'up' | 'down' | 'status' | 'logs';
  dataDir?: string;
  json: boolean;
  persist: boolean;
  service?: ServiceName;
  lines: number;
  follow: boolean;
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
      .option('service', { choices: SERVICE_NAMES, describe: 'logs: only this service' })
      .option('lines', { type: 'number', default: 40, describe: 'logs: how many lines of each log' })
      .option('follow', { alias: 'f', type: 'boolean', default: false, describe: 'logs: keep printing new lines' })
      .example('$0 stack up', 'start Kafka, Redis and DynamoDB Local, or reuse what runs')
      .example('$0 stack status --json', 'health of each service as JSON') as Argv<StackArgs>,
  handler: async (argv) => {
    const ctx = commandContext(argv);
    const config = stackConfig({ dataDir: argv.dataDir, persist: argv.persist });
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
        print(argv.json, status, lines.join('\n'));
        if (!Object.values(status).every((s) => s.healthy)) process.exitCode = 1;
        return;
      }
      case 'logs': {
        const files = stackLogFiles(config);
        const names = argv.service !== undefined ? [argv.service] : SERVICE_NAMES;
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
