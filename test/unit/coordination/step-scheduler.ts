import type { LeaseApi } from '../../../src/coordination/kubernetes-lease/kubernetes-lease.coordinator.js';

/**
 * Runs concurrent operations one API call at a time, in an order a seeded PRNG
 * picks. Each actor's API is gated: a call waits until the scheduler lets that actor
 * go. So interleavings like "A reads, B reads, A writes, B writes" happen, yet a run
 * is reproducible: one request in flight at a time, chosen by the seed.
 */
export class StepScheduler {
  private readonly parked = new Map<string, () => void>();
  private wake?: () => void;

  constructor(
    private readonly random: () => number,
    private readonly stuckAfterMs = 5_000,
  ) {}

  /** `api` for `actor`: every call waits for its turn first. */
  gate(actor: string, api: LeaseApi): LeaseApi {
    const turn = () =>
      new Promise<void>((resolve) => {
        this.parked.set(actor, resolve);
        this.wake?.();
      });
    return {
      readNamespacedLease: async (param) => (await turn(), api.readNamespacedLease(param)),
      createNamespacedLease: async (param) => (await turn(), api.createNamespacedLease(param)),
      replaceNamespacedLease: async (param) => (await turn(), api.replaceNamespacedLease(param)),
    };
  }

  /** Runs the operations concurrently, releasing one parked call at a time, and settles them all. */
  async run<T>(operations: ReadonlyMap<string, () => Promise<T>>): Promise<Map<string, PromiseSettledResult<T>>> {
    const results = new Map<string, PromiseSettledResult<T>>();
    const running = new Set(operations.keys());
    const settled = [...operations].map(([actor, operation]) =>
      operation()
        .then(
          (value) => void results.set(actor, { status: 'fulfilled', value }),
          (reason: unknown) => void results.set(actor, { status: 'rejected', reason }),
        )
        .finally(() => {
          running.delete(actor);
          this.wake?.();
        }),
    );
    for (;;) {
      await this.until(() => [...running].every((actor) => this.parked.has(actor)));
      if (running.size === 0) break;
      const candidates = [...running].sort();
      const actor = candidates[Math.min(candidates.length - 1, Math.floor(this.random() * candidates.length))];
      const resume = this.parked.get(actor);
      this.parked.delete(actor);
      resume?.();
    }
    await Promise.all(settled);
    return results;
  }

  private until(condition: () => boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        reject(new Error(`StepScheduler: an operation neither called the API nor finished within ${this.stuckAfterMs} ms`));
      }, this.stuckAfterMs);
      const check = () => {
        if (!condition()) return;
        this.wake = undefined;
        clearTimeout(timer);
        resolve();
      };
      this.wake = check;
      check();
    });
  }
}

export { seededRandom } from '../../support/seeded-random.js';
