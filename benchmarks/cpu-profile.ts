/**
 * Reads a V8 `.cpuprofile` (node --cpu-prof) and says where the time went: self time per function
 * (callFrame functionName + url + line, summed over every node of the call tree) and per module
 * (our folders, each npm package, node internals, and V8's own (garbage collector), (program), (idle)).
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Logger } from '../runtime/logger.js';
import { BenchmarkError } from './errors.js';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly hitCount?: number;
}

interface CpuProfileJson {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples?: readonly number[];
}

export interface ProfileEntry {
  readonly name: string;
  readonly selfMs: number;
  /** Share of all samples, idle included, in percent. */
  readonly selfPercent: number;
}

export interface ProfileSummary {
  readonly file: string;
  readonly durationMs: number;
  readonly samples: number;
  /** Percent of samples where the process did anything (not `(idle)`). */
  readonly busyPercent: number;
  readonly topFunctions: readonly ProfileEntry[];
  readonly byModule: readonly ProfileEntry[];
}

/** `file:///work/main/dist/runtime/x.js` -> `runtime/x.js`; node_modules -> the package; node: stays. */
export function shortUrl(url: string): string {
  if (url === '') return '';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    const pkg = rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
    return `${pkg}/${rest.slice(rest[0].startsWith('@') ? 2 : 1).join('/')}`;
  }
  const dist = url.lastIndexOf('/dist/');
  if (dist >= 0) return url.slice(dist + '/dist/'.length);
  return url.replace(/^file:\/\//, '');
}

/** What a url belongs to: `runtime/`, `@platformatic/kafka`, `node:internal`, ... */
export function moduleOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node internals';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  const short = shortUrl(url);
  const slash = short.indexOf('/');
  return slash > 0 ? `${short.slice(0, slash)}/` : short;
}

function top(map: Map<string, number>, total: number, msPerSample: number, n: number): ProfileEntry[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, hits]) => ({ name, selfMs: Math.round(hits * msPerSample), selfPercent: Math.round((hits / total) * 1000) / 10 }));
}

export function summarizeCpuProfile(file: string, topN = 25): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfileJson;
  const hitsById = new Map<number, number>();
  if (profile.samples !== undefined && profile.samples.length > 0) {
    for (const id of profile.samples) hitsById.set(id, (hitsById.get(id) ?? 0) + 1);
  } else {
    for (const node of profile.nodes) hitsById.set(node.id, node.hitCount ?? 0);
  }
  const byFunction = new Map<string, number>();
  const byModule = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const node of profile.nodes) {
    const hits = hitsById.get(node.id) ?? 0;
    if (hits === 0) continue;
    total += hits;
    const f = node.callFrame;
    if (f.functionName === '(idle)') idle += hits;
    const name = f.url === '' ? f.functionName || '(anonymous)' : `${f.functionName || '(anonymous)'} ${shortUrl(f.url)}:${f.lineNumber + 1}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + hits);
    const mod = moduleOf(f);
    byModule.set(mod, (byModule.get(mod) ?? 0) + hits);
  }
  const durationMs = (profile.endTime - profile.startTime) / 1000;
  const msPerSample = total > 0 ? durationMs / total : 0;
  return {
    file,
    durationMs: Math.round(durationMs),
    samples: total,
    busyPercent: total > 0 ? Math.round(((total - idle) / total) * 1000) / 10 : 0,
    topFunctions: top(byFunction, Math.max(total, 1), msPerSample, topN),
    byModule: top(byModule, Math.max(total, 1), msPerSample, topN),
  };
}

/**
 * One run under `node --cpu-prof`: `run` gets the Node flags for the profiled process and returns
 * its votes/s; the profile it wrote is summarized, and the run's rate and the top functions are
 * added to `figures` under `label`.
 */
export async function profiledRun(
  o: { readonly dir: string; readonly name: string; readonly label: string; readonly logger: Logger },
  figures: Record<string, number | string>,
  run: (execArgv: readonly string[]) => Promise<number>,
): Promise<ProfileSummary> {
  const dir = resolve(o.dir, `${o.name}-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  const votesPerSecond = await run(['--cpu-prof', '--cpu-prof-dir', dir]);
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (file === undefined) throw new BenchmarkError('BENCHMARK_OUTPUT', `no .cpuprofile written to ${dir}`);
  const profile = summarizeCpuProfile(join(dir, file));
  figures[`${o.label} under --cpu-prof: votes/s`] = Math.round(votesPerSecond);
  figures['profile: worker busy (not idle) %'] = profile.busyPercent;
  profile.topFunctions.slice(0, 10).forEach((f, i) => (figures[`profile: top self #${i + 1}`] = `${f.selfPercent}% ${f.name}`));
  o.logger.info({ file: profile.file, busyPercent: profile.busyPercent, top: profile.topFunctions.slice(0, 15), byModule: profile.byModule.slice(0, 12) }, 'cpu profile');
  return profile;
}
