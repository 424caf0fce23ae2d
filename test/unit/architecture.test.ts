import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix, relative, sep } from 'node:path';
import { describe, it } from 'node:test';
import { repositoryRoot } from '../fixtures/repository.js';

/**
 * The rooms of src/ and the arrows between them (docs/architecture.md), read from the sources' import statements:
 * static and dynamic, type-only included (a type is a dependency too), relative paths only (packages are not rooms).
 */
const SRC = join(repositoryRoot(), 'src');

/** `from '...'` of import and export statements, side-effect imports and `import('...')`. */
const SPECIFIERS = [/\b(?:import|export)\s[^'";]*?\bfrom\s*['"](\.[^'"]+)['"]/g, /\bimport\s*['"](\.[^'"]+)['"]/g, /\bimport\s*\(\s*['"](\.[^'"]+)['"]\s*\)/g];

interface Import {
  /** Paths relative to src/, with `/`: `modules/groups/groups.service.ts`. */
  from: string;
  to: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** A file's path relative to src/, with `/`. */
const srcPath = (file: string): string => relative(SRC, file).split(sep).join('/');

function importsOf(file: string): Import[] {
  const text = readFileSync(file, 'utf8');
  const from = srcPath(file);
  return SPECIFIERS.flatMap((pattern) => [...text.matchAll(pattern)]).map((match) => ({
    from,
    // Sources import the compiled name (`./urls.js`) of a TypeScript file (`./urls.ts`).
    to: posix.normalize(posix.join(posix.dirname(from), match[1])).replace(/\.js$/, '.ts'),
  }));
}

/** A file's room: its top-level folder under src/, or `(root)` for the composition root (main.ts, app.ts, ...). */
const roomOf = (path: string): string => (path.includes('/') ? path.slice(0, path.indexOf('/')) : '(root)');

const IMPORTS = sourceFiles(SRC).flatMap(importsOf);

/** Arrows between nodes (rooms, or files), each with the first import that draws it, to name in a failure. */
function graphOf(imports: readonly Import[], nodeOf: (path: string) => string): Map<string, Map<string, Import>> {
  const graph = new Map<string, Map<string, Import>>();
  for (const found of imports) {
    const [from, to] = [nodeOf(found.from), nodeOf(found.to)];
    if (from === to) continue;
    if (!graph.has(from)) graph.set(from, new Map());
    if (!graph.get(from)!.has(to)) graph.get(from)!.set(to, found);
  }
  return graph;
}

/** Every cycle a depth-first walk meets, as `a → b → a` with the import behind each arrow. */
function cyclesOf(graph: Map<string, Map<string, Import>>): string[] {
  const cycles: string[] = [];
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (node: string): void => {
    if (done.has(node)) return;
    const at = path.indexOf(node);
    if (at >= 0) {
      const cycle = [...path.slice(at), node];
      const witnesses = cycle.slice(1).map((to, i) => {
        const found = graph.get(cycle[i])!.get(to)!;
        return `${found.from} imports ${found.to}`;
      });
      cycles.push(`${cycle.join(' → ')} (${witnesses.join('; ')})`);
      return;
    }
    path.push(node);
    for (const next of graph.get(node)?.keys() ?? []) visit(next);
    path.pop();
    done.add(node);
  };
  for (const node of [...graph.keys()].sort()) visit(node);
  return cycles;
}

/** What a room may import from outside itself, when it is restricted; the reason is said in the failure. */
const RULES: { room: string; mayImport: (to: string) => boolean; why: string }[] = [
  { room: 'common', mayImport: () => false, why: 'common/ is a leaf of generic pieces' },
  { room: 'config', mayImport: () => false, why: 'config/ is a leaf: typed config, validated once' },
  {
    room: 'signalr',
    mayImport: (to) => roomOf(to) === 'config' || to === 'common/names.ts' || roomOf(to) === 'observability',
    why: 'the upstream client knows config, the name rules and the observability parts only, nothing of HTTP',
  },
  {
    room: 'observability',
    mayImport: (to) => roomOf(to) === 'config' || roomOf(to) === 'common',
    why: 'observability/ is cross-cutting: every room may count, trace and audit through it, so it knows only the leaves',
  },
  {
    room: 'state',
    mayImport: (to) => roomOf(to) === 'config',
    why: 'the shared state stores strings and budgets; it knows config only, nothing of HTTP or features',
  },
  { room: 'azure', mayImport: () => false, why: "azure/ holds Azure's wire formats that the gateway and its emulator both read: a leaf" },
  {
    room: 'emulator',
    mayImport: (to) => roomOf(to) === 'azure',
    why: "the emulator stands in for Azure and imports nothing of the gateway, only Azure's own formats (azure/)",
  },
];

describe('architecture: the rooms of src/ depend one way (docs/architecture.md)', () => {
  it('reads the imports of every room', (t) => {
    const arrows = graphOf(IMPORTS, roomOf);
    const rooms = new Set(sourceFiles(SRC).map((file) => roomOf(srcPath(file))));
    for (const room of [...rooms].sort()) t.diagnostic(`${room} → ${[...(arrows.get(room)?.keys() ?? [])].sort().join(', ') || 'nothing'}`);
    for (const room of ['(root)', 'auth', 'common', 'config', 'modules', 'observability', 'signalr', 'state'])
      assert.ok(
        IMPORTS.some((found) => roomOf(found.from) === room),
        `no import read in ${room}`,
      );
  });

  it('has no cycle between rooms', () => {
    assert.deepEqual(cyclesOf(graphOf(IMPORTS, roomOf)), []);
  });

  it('has no cycle between the files of signalr/', () => {
    assert.deepEqual(
      cyclesOf(
        graphOf(
          IMPORTS.filter(({ from, to }) => roomOf(from) === 'signalr' && roomOf(to) === 'signalr'),
          (path) => path,
        ),
      ),
      [],
    );
  });

  it('keeps the leaves and the upstream client free of what they must not know', () => {
    const broken = RULES.flatMap(({ room, mayImport, why }) =>
      IMPORTS.filter(({ from, to }) => roomOf(from) === room && roomOf(to) !== room && !mayImport(to)).map(({ from, to }) => `${from} imports ${to}: ${why}`),
    );
    assert.deepEqual(broken, []);
  });

  it('lets only the composition root import dev/ (not installed in production) and nothing import the composition root', () => {
    const broken = IMPORTS.filter(
      ({ from, to }) => roomOf(from) !== roomOf(to) && ((roomOf(to) === 'dev' && roomOf(from) !== '(root)') || roomOf(to) === '(root)'),
    );
    assert.deepEqual(
      broken.map(({ from, to }) => `${from} imports ${to}`),
      [],
    );
  });

  it('resolves every relative import to a file of src/', () => {
    const files = new Set(sourceFiles(SRC).map(srcPath));
    const missing = IMPORTS.filter(({ to }) => !files.has(to));
    assert.deepEqual(
      missing.map(({ from, to }) => `${from} imports ${to}`),
      [],
    );
  });
});
