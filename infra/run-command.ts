import { spawn } from 'node:child_process';

export interface CommandResult {
  readonly status: number | null;
  readonly output: string;
}

/** Runs a command to completion without blocking the event loop; stdout and stderr are combined. */
export function runCommand(command: string, args: readonly string[], options: { cwd?: string } = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...args], { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, output }));
  });
}
