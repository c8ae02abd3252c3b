import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The only file names the feed serves from the page folder: plain names, so no path can escape it. */
export const PAGE_FILE_PATTERN = /^[a-z0-9-]+\.(html|css|js|svg)$/;

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  html: 'text/html; charset=utf-8',
  css: 'text/css; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  svg: 'image/svg+xml',
};

export interface PageFile {
  readonly body: Buffer;
  readonly contentType: string;
}

/**
 * The package's `voting/page/` folder: the module runs from `voting/feed/` (tests, tsx) or from
 * `dist/voting/feed/` (the CLI), while the page files are never compiled, so the folder is found
 * from the package root (the nearest package.json above this module), the same from both.
 */
export function defaultPageDir(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return join(dir, 'voting', 'page');
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/**
 * The page's files, read once at start: a handful of small files, and a request can then never
 * touch the disk. A missing folder is an empty page (every page route answers 404), not a failure.
 */
export function loadPageFiles(dir: string | undefined): ReadonlyMap<string, PageFile> {
  const files = new Map<string, PageFile>();
  if (dir === undefined || !existsSync(dir)) return files;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const match = PAGE_FILE_PATTERN.exec(entry.name);
    if (!entry.isFile() || match === null) continue;
    files.set(entry.name, { body: readFileSync(join(dir, entry.name)), contentType: CONTENT_TYPES[match[1]] });
  }
  return files;
}
