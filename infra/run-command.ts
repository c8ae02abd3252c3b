import { spawn } from 'node:child_process';

export interface CommandResult {
  readonly status: number | null;
  /** stdout and stderr interleaved as they came. */
  readonly output: string;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to completion without blocking the event loop; never throws on a non-zero exit. */
export function runCommand(command: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...args], { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString();
      stderr += d.toString();
    });
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, output, stdout, stderr }));
  });
}
