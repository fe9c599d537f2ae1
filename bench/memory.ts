import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { runInChild } from './client.control.js';
import { summarizeHeapSnapshot, type HeapGroup } from './heap-summary.js';
import type { MemoryJob, MemoryStageResult } from './memory.api.js';
import type { ServerProcess } from './server.control.js';
import { count } from './stats.js';

export interface MemoryReport {
  readonly events: number;
  readonly stages: readonly MemoryStageResult[];
  /** Self size by kind in the library's heap with the whole snapshot queued. */
  readonly heap?: { readonly total: number; readonly groups: readonly HeapGroup[] };
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/**
 * Where a replay of `orgs × 10` events lives in memory: decoding stages, then the
 * library holding it queued (with a heap snapshot summary), each after a full GC.
 */
export async function measureMemory(server: ServerProcess, orgs: number, tmpDir: string, log: (line: string) => void): Promise<MemoryReport> {
  const urls = await server.call('reset', { slots: ['library'] });
  await server.call('seed', { slots: ['library'], orgs, projectsPerOrg: 9, prefix: 'mem' });
  const url = urls['library'];
  const snapshotPath = join(tmpDir, 'bench-memory.heapsnapshot');
  const stages: MemoryStageResult[] = [];
  for (const stage of ['decode', 'library'] as const) {
    stages.push(await runInChild<MemoryJob, MemoryStageResult>('./memory.child.js', `memory ${stage}`, { stage, url, controllerName: `bench-memory-${stage}` }));
  }
  const events = stages[0].events;
  // The heap snapshot in a run of its own: writing it inflates RSS by hundreds of MiB.
  let heap: MemoryReport['heap'];
  try {
    await runInChild<MemoryJob, MemoryStageResult>('./memory.child.js', 'memory heap snapshot', {
      stage: 'library',
      url,
      controllerName: 'bench-memory-heap',
      heapSnapshotPath: snapshotPath,
    });
    heap = summarizeHeapSnapshot(snapshotPath);
  } finally {
    rmSync(snapshotPath, { force: true });
  }
  log(`Memory of a ${count(events)}-event replay (${mib(stages[0].responseBytes)} of JSON), live set after a full GC at each point:`);
  for (const result of stages) {
    log(`  ${result.stage}:`);
    const start = result.points[0];
    for (const p of result.points) {
      const heapDelta = p.heapUsed - start.heapUsed;
      const external = p.arrayBuffers - start.arrayBuffers;
      log(
        `    ${p.label.padEnd(46)} heap ${mib(p.heapUsed).padStart(10)} (+${mib(heapDelta)}, ${Math.round(heapDelta / events)} B/event)` +
          `  buffers +${mib(external)}  rss ${mib(p.rss)}`,
      );
    }
  }
  if (heap) {
    log(`  library heap with the snapshot queued, self size by kind (of ${mib(heap.total)}):`);
    for (const group of heap.groups) {
      log(`    ${mib(group.bytes).padStart(10)}  ${count(group.count).padStart(9)} × ${group.group.slice(0, 60)}  (${Math.round(group.bytes / events)} B/event)`);
    }
  }
  return { events, stages, ...(heap ? { heap } : {}) };
}
