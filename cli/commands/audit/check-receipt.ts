import { existsSync, readFileSync } from 'node:fs';
import type { Argv, CommandModule } from 'yargs';
import { ConfigError } from '../../../runtime/errors.js';
import { checkReceipt } from '../../../voting/audit/receipt.js';
import { parseVerifierKey } from '../../../voting/audit/signed-note.js';
import type { GlobalArgs } from '../../context.js';

interface CheckReceiptArgs extends GlobalArgs {
  file: string;
  key: string;
}

/** `--key`: a vkey, or a file holding one: signing.vkey (its first line) or the feed's `GET /v1/keys` answer. */
function verifierKey(key: string): string {
  if (!existsSync(key)) return key;
  const text = readFileSync(key, 'utf8').trim();
  if (text.startsWith('{')) {
    const keys = (JSON.parse(text) as { keys?: unknown }).keys;
    if (!Array.isArray(keys) || typeof keys[0] !== 'string') throw new ConfigError(`${key} has no "keys" list of verifier keys`);
    return keys[0];
  }
  const line = text.split('\n')[0];
  if (line === '') throw new ConfigError(`${key} holds no verifier key`);
  return line;
}

/** `votestream audit check-receipt`: verifies a receipt offline; touches no service. */
export const checkReceiptCommand: CommandModule<GlobalArgs, CheckReceiptArgs> = {
  command: 'check-receipt <file>',
  describe: 'verify a receipt offline against the signed checkpoint it carries and the deployment\'s public key; exit 0 when valid',
  builder: (y: Argv<GlobalArgs>) =>
    y
      .positional('file', { type: 'string', demandOption: true, describe: 'the receipt file' })
      .option('key', { type: 'string', demandOption: true, describe: 'the verifier key (name+hash+key), or a file holding it (signing.vkey, GET /v1/keys)' }) as unknown as Argv<CheckReceiptArgs>,
  handler: async (argv) => {
    const verifier = parseVerifierKey(verifierKey(argv.key));
    let bytes: Buffer;
    try {
      bytes = readFileSync(argv.file);
    } catch (err) {
      throw new ConfigError(`cannot read the receipt ${argv.file}: ${(err as Error).message}`);
    }
    const ok = checkReceipt(bytes, verifier);
    process.stdout.write(
      `receipt valid: vote ${ok.voteId} is counted in election ${ok.electionId} (${ok.treeSize} votes, root ${ok.root}), checkpoint ${ok.origin} signed by ${verifier.name}\n`,
    );
  },
};
