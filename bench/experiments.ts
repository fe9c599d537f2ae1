/**
 * Opt-in what-if patches for the library (`--experiment a,b`), applied in the
 * library's client process only, to measure a suggested change before anyone makes
 * it in src/. They patch prototypes of dist/ modules (the same module instances
 * `nestjs-tenancy` loads). Never on by default; results are labelled with them.
 *
 * Both wrap `StatusReporter#report(resourceType, resourceId, wanted)` in
 * dist/status.reporter.js, which dist/tenancy-event.processor.js awaits before the
 * handlers (`in_progress`) and after them (`completed`, status DELETE, `error`):
 *
 * - `early-in-progress`: the processor does not wait for the `in_progress` write
 *             before calling the handler (the reporter still sends it first, per resource).
 * - `async-status`: the processor waits for no status write at all (in_progress nor
 *             the final one); the reporter still orders them per resource and
 *             `whenIdle()` (which TenancyPoller#whenIdle awaits) still waits for them.
 *
 * And one on `OrgOrderingQueue#finish(lane, item, outcome)` in dist/org-ordering.queue.js:
 *
 * - `release-finished`: a finished item's slot in its lane is cleared, so its event
 *             can be collected at once. As built, a lane keeps finished items until the
 *             lane empties (or head > 64), and the ready FIFO round-robins over all
 *             orgs, so in a replay no lane empties before the last ~10%: the whole
 *             snapshot stays live (S6 RSS).
 *
 * (The former `http` and `decode` experiments are gone: node:http instead of axios
 * and hand-written event checks before class-validator are now what the library does.)
 */
export const EXPERIMENTS = ['early-in-progress', 'async-status', 'release-finished'] as const;
export type Experiment = (typeof EXPERIMENTS)[number];

interface WantedStatus {
  readonly kind: 'put' | 'delete';
  readonly status?: string;
}

type Report = (this: unknown, resourceType: string, resourceId: string, wanted: WantedStatus) => Promise<boolean>;

const dist = (file: string) => new URL(`../../dist/${file}`, import.meta.url).href;

export async function applyExperiments(names: readonly string[]): Promise<void> {
  for (const name of names) {
    if (!(EXPERIMENTS as readonly string[]).includes(name)) throw new Error(`unknown experiment ${name}`);
  }
  if (names.includes('early-in-progress') || names.includes('async-status')) {
    await patchStatusWaits(names.includes('async-status') ? 'all' : 'in_progress');
  }
  if (names.includes('release-finished')) await patchReleaseFinished();
}

async function patchStatusWaits(which: 'in_progress' | 'all'): Promise<void> {
  const { StatusReporter } = (await import(dist('status.reporter.js'))) as { StatusReporter: { prototype: Record<string, unknown> } };
  const proto = StatusReporter.prototype;
  const original = proto['report'];
  // Fail loudly if src/ renamed or reshaped it, rather than measuring nothing.
  if (typeof original !== 'function' || original.length !== 3) {
    throw new Error('experiments: StatusReporter#report(resourceType, resourceId, wanted) not found in dist/status.reporter.js');
  }
  const report = original as Report;
  proto['report'] = function patchedReport(this: unknown, resourceType: string, resourceId: string, wanted: WantedStatus) {
    const sent = report.call(this, resourceType, resourceId, wanted);
    // The write is queued per resource either way; only the caller stops waiting for it.
    const skip = which === 'all' || (wanted.kind === 'put' && wanted.status === 'in_progress');
    return skip ? Promise.resolve(true) : sent;
  };
}

interface Lane {
  readonly items: unknown[];
  head: number;
}

type Finish = (this: unknown, lane: Lane, item: unknown, outcome: string) => void;

async function patchReleaseFinished(): Promise<void> {
  const { OrgOrderingQueue } = (await import(dist('org-ordering.queue.js'))) as { OrgOrderingQueue: { prototype: Record<string, unknown> } };
  const proto = OrgOrderingQueue.prototype;
  const original = proto['finish'];
  if (typeof original !== 'function' || original.length !== 3) {
    throw new Error('experiments: OrgOrderingQueue#finish(lane, item, outcome) not found in dist/org-ordering.queue.js');
  }
  const finish = original as Finish;
  proto['finish'] = function patchedFinish(this: unknown, lane: Lane, item: unknown, outcome: string) {
    const index = lane.head;
    finish.call(this, lane, item, outcome);
    // Only reads at or after head ever happen; a compaction (splice) already dropped it.
    if (lane.items[index] === item) lane.items[index] = undefined;
  };
}
