import { basename, dirname } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { createSigningKeys, deploymentName, SIGNING_KEY_ENV, signingKeyPath } from '../../../voting/audit/signing-key.js';
import { commandContext, type GlobalArgs } from '../../context.js';

interface KeysArgs extends GlobalArgs {
  out?: string;
  deployment?: string;
}

/** `votestream audit keys`: the deployment's checkpoint signing key pair, made once. */
export const keysCommand: CommandModule<GlobalArgs, KeysArgs> = {
  command: 'keys',
  describe: "create the deployment's Ed25519 checkpoint signing key (private file, mode 0600) and print its public verifier key for auditors",
  builder: (y: Argv<GlobalArgs>) =>
    y
      .option('out', { type: 'string', describe: `folder for signing.key and signing.vkey (default: the file $${SIGNING_KEY_ENV} names, else .stack/keys/signing.key)` })
      .option('deployment', { type: 'string', describe: 'the deployment name in the key name votestream/<deployment> (default: the topic prefix, else "default")' })
      .epilog('Never replaces an existing key. The private key is never printed; the verifier key (name+hash+key) is, on stdout.') as unknown as Argv<KeysArgs>,
  handler: async (argv) => {
    const ctx = commandContext(argv);
    const deployment = deploymentName(argv.deployment, { topicPrefix: ctx.config.topicPrefix });
    // Without --out, exactly the file recount reads by default ($VOTESTREAM_SIGNING_KEY_FILE may name it).
    const file = signingKeyPath(undefined);
    const keys = argv.out === undefined ? createSigningKeys(dirname(file), deployment, basename(file)) : createSigningKeys(argv.out, deployment);
    process.stderr.write(`private key: ${keys.privateKeyFile} (mode 0600; keep it secret)\npublic key:  ${keys.publicKeyFile}\n`);
    process.stdout.write(`${keys.vkey}\n`);
  },
};
