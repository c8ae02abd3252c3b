import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../runtime/errors.js';
import { SINGLE_NODE_LAYOUT, type StackConfig, type StackLayout } from './stack-config.js';

/**
 * The layout a data directory holds is remembered beside it (`layout.json`, written by `stack up`),
 * so `stack down|status|logs` and a later `stack up` without flags address the same nodes, and a
 * `stack up` asking for another layout is refused instead of mixing one broker's data with three.
 */
const LayoutSchema = z.object({ kafkaBrokers: z.number().int().min(1), redisCluster: z.boolean() });

export function layoutFile(dataDir: string): string {
  return join(dataDir, 'layout.json');
}

/** What the data directory holds: its layout.json, the single-node layout for data from before it, or undefined when empty. */
export function readLayout(dataDir: string): StackLayout | undefined {
  const file = layoutFile(dataDir);
  if (existsSync(file)) {
    const parsed = LayoutSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    if (!parsed.success) throw new ConfigError(`${file} is not a stack layout: ${parsed.error.message}`);
    return parsed.data;
  }
  // A stack started before layouts were recorded was a single node.
  return existsSync(join(dataDir, 'kafka')) || existsSync(join(dataDir, 'redis')) ? SINGLE_NODE_LAYOUT : undefined;
}

/** The layout to use: what was asked for, else what the data directory holds, else a single node each. */
export function resolveLayout(dataDir: string, asked: { kafkaBrokers?: number; redisCluster?: boolean }): StackLayout {
  const held = readLayout(dataDir) ?? SINGLE_NODE_LAYOUT;
  return { kafkaBrokers: asked.kafkaBrokers ?? held.kafkaBrokers, redisCluster: asked.redisCluster ?? held.redisCluster };
}

export function describeLayout(layout: StackLayout): string {
  return `${layout.kafkaBrokers} Kafka broker${layout.kafkaBrokers === 1 ? '' : 's'}, ${layout.redisCluster ? 'a Redis cluster' : 'one Redis'}`;
}

/** Refuses a config whose layout differs from the one its data directory holds; records it when the directory is new. */
export function claimLayout(config: StackConfig): void {
  const held = readLayout(config.dataDir);
  if (held !== undefined && (held.kafkaBrokers !== config.layout.kafkaBrokers || held.redisCluster !== config.layout.redisCluster)) {
    throw new ConfigError(
      `${config.dataDir} holds a stack of ${describeLayout(held)}, but ${describeLayout(config.layout)} was asked for; ` +
        `start it as it is (no layout flags), or \`stack down\` and remove ${config.dataDir} to start another layout`,
    );
  }
  mkdirSync(config.dataDir, { recursive: true });
  writeFileSync(layoutFile(config.dataDir), `${JSON.stringify(config.layout)}\n`);
}
