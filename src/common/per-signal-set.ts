/**
 * A set of things per abort signal, with one abort listener per signal (not one per
 * thing: many attempts run under one run's signal at once). When the signal aborts,
 * `onAbort` gets the set and the reason.
 */
export class PerSignalSet<T> {
  private readonly sets = new WeakMap<AbortSignal, Set<T>>();

  constructor(private readonly onAbort: (members: Set<T>, reason: unknown) => void) {}

  /** The set of `signal`; the first call subscribes to its abort. */
  of(signal: AbortSignal): Set<T> {
    let members = this.sets.get(signal);
    if (!members) {
      const created = new Set<T>();
      this.sets.set(signal, created);
      signal.addEventListener('abort', () => this.onAbort(created, signal.reason), { once: true });
      members = created;
    }
    return members;
  }

  /** The set of `signal` if one was made. */
  peek(signal: AbortSignal): Set<T> | undefined {
    return this.sets.get(signal);
  }
}
