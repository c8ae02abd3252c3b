import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { ServiceUnavailableError } from '../runtime/errors.js';
import type { LocalService } from './local-service.js';
import { runningPid, startDetached } from './managed-process.js';

export function tailFile(file: string, lines: number): string {
  if (!existsSync(file)) return '(no log)';
  return readFileSync(file, 'utf8').split('\n').slice(-lines - 1).join('\n');
}

/** Resolves once the node answers; fails early, with its log, if the process we started exits. */
export async function waitHealthy(svc: LocalService, pid: number | undefined, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await svc.healthy()) return;
    if (pid !== undefined && runningPid(svc.pidFile) === undefined) {
      throw new ServiceUnavailableError(`${svc.name} exited while starting; last lines of ${svc.logFile}:\n${tailFile(svc.logFile, 25)}`);
    }
    await sleep(250);
  }
  throw new ServiceUnavailableError(
    `${svc.name} did not become healthy at ${svc.address} within ${timeoutMs / 1000}s; last lines of ${svc.logFile}:\n${tailFile(svc.logFile, 25)}`,
  );
}

/** Prepares and starts the node in its own process group (pid file written); does not wait. */
export async function launch(svc: LocalService): Promise<number> {
  const { command, args, cwd } = await svc.prepare();
  return startDetached({ name: svc.name, command, args, cwd, pidFile: svc.pidFile, logFile: svc.logFile });
}
