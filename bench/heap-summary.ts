import { readFileSync } from 'node:fs';

/** The parts of a V8 `.heapsnapshot` this summary reads. */
interface HeapSnapshot {
  readonly snapshot: { readonly meta: { readonly node_fields: readonly string[]; readonly node_types: readonly [readonly string[], ...unknown[]] } };
  readonly nodes: readonly number[];
  readonly strings: readonly string[];
}

export interface HeapGroup {
  readonly group: string;
  readonly count: number;
  readonly bytes: number;
}

/**
 * Self size by object kind in a heap snapshot: objects by constructor name,
 * strings, arrays, closures, code, etc. (V8's own categories otherwise). Top
 * `top` groups, largest first, and the total.
 */
export function summarizeHeapSnapshot(path: string, top = 15): { total: number; groups: HeapGroup[] } {
  const heap = JSON.parse(readFileSync(path, 'utf8')) as HeapSnapshot;
  const fields = heap.snapshot.meta.node_fields;
  const types = heap.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const groups = new Map<string, { count: number; bytes: number }>();
  let total = 0;
  for (let i = 0; i < heap.nodes.length; i += width) {
    const type = types[heap.nodes[i + typeAt]];
    const size = heap.nodes[i + sizeAt];
    total += size;
    let group: string;
    if (type === 'object') group = heap.strings[heap.nodes[i + nameAt]];
    else if (type === 'string' || type === 'concatenated string' || type === 'sliced string') group = '(strings)';
    else if (type === 'closure') group = '(closures)';
    else group = `(${type})`;
    const entry = groups.get(group) ?? { count: 0, bytes: 0 };
    entry.count += 1;
    entry.bytes += size;
    groups.set(group, entry);
  }
  const sorted = [...groups.entries()].map(([group, { count, bytes }]) => ({ group, count, bytes })).sort((a, b) => b.bytes - a.bytes);
  return { total, groups: sorted.slice(0, top) };
}
