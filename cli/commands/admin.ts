import { readFile } from 'node:fs/promises';
import type { Argv, CommandModule } from 'yargs';
import { dynamoClient } from '../../infra/dynamo-client.js';
import { ConfigError, ServiceUnavailableError } from '../../runtime/errors.js';
import { createKafkaDriver } from '../../runtime/kafka/create-driver.js';
import { createLogger } from '../../runtime/logger.js';
import { createMetricsRegistry } from '../../runtime/metrics.js';
import { loadAdminToken } from '../../voting/admin/admin-token.js';
import { startAdmin } from '../../voting/admin/admin-service.js';
import { VotestreamError } from '../../statestores/votestream-error.js';
import type { Election } from '../../voting/election.js';
import type { VotingErrorCode } from '../../voting/error-codes.js';
import { commandContext, type GlobalArgs } from '../context.js';
import { parseTtl } from './token.js';

interface AdminClientArgs extends GlobalArgs {
  url: string;
  adminTokenFile?: string;
  json: boolean;
}

interface ElectionArgs extends AdminClientArgs {
  id?: string;
  file?: string;
  title?: string;
  candidate?: string[];
  region?: string[];
  opensAt?: string;
  closesAt?: string;
}

/** An instant: epoch milliseconds, an ISO 8601 date, or `+<ttl>` from now (`+30m`, `+2h`). */
export function parseInstant(text: string, nowMs = Date.now()): number {
  if (/^\d+$/.test(text)) return Number(text);
  if (text.startsWith('+')) return nowMs + parseTtl(text.slice(1)) * 1000;
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new ConfigError(`"${text}" is not an instant: give epoch ms, an ISO date, or +30m / +2h`);
  return ms;
}

function candidates(specs: readonly string[] | undefined): Array<{ id: string; name: string }> | undefined {
  return specs?.map((s) => {
    const eq = s.indexOf('=');
    return eq < 0 ? { id: s, name: s } : { id: s.slice(0, eq), name: s.slice(eq + 1) };
  });
}

function fields(argv: ElectionArgs): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (argv.title !== undefined) out.title = argv.title;
  const c = candidates(argv.candidate);
  if (c !== undefined) out.candidates = c;
  if (argv.region !== undefined) out.regions = argv.region;
  if (argv.opensAt !== undefined) out.opensAt = parseInstant(argv.opensAt);
  if (argv.closesAt !== undefined) out.closesAt = parseInstant(argv.closesAt);
  return out;
}

/** A failed admin call, with the API's own error code and message. */
class AdminApiError extends VotestreamError<VotingErrorCode> {
  constructor(status: number, error: string, message: string) {
    super(status === 409 ? 'ELECTION_CONFLICT' : status === 404 ? 'ELECTION_NOT_FOUND' : 'ELECTION_INVALID', `admin API ${status} ${error}: ${message}`);
  }
}

async function call(argv: AdminClientArgs, method: string, path: string, body?: unknown): Promise<unknown> {
  const token = await loadAdminToken(argv.adminTokenFile);
  let res: Response;
  try {
    res = await fetch(`${argv.url.replace(/\/$/, '')}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (error) {
    throw new ServiceUnavailableError(`cannot reach the admin at ${argv.url} (is \`votestream admin serve\` running?)`, { cause: error });
  }
  const json = (await res.json().catch(() => ({}))) as { error?: string; message?: string };
  if (res.status === 401) throw new ConfigError('the admin refused the token (401): check --admin-token-file / VOTESTREAM_ADMIN_TOKEN');
  if (res.status === 503) throw new ServiceUnavailableError(`admin: ${json.message ?? 'unavailable'}`);
  if (!res.ok) throw new AdminApiError(res.status, json.error ?? String(res.status), json.message ?? '');
  return json;
}

function show(argv: AdminClientArgs, result: unknown, line: (r: never) => string): void {
  process.stdout.write(argv.json ? `${JSON.stringify(result, null, 2)}\n` : `${line(result as never)}\n`);
}

const when = (ms: number): string => (ms >= Number.MAX_SAFE_INTEGER - 1 ? 'not set' : new Date(ms).toISOString());
const summary = (e: Election): string =>
  `${e.electionId} v${e.version}  "${e.title}"  ${e.candidates.length} candidates  window ${when(e.opensAt)} .. ${when(e.closesAt)}`;

const needId = (argv: ElectionArgs): string => {
  if (argv.id === undefined) throw new ConfigError('--id is required');
  return encodeURIComponent(argv.id);
};

function electionCommand(name: string, describe: string, run: (argv: ElectionArgs) => Promise<void>): CommandModule<GlobalArgs, ElectionArgs> {
  return {
    command: name,
    describe,
    builder: (y: Argv<GlobalArgs>) =>
      y
        .option('url', { type: 'string', default: 'http://127.0.0.1:8082' })
        .option('admin-token-file', { type: 'string', describe: 'else env VOTESTREAM_ADMIN_TOKEN' })
        .option('json', { type: 'boolean', default: false })
        .option('id', { type: 'string', describe: 'election id' })
        .option('file', { type: 'string', describe: 'JSON file with the election (create) or the changes (edit)' })
        .option('title', { type: 'string' })
        .option('candidate', { type: 'string', array: true, describe: 'id=Name, repeatable' })
        .option('region', { type: 'string', array: true })
        .option('opens-at', { type: 'string', describe: 'epoch ms, ISO date, or +30m' })
        .option('closes-at', { type: 'string', describe: 'epoch ms, ISO date, or +2h' }) as unknown as Argv<ElectionArgs>,
    handler: run,
  };
}

const fromFileOr = async (argv: ElectionArgs, extra: Record<string, unknown>): Promise<Record<string, unknown>> =>
  argv.file === undefined ? extra : { ...(JSON.parse(await readFile(argv.file, 'utf8')) as Record<string, unknown>), ...extra };

const electionCommands = [
  electionCommand('create', 'create an election (a draft unless --opens-at/--closes-at are given)', async (argv) => {
    const body = await fromFileOr(argv, { ...(argv.id === undefined ? {} : { electionId: argv.id }), ...fields(argv) });
    show(argv, await call(argv, 'POST', '/v1/admin/elections', body), summary);
  }),
  electionCommand('edit', 'change an election: a new version, effective from now on', async (argv) => {
    show(argv, await call(argv, 'PATCH', `/v1/admin/elections/${needId(argv)}`, await fromFileOr(argv, fields(argv))), summary);
  }),
  electionCommand('open', 'open voting now (until --closes-at, or the end already set)', async (argv) => {
    const body = argv.closesAt === undefined ? {} : { closesAt: parseInstant(argv.closesAt) };
    show(argv, await call(argv, 'POST', `/v1/admin/elections/${needId(argv)}/open`, body), summary);
  }),
  electionCommand('close', 'close voting now (never retroactively)', async (argv) => {
    show(argv, await call(argv, 'POST', `/v1/admin/elections/${needId(argv)}/close`), summary);
  }),
  electionCommand('list', 'list elections (latest versions)', async (argv) => {
    show(argv, await call(argv, 'GET', '/v1/admin/elections'), (r: { elections: Election[] }) => r.elections.map(summary).join('\n') || '(no elections)');
  }),
  electionCommand('show', 'show an election and its versions', async (argv) => {
    show(argv, await call(argv, 'GET', `/v1/admin/elections/${needId(argv)}`), (r: { current: Election; versions: Election[] }) =>
      [summary(r.current), ...r.current.candidates.map((c) => `  ${c.id}  ${c.name}`), `  ${r.versions.length} versions`].join('\n'),
    );
  }),
];

interface ServeArgs extends GlobalArgs {
  port: number;
  host: string;
  adminTokenFile?: string;
}

const serve: CommandModule<GlobalArgs, ServeArgs> = {
  command: 'serve',
  describe: 'run the elections admin API (127.0.0.1:8082 by default, admin bearer token)',
  builder: (y: Argv<GlobalArgs>) =>
    y
      .option('port', { type: 'number', default: 8082 })
      .option('host', { type: 'string', default: '127.0.0.1' })
      .option('admin-token-file', { type: 'string', describe: 'else env VOTESTREAM_ADMIN_TOKEN' }) as unknown as Argv<ServeArgs>,
  handler: async (argv) => {
    const ctx = commandContext(argv);
    const logger = createLogger({ level: ctx.config.logLevel, name: 'votestream-admin' });
    const running = await startAdmin({
      driver: createKafkaDriver(ctx.config.driver, { brokers: ctx.config.brokers, clientId: 'votestream-admin' }),
      dynamodb: dynamoClient(ctx.config.dynamodbEndpoint),
      logger,
      registry: createMetricsRegistry({ role: 'admin' }),
      token: await loadAdminToken(argv.adminTokenFile),
      host: argv.host,
      port: argv.port,
      prefix: ctx.config.topicPrefix,
    });
    process.stdout.write(`admin listening on http://${argv.host}:${running.port}/v1/admin/elections (${running.reconciled} versions republished)\n`);
    const stop = (): void => void running.close().then(() => process.exit(0));
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    await new Promise<never>(() => undefined);
  },
};

export const adminCommand: CommandModule<GlobalArgs, GlobalArgs> = {
  command: 'admin <command>',
  describe: 'elections admin: serve the API, or manage elections through it',
  builder: (y) =>
    y
      .command(serve)
      .command({
        command: 'election <command>',
        describe: 'create | edit | open | close | list | show',
        builder: (e) => electionCommands.reduce((acc, c) => acc.command(c), e).demandCommand(1),
        handler: () => undefined,
      })
      .demandCommand(1),
  handler: () => undefined,
};
