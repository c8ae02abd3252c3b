import { spawnSync } from 'node:child_process';
import { PrerequisiteError } from '../runtime/errors.js';

export interface Prerequisite {
  readonly command: string;
  readonly versionArgs: readonly string[];
  readonly install: string;
  readonly neededFor: string;
}

export const JAVA: Prerequisite = {
  command: 'java',
  versionArgs: ['-version'],
  install: 'apt-get install -y openjdk-17-jre-headless',
  neededFor: 'Kafka and DynamoDB Local',
};
export const MAVEN: Prerequisite = {
  command: 'mvn',
  versionArgs: ['-v'],
  install: 'apt-get install -y maven',
  neededFor: 'resolving the Kafka jars from Maven Central',
};
export const REDIS_SERVER: Prerequisite = {
  command: 'redis-server',
  versionArgs: ['--version'],
  install: 'apt-get install -y redis-server',
  neededFor: 'Redis',
};

export function isOnPath(p: Prerequisite): boolean {
  const r = spawnSync(p.command, [...p.versionArgs], { stdio: 'ignore' });
  return r.error === undefined && r.status === 0;
}

/** Fails at once, naming every missing program and the command that installs it. */
export function requirePrerequisites(list: readonly Prerequisite[]): void {
  const missing = list.filter((p) => !isOnPath(p));
  if (missing.length === 0) return;
  const lines = missing.map((p) => `  - ${p.command} (for ${p.neededFor}): install with \`${p.install}\``);
  throw new PrerequisiteError(`missing prerequisite${missing.length > 1 ? 's' : ''} on PATH:\n${lines.join('\n')}`);
}
