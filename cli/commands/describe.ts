import type { Argv, CommandModule } from 'yargs';
import { votingTopology } from '../../voting/topology.js';
import { commandContext, type GlobalArgs } from '../context.js';

interface DescribeArgs extends GlobalArgs {
  format: 'text' | 'json' | 'mermaid';
}

export const describeCommand: CommandModule<GlobalArgs, DescribeArgs> = {
  command: 'describe',
  describe: "print the voting topology's sub-topologies, sources, processors, stores and sinks",
  builder: (y: Argv<GlobalArgs>) =>
    y.option('format', { choices: ['text', 'json', 'mermaid'] as const, default: 'text' as const, describe: 'Kafka Streams-style text, JSON, or a mermaid flowchart' }) as unknown as Argv<DescribeArgs>,
  handler: (argv) => {
    const ctx = commandContext(argv);
    const description = votingTopology({ prefix: ctx.config.topicPrefix }).describe();
    const out = argv.format === 'json' ? JSON.stringify(description.toJSON(), null, 2) : argv.format === 'mermaid' ? description.toMermaid() : description.toString();
    process.stdout.write(`${out.trimEnd()}\n`);
  },
};
