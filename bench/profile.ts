/**
 * Reads a V8 `.cpuprofile` (from `node --cpu-prof`) and sums self time per function and per package or file, which
 * is what tells where a request's time goes. `node profile.js <file.cpuprofile>` prints the summary.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileEntry {
  name: string;
  selfPercent: number;
}

export interface ProfileSummary {
  file: string;
  /** Time the process was busy; idle samples are left out of the percentages. */
  busyMs: number;
  idleMs: number;
  byFunction: ProfileEntry[];
  byPackage: ProfileEntry[];
  /** Our own functions (src/) with the time spent in them and everything they called: the request's stages. */
  oursInclusive: ProfileEntry[];
  /**
   * For the heaviest native functions (socket writes, hashing, ...), the nearest caller in a package or in our code
   * (Node's own frames skipped): what a `writeLatin1String` is writing. Percentages of the busy time.
   */
  nativeCallers: { name: string; selfPercent: number; via: ProfileEntry[] }[];
}

export function summarizeProfile(file: string, top = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  const oursInclusive = new Map<string, number>();
  const parents = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
  const viaByNative = new Map<string, Map<string, number>>();
  let total = 0;
  let idle = 0;
  profile.samples.forEach((id, index) => {
    const delta = profile.timeDeltas[index] ?? 0;
    const { functionName, url, lineNumber } = nodes.get(id)!.callFrame;
    if (functionName === '(idle)') {
      idle += delta;
      return;
    }
    total += delta;
    const where = place(url);
    add(byFunction, `${functionName || '(anonymous)'} ${where}${url ? `:${lineNumber + 1}` : ''}`, delta);
    add(byPackage, where, delta);
    // Each of our functions on the sampled stack counts once, however deep the recursion.
    const stack = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parents.get(at)) {
      const frame = nodes.get(at)!.callFrame;
      const path = place(frame.url);
      if (path.startsWith('src/')) stack.add(`${frame.functionName || '(anonymous)'} ${path}:${frame.lineNumber + 1}`);
    }
    for (const name of stack) add(oursInclusive, name, delta);
    // V8's bookkeeping ((garbage collector), (program)) has no caller worth naming.
    if (url === '' && functionName !== '' && !functionName.startsWith('(')) {
      const via = viaByNative.get(functionName) ?? new Map<string, number>();
      viaByNative.set(functionName, via);
      add(via, nearestCaller(id, nodes, parents), delta);
    }
  });
  const ranked = (map: Map<string, number>): ProfileEntry[] =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, micros]) => ({ name, selfPercent: Number(((micros / total) * 100).toFixed(1)) }));
  const heaviestNative = [...viaByNative].sort((a, b) => sum(b[1]) - sum(a[1])).slice(0, 5);
  return {
    file,
    busyMs: Math.round(total / 1000),
    idleMs: Math.round(idle / 1000),
    byFunction: ranked(byFunction),
    byPackage: ranked(byPackage),
    oursInclusive: ranked(oursInclusive),
    nativeCallers: heaviestNative.map(([name, via]) => ({
      name,
      selfPercent: Number(((sum(via) / total) * 100).toFixed(1)),
      via: ranked(via).slice(0, 3),
    })),
  };
}

function sum(map: Map<string, number>): number {
  let total = 0;
  for (const value of map.values()) total += value;
  return total;
}

/** The first frame above `id` that is neither native nor Node's own (`node:`): a package's or ours. */
function nearestCaller(id: number, nodes: Map<number, ProfileNode>, parents: Map<number, number>): string {
  for (let at = parents.get(id); at !== undefined; at = parents.get(at)) {
    const { functionName, url, lineNumber } = nodes.get(at)!.callFrame;
    if (url === '' || url.startsWith('node:')) continue;
    return `${functionName || '(anonymous)'} ${place(url)}:${lineNumber + 1}`;
  }
  return '(no JavaScript caller)';
}

const BUILD_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** `<package>` for dependencies, `src/...` or `bench/...` for our own code, else what V8 calls it. */
function place(url: string): string {
  if (url === '') return '(native/V8)';
  const dependency = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (dependency) return dependency[1];
  const path = url.replace(/^file:\/\//, '');
  if (path.startsWith(BUILD_ROOT)) return path.slice(BUILD_ROOT.length);
  return url.startsWith('node:') ? url : url.replace(/^file:\/\//, '');
}

function add(map: Map<string, number>, key: string, value: number): void {
  map.set(key, (map.get(key) ?? 0) + value);
}

export function printProfile(summary: ProfileSummary): void {
  console.log(`\nGateway CPU profile (${summary.file}): ${summary.busyMs} ms busy, ${summary.idleMs} ms idle; self time of the busy time:`);
  const table = (entries: ProfileEntry[]) => entries.map(({ name, selfPercent }) => `  ${selfPercent.toFixed(1).padStart(5)}%  ${name}`).join('\n');
  console.log(`by package or file:\n${table(summary.byPackage)}`);
  console.log(`by function:\n${table(summary.byFunction)}`);
  console.log(`our functions, including what they call:\n${table(summary.oursInclusive)}`);
  console.log('native functions, by their nearest caller outside Node:');
  for (const { name, selfPercent, via } of summary.nativeCallers)
    console.log(`  ${selfPercent.toFixed(1).padStart(5)}%  ${name}\n${table(via).replace(/^/gm, '    ')}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  if (!file) throw new Error('usage: profile.js <file.cpuprofile>');
  printProfile(summarizeProfile(file, 30));
}
