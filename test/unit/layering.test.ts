import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * DESIGN section 2: dependencies point down the floors only. Every relative import of every
 * source file is read, and one that reaches a higher floor fails the suite (in the spirit of
 * ArchUnit), so that the framework never comes to depend on the application again.
 */
const FLOORS = ['statestores', 'topology', 'runtime', 'infra', 'sinks', 'voting', 'benchmarks', 'cli'] as const;
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

/** `from '…'`, `import '…'` and `import('…')` specifiers that are relative paths. */
function relativeImports(text: string): string[] {
  return [...text.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => m[1]);
}

describe('layering', () => {
  it('finds the imports it checks (the reader is not blind)', () => {
    expect(relativeImports("import { a } from './a.js';\nexport type { B } from '../b/b.js';\nconst c = await import('../c.js');")).toEqual(['./a.js', '../b/b.js', '../c.js']);
  });

  it('has no import from a lower floor to a higher one', () => {
    const upward: string[] = [];
    for (const floor of FLOORS) {
      for (const file of sources(join(root, floor))) {
        for (const spec of relativeImports(readFileSync(file, 'utf8'))) {
          const target = relative(root, resolve(dirname(file), spec)).split('/')[0];
          const to = FLOORS.indexOf(target as (typeof FLOORS)[number]);
          if (to > FLOORS.indexOf(floor)) upward.push(`${relative(root, file)} -> ${spec}`);
        }
      }
    }
    expect(upward).toEqual([]);
  });
});
