/** One `--memory` stage, run in a fresh process (memory.child.ts). */
export interface MemoryJob {
  readonly stage: 'decode' | 'library';
  readonly url: string;
  readonly controllerName: string;
  /** Library stage: write a heap snapshot of the queued state here. */
  readonly heapSnapshotPath?: string;
}

/** `process.memoryUsage()` after a full GC, bytes. */
export interface MemoryPoint {
  readonly label: string;
  readonly rss: number;
  readonly heapUsed: number;
  readonly external: number;
  readonly arrayBuffers: number;
}

export interface MemoryStageResult {
  readonly stage: MemoryJob['stage'];
  readonly events: number;
  readonly responseBytes: number;
  readonly points: readonly MemoryPoint[];
  /** Path of the heap snapshot written (library stage). */
  readonly heapSnapshot?: string;
}
