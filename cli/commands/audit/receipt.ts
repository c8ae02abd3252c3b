import { writeFileSync } from 'node:fs';
import type { Argv, CommandModule } from 'yargs';
import { ConfigError } from '../../../runtime/errors.js';
import { readOfficial } from '../../../voting/audit/official-result.js';
import { ElectionReceipts } from '../../../voting/audit/receipt-index.js';
import { serializeReceipt } from '../../../voting/audit/receipt.js';
import { commandContext, type GlobalArgs } from '../../context.js';
import { checkElectionId, openVotesTable } from './recount.js';

interface ReceiptArgs extends GlobalArgs {
  election: string;
  vote: string;
  out?: string;
}

/** `votestream audit receipt`: a vote's receipt against the official checkpoint. */
export const receiptCommand: CommandModule<GlobalArgs, ReceiptArgs> = {
  command: 'receipt',
  describe: "write a vote's receipt (its chain, seq, hash and the two inclusion proofs, with the signed checkpoint) once the election is official",
  builder: (y: Argv<GlobalArgs>) =>
    y
      .option('election', { type: 'string', demandOption: true, describe: 'the election id' })
      .option('vote', { type: 'string', demandOption: true, describe: 'the voteId' })
      .option('out', { type: 'string', describe: 'write the receipt to this file (default stdout)' })
      .epilog('Check it anywhere with: votestream audit check-receipt FILE --key <vkey or file>') as unknown as Argv<ReceiptArgs>,
  handler: async (argv) => {
    const ctx = commandContext(argv);
    const electionId = checkElectionId(argv.election);
    const { dynamodb, table } = await openVotesTable(ctx.config.dynamodbEndpoint, ctx.config.topicPrefix);
    try {
      const official = await readOfficial(dynamodb, table, electionId);
      if (official === undefined) throw new ConfigError(`election ${electionId} has no official result yet (votestream audit recount --election ${electionId} --publish)`);
      const receipts = await ElectionReceipts.load({ dynamodb, table, official });
      const receipt = await receipts.receipt(argv.vote);
      if (receipt === undefined) throw new ConfigError(`vote ${JSON.stringify(argv.vote)} is not counted in the official result of ${electionId}`);
      const text = serializeReceipt(receipt);
      if (argv.out === undefined) process.stdout.write(text);
      else {
        writeFileSync(argv.out, text);
        process.stderr.write(`receipt of vote ${argv.vote} written to ${argv.out}\n`);
      }
    } finally {
      dynamodb.destroy();
    }
  },
};
