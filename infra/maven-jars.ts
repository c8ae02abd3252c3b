import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ServiceUnavailableError } from '../runtime/errors.js';
import { runCommand } from './run-command.js';
import { MAVEN, requirePrerequisites } from './prerequisites.js';

export interface MavenJarsOptions {
  /** A pom that only names dependencies (nothing is built from it). */
  readonly pom: string;
  /** Where the jars go; a `.complete` marker is written beside it. */
  readonly libs: string;
  /** A jar whose name starts with this must be among them for a cached copy to count. */
  readonly expectPrefix: string;
  /** Passed to Maven as -Dname=value. */
  readonly properties?: Readonly<Record<string, string>>;
  /** What is resolved, for the log line and the error: "Apache Kafka 4.1.1 jars". */
  readonly what: string;
  readonly log: (msg: string) => void;
}

/**
 * Resolves a pom's runtime dependencies through Maven into a cache directory, once. The marker is
 * written only after a complete copy, so an interrupted download is redone rather than half-used.
 */
export async function ensureMavenJars(o: MavenJarsOptions): Promise<string> {
  const marker = join(dirname(o.libs), '.complete');
  if (existsSync(marker) && existsSync(o.libs) && readdirSync(o.libs).some((f) => f.startsWith(o.expectPrefix))) return o.libs;
  requirePrerequisites([MAVEN]);
  o.log(`resolving ${o.what} from Maven Central into ${o.libs} (first run only)`);
  mkdirSync(o.libs, { recursive: true });
  const properties = Object.entries(o.properties ?? {}).map(([k, v]) => `-D${k}=${v}`);
  const r = await runCommand('mvn', ['-B', '-q', '-f', o.pom, ...properties, 'dependency:copy-dependencies', `-DoutputDirectory=${o.libs}`, '-DincludeScope=runtime']);
  if (r.status !== 0) throw new ServiceUnavailableError(`mvn could not resolve the ${o.what} (exit ${r.status}):\n${r.output}`);
  writeFileSync(marker, new Date().toISOString());
  return o.libs;
}
