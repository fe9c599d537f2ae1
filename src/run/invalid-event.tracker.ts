import type { InvalidWireEvent } from '../tenant-manager/tenant-manager.wire.js';

/**
 * Counts, per event identity, how many fetches in a row returned it invalid. A page
 * with an invalid event is held back (corruption on the way is usually transient);
 * once the same event stayed invalid `limit` times it is let through to be skipped,
 * so one bad record cannot block the controller forever. Only identities seen in
 * the latest page are kept, so the map never outgrows one page.
 */
export class InvalidEventTracker {
  private strikes = new Map<string, number>();

  constructor(private readonly limit: number) {}

  /** Sorts a page's invalid events into those that still hold it back and those to skip now. */
  check(invalid: readonly InvalidWireEvent[]): { blocking: InvalidWireEvent[]; skipped: InvalidWireEvent[] } {
    const next = new Map<string, number>();
    const blocking: InvalidWireEvent[] = [];
    const skipped: InvalidWireEvent[] = [];
    for (const bad of invalid) {
      const strikes = (this.strikes.get(bad.identity) ?? 0) + 1;
      if (strikes >= this.limit) skipped.push(bad);
      else {
        blocking.push(bad);
        next.set(bad.identity, strikes);
      }
    }
    // A page that is still held back will be fetched again: skip nothing yet, but
    // remember the events that reached the limit so they go through next time.
    if (blocking.length > 0) for (const bad of skipped) next.set(bad.identity, this.limit - 1);
    this.strikes = next;
    return blocking.length > 0 ? { blocking, skipped: [] } : { blocking: [], skipped };
  }
}
