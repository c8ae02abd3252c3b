import { describe, expect, it } from 'vitest';
import { isOnPath, requirePrerequisites, type Prerequisite } from '../../infra/prerequisites.js';
import { PrerequisiteError } from '../../runtime/errors.js';

const missing = (command: string): Prerequisite => ({ command, versionArgs: ['--version'], install: `apt-get install -y ${command}`, neededFor: 'testing' });

describe('prerequisites', () => {
  it('finds a program on PATH', () => {
    expect(isOnPath({ command: 'node', versionArgs: ['--version'], install: '', neededFor: '' })).toBe(true);
    expect(isOnPath(missing('votestream-no-such-program'))).toBe(false);
  });

  it('names every missing program and the command that installs it', () => {
    expect(() => requirePrerequisites([missing('vs-missing-a'), missing('vs-missing-b')])).toThrow(
      new PrerequisiteError(
        'missing prerequisites on PATH:\n' +
          '  - vs-missing-a (for testing): install with `apt-get install -y vs-missing-a`\n' +
          '  - vs-missing-b (for testing): install with `apt-get install -y vs-missing-b`',
      ),
    );
  });
});
