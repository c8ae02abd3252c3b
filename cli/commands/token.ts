import { writeFile } from 'node:fs/promises';
import type { Argv, CommandModule } from 'yargs';
import { ConfigError } from '../../runtime/errors.js';
import { createTokenKeys, issueToken, loadSigningKey } from '../../voting/gateway/token-issuer.js';
import { TOKEN_ALGORITHMS, type TokenAlgorithm } from '../../voting/gateway/token-verifier.js';
import { ID_PATTERN } from '../../voting/vote.js';
import type { GlobalArgs } from '../context.js';

interface IssueArgs extends GlobalArgs {
  voter: string;
  election?: string;
  ttl: string;
  algorithm: TokenAlgorithm;
  secretFile?: string;
  keyFile?: string;
}

interface KeysArgs extends GlobalArgs {
  algorithm: TokenAlgorithm;
  out: string;
}

/** `1h`, `30m`, `45s`, `2d`, or plain seconds. */
export function parseTtl(text: string): number {
  const m = /^(\d+)([smhd]?)$/.exec(text.trim());
  if (m === null) throw new ConfigError(`--ttl must look like 3600, 45s, 30m, 1h or 2d, got "${text}"`);
  const seconds = Number(m[1]) * { '': 1, s: 1, m: 60, h: 3600, d: 86_400 }[m[2] as '' | 's' | 'm' | 'h' | 'd'];
  if (seconds < 1) throw new ConfigError('--ttl must be at least one second');
  return seconds;
}

const issue: CommandModule<GlobalArgs, IssueArgs> = {
  command: 'issue',
  describe: 'print a voter token (sub = voter, exp set, optional election claim)',
  builder: (y: Argv<GlobalArgs>) =>
    y
      .option('voter', { type: 'string', demandOption: true })
      .option('election', { type: 'string' })
      .option('ttl', { type: 'string', default: '1h' })
      .option('algorithm', { choices: TOKEN_ALGORITHMS, default: 'HS256' as TokenAlgorithm })
      .option('secret-file', { type: 'string', describe: 'HS256 secret (else env VOTESTREAM_TOKEN_SECRET)' })
      .option('key-file', { type: 'string', describe: 'EdDSA/ES256 private key (PKCS#8 PEM)' }) as unknown as Argv<IssueArgs>,
  handler: async (argv) => {
    if (!ID_PATTERN.test(argv.voter)) throw new ConfigError(`--voter "${argv.voter}" is not a valid voter id`);
    const key = await loadSigningKey(argv.algorithm, argv.algorithm === 'HS256' ? argv.secretFile : argv.keyFile);
    const token = await issueToken({ voterId: argv.voter, electionId: argv.election, ttlSec: parseTtl(argv.ttl), algorithm: argv.algorithm, key });
    process.stdout.write(`${token}\n`);
  },
};

const keys: CommandModule<GlobalArgs, KeysArgs> = {
  command: 'keys',
  describe: 'create a deployment\'s token secret (HS256) or key pair (EdDSA/ES256) as files, mode 0600',
  builder: (y: Argv<GlobalArgs>) =>
    y
      .option('algorithm', { choices: TOKEN_ALGORITHMS, default: 'HS256' as TokenAlgorithm })
      .option('out', { type: 'string', default: '.secrets/token', describe: 'path prefix: <out>.secret, or <out>.key and <out>.pub' }) as unknown as Argv<KeysArgs>,
  handler: async (argv) => {
    const { mkdir } = await import('node:fs/promises');
    const { dirname } = await import('node:path');
    await mkdir(dirname(argv.out), { recursive: true, mode: 0o700 });
    const made = await createTokenKeys(argv.algorithm);
    // wx: never overwrite a deployment's key by accident.
    const create = (path: string, data: string, mode: number): Promise<void> =>
      writeFile(path, data, { mode, flag: 'wx' }).catch((error: unknown) => {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new ConfigError(`${path} exists: remove it first, or choose another --out`);
        throw error;
      });
    if (made.secret !== undefined) {
      await create(`${argv.out}.secret`, `${made.secret}\n`, 0o600);
      process.stdout.write(`HS256 secret written to ${argv.out}.secret (give it to the gateway with --token-secret-file)\n`);
    } else {
      await create(`${argv.out}.key`, made.privateKeyPem!, 0o600);
      await create(`${argv.out}.pub`, made.publicKeyPem!, 0o644);
      process.stdout.write(`${argv.algorithm} private key: ${argv.out}.key (token issuers); public key: ${argv.out}.pub (gateway --token-public-key-file)\n`);
    }
  },
};

export const tokenCommand: CommandModule<GlobalArgs, GlobalArgs> = {
  command: 'token <command>',
  describe: 'voter tokens: issue one, or create a deployment\'s keys',
  builder: (y) => y.command(issue).command(keys).demandCommand(1),
  handler: () => undefined,
};
