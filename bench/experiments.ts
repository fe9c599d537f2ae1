/**
 * Opt-in what-if patches for the library (`--experiment a,b`), applied in the
 * library's client process only, to measure a suggested change before anyone makes
 * it in src/. They patch prototypes of dist/ modules (the same module instances
 * `nestjs-tenancy` loads). Never on by default; results are labelled with them.
 *
 * - `async-status`: the processor waits for no status write at all (it already
 *             does not wait for `in_progress`; this also skips waiting for the final
 *             `completed` / DELETE / `error`). The reporter still orders them per
 *             resource and `whenIdle()` still waits for them. Wraps
 *             `StatusReporter#report(resourceType, resourceId, wanted)`.
 *
 * (Earlier experiments are now what the library does: node:http instead of axios,
 * hand-written event checks before class-validator, not waiting for `in_progress`,
 * and releasing finished queue slots at once.)
 */
export const EXPERIMENTS = ['async-status'] as const;
export type Experiment = (typeof EXPERIMENTS)[number];

interface WantedStatus {
  readonly kind: 'put' | 'delete';
  readonly status?: string;
}

type Report = (this: unknown, resourceType: string, resourceId: string, wanted: WantedStatus) => Promise<boolean>;

// Next to the package's entry point, wherever its `exports` put it (dist/ or dist/esm/).
const dist = (file: string) => new URL(`./${file}`, import.meta.resolve('nestjs-tenancy')).href;

export async function applyExperiments(names: readonly string[]): Promise<void> {
  for (const name of names) {
    if (!(EXPERIMENTS as readonly string[]).includes(name)) throw new Error(`unknown experiment ${name}`);
  }
  if (names.includes('async-status')) await patchStatusWaits();
}

async function patchStatusWaits(): Promise<void> {
  const { StatusReporter } = (await import(dist('status.reporter.js'))) as { StatusReporter: { prototype: Record<string, unknown> } };
  const proto = StatusReporter.prototype;
  const original = proto['report'];
  // Fail loudly if src/ renamed or reshaped it, rather than measuring nothing.
  if (typeof original !== 'function' || original.length !== 3) {
    throw new Error('experiments: StatusReporter#report(resourceType, resourceId, wanted) not found in status.reporter.js next to the library entry');
  }
  const report = original as Report;
  proto['report'] = function patchedReport(this: unknown, resourceType: string, resourceId: string, wanted: WantedStatus) {
    // The write is queued per resource either way; only the caller stops waiting for it.
    void report.call(this, resourceType, resourceId, wanted);
    return Promise.resolve(true);
  };
}
