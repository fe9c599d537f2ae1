/**
 * Promises that resolve once a count drops below a threshold. One shared promise per
 * threshold: callers that race it against a timer and come back later must not pile
 * up waiters.
 */
export class BelowWaiters {
  private readonly waiters = new Map<number, { promise: Promise<void>; resolve: () => void }>();

  /** A promise for "the count is below `below`" (the caller checked it is not yet). */
  wait(below: number): Promise<void> {
    let waiter = this.waiters.get(below);
    if (!waiter) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      waiter = { promise, resolve };
      this.waiters.set(below, waiter);
    }
    return waiter.promise;
  }

  /** The count is now `count`: resolves every waiter whose threshold it is below. */
  update(count: number): void {
    for (const [below, waiter] of this.waiters) {
      if (count < below) {
        waiter.resolve();
        this.waiters.delete(below);
      }
    }
  }

  /** Resolves the waiters of one threshold now, whatever the count. */
  release(below: number): void {
    this.waiters.get(below)?.resolve();
    this.waiters.delete(below);
  }

  /** Resolves every waiter (the queue stopped). */
  releaseAll(): void {
    for (const waiter of this.waiters.values()) waiter.resolve();
    this.waiters.clear();
  }
}
