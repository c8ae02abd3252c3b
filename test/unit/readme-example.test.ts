import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { Serdes, type Topology } from '../../index.js';
import { TopologyTestDriver } from '../../testing.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The first TypeScript block of the README section that shows the DSL, exactly as readers see it. */
function readmeExample(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.indexOf('## Writing a topology (the DSL)');
  expect(section, 'README section "Writing a topology (the DSL)"').toBeGreaterThanOrEqual(0);
  const block = /```ts\n([\s\S]*?)```/.exec(readme.slice(section));
  expect(block, 'a ```ts block in that section').not.toBeNull();
  return block![1];
}

const PACKAGE_IMPORT = /^import \{([^}]*)\} from 'votestream';$/m;
const TESTING_IMPORT = /^import \{([^}]*)\} from 'votestream\/testing';$/m;

/**
 * Type-checks the example as a file of this repository importing the package's entry point (a
 * reader's `import ... from 'votestream'`), with the project's compiler options.
 */
function typeErrors(code: string): string[] {
  const file = join(root, 'test', 'unit', '__readme_example__.ts');
  const source = code
    .replace(PACKAGE_IMPORT, "import {$1} from '../../index.js';")
    .replace(TESTING_IMPORT, "import {$1} from '../../testing.js';");
  const parsed = ts.getParsedCommandLineOfConfigFile(join(root, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined });
  const host = ts.createCompilerHost(parsed!.options);
  const read = host.readFile.bind(host);
  const exists = host.fileExists.bind(host);
  host.readFile = (f) => (resolve(f) === file ? source : read(f));
  host.fileExists = (f) => resolve(f) === file || exists(f);
  const program = ts.createProgram([file], { ...parsed!.options, noEmit: true }, host);
  return ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file === undefined || resolve(d.file.fileName) === file)
    .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

interface Recorded {
  apps: { config: unknown; started: boolean }[];
  topology?: Topology;
  firstVisits?: unknown;
}

describe('README DSL example', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vs-readme-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const code = readmeExample();

  it('compiles as written, against the package entry point', () => {
    expect(code).toMatch(PACKAGE_IMPORT);
    expect(code).toMatch(TESTING_IMPORT);
    expect(typeErrors(code)).toEqual([]);
  }, 60_000);

  it('runs as written: prints the description, and the test driver gives what the comment says', async () => {
    // The README's last lines start the app on Kafka; a unit test has none, so StreamsApp is a
    // double that records what it was given. Everything else is the package itself.
    const expectedComment = /readKeyValuesToList\(\); \/\/ (.*)$/m.exec(code);
    expect(expectedComment?.[1]).toBe("[{ key: 'ana', value: '/a' }]");
    const runnable = code
      .replace(PACKAGE_IMPORT, `import {$1} from ${JSON.stringify(pathToFileURL(join(root, 'index.ts')).href)};`)
      .replace(TESTING_IMPORT, `import {$1} from ${JSON.stringify(pathToFileURL(join(root, 'testing.ts')).href)};`)
      .replace(/^const app = new StreamsApp\(/m, 'const app = new __readme.StreamsApp(')
      .replace(/^(driver\.createOutputTopic\([^\n]*\.readKeyValuesToList\(\));/m, '__readme.firstVisits = $1;')
      .concat('\n__readme.topology = topology;\n');
    const hooked = `const __readme = Reflect.get(globalThis, '__readme');\n${runnable}`;
    const recorded: Recorded & { StreamsApp: unknown } = {
      apps: [],
      StreamsApp: class {
        readonly entry: { config: unknown; started: boolean };
        constructor(_topology: Topology, config: unknown) {
          this.entry = { config, started: false };
          recorded.apps.push(this.entry);
        }
        async start(): Promise<void> {
          this.entry.started = true;
        }
        async close(): Promise<void> {}
      },
    };
    (globalThis as Record<string, unknown>).__readme = recorded;
    const file = join(dir, 'example.ts');
    writeFileSync(file, hooked);
    const logs: unknown[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void logs.push(...args));
    const sigtermBefore = process.listeners('SIGTERM');
    try {
      await import(/* @vite-ignore */ pathToFileURL(file).href);
    } finally {
      log.mockRestore();
      for (const l of process.listeners('SIGTERM')) if (!sigtermBefore.includes(l)) process.off('SIGTERM', l);
      delete (globalThis as Record<string, unknown>).__readme;
    }
    expect(logs.length).toBe(1);
    expect(String(logs[0])).toContain('Sub-topology: 1');
    expect(recorded.firstVisits).toEqual([{ key: 'ana', value: '/a' }]);
    expect(recorded.apps).toEqual([{ config: { applicationId: 'clicks-app', brokers: '127.0.0.1:19092', stateDir: '.state' }, started: true }]);

    // The README's topology does what its text promises: first visits, repeats routed, visits per page.
    interface Click {
      user: string;
      page: string;
    }
    const driver = new TopologyTestDriver(recorded.topology!);
    const input = driver.createInputTopic('clicks', Serdes.string(), Serdes.json<Click>());
    await input.pipeInput('ana', { user: 'ana', page: '/a' });
    await input.pipeInput('bo', { user: 'bo', page: '/a' });
    await input.pipeInput('ana', { user: 'ana', page: '/a' });
    await input.pipeInput('ana', { user: 'ana', page: '' });
    expect(driver.createOutputTopic('first-visits', Serdes.string(), Serdes.string()).readKeyValuesToList()).toEqual([
      { key: 'ana', value: '/a' },
      { key: 'bo', value: '/a' },
    ]);
    expect(driver.createOutputTopic('repeat-visits', Serdes.string(), Serdes.json<Click>()).readKeyValuesToList()).toEqual([
      { key: 'ana', value: { user: 'ana', page: '/a' } },
    ]);
    expect(driver.createOutputTopic('page-counts', Serdes.string(), Serdes.int32()).readKeyValuesToList()).toEqual([
      { key: '/a', value: 1 },
      { key: '/a', value: 2 },
    ]);
    await driver.close();
  });
});
