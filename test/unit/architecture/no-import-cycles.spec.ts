import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../../src');

// `import … from '…'`, `export … from '…'`, `import '…'` and `import('…')`; type-only
// imports count too: a type circle is still a circle in the design.
const SPECIFIER = /(?:\bimport|\bexport)\s(?:[^'";]*?\sfrom\s)?['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Relative imports of every file under `root`, resolved to files. */
function importGraph(root: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(root)) {
    const text = readFileSync(file, 'utf8');
    const targets: string[] = [];
    for (const match of text.matchAll(SPECIFIER)) {
      const specifier = match[1] ?? match[2];
      if (!specifier.startsWith('.')) continue;
      targets.push(resolve(dirname(file), specifier).replace(/\.js$/, '.ts'));
    }
    graph.set(file, targets);
  }
  return graph;
}

/** Every cycle found by a depth-first walk (each reported once, as a path). */
function findCycles(graph: Map<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): void => {
    state.set(node, 'visiting');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue;
      if (state.get(next) === 'visiting') cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return cycles;
}

describe('architecture', () => {
  it('src/ has no import cycle', () => {
    const graph = importGraph(SRC);
    expect(graph.size).toBeGreaterThan(30);
    const cycles = findCycles(graph).map((cycle) => cycle.map((file) => relative(SRC, file)).join(' → '));
    expect(cycles).toEqual([]);
  });

  it('the import reader follows import type, export-from and import(), and the finder sees the cycle they close', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cycles-'));
    try {
      writeFileSync(join(dir, 'a.ts'), "import type { B } from './b.js';\nexport type A = B;\n");
      writeFileSync(join(dir, 'b.ts'), "export * from './c.js';\nexport type B = number;\n");
      writeFileSync(join(dir, 'c.ts'), "export const load = () => import('./a.js');\n");
      const graph = importGraph(dir);
      expect(graph.get(join(dir, 'a.ts'))).toEqual([join(dir, 'b.ts')]);
      expect(graph.get(join(dir, 'b.ts'))).toEqual([join(dir, 'c.ts')]);
      expect(graph.get(join(dir, 'c.ts'))).toEqual([join(dir, 'a.ts')]);
      expect(findCycles(graph).map((cycle) => cycle.map((file) => relative(dir, file)).join(' → '))).toEqual([
        'a.ts → b.ts → c.ts → a.ts',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
