import { PerSignalSet } from '../common/per-signal-set.js';

/**
 * The `inProgressAfter` timers of the attempts running under each run's shutdown
 * signal. Aborting the signal (stop after shutdownTimeout, leadership loss) clears
 * them all, so a hung handler that ignores its abort leaves no timer behind its run.
 * One listener per signal, not one per attempt: many attempts run at once.
 */
export class InProgressTimers {
  private readonly armed = new PerSignalSet<NodeJS.Timeout>(clearAll);

  /** Arms `fire(...args)` after `delay` ms unless the signal aborts first; undefined when it already has. */
  arm<A extends unknown[]>(shutdown: AbortSignal, delay: number, fire: (...args: A) => void, ...args: A): NodeJS.Timeout | undefined {
    if (shutdown.aborted) return undefined;
    const timer = setTimeout(fire, delay, ...args);
    this.armed.of(shutdown).add(timer);
    return timer;
  }

  /** The attempt ended: its timer is not needed any more (fired or not). */
  disarm(shutdown: AbortSignal, timer: NodeJS.Timeout | undefined): void {
    if (timer === undefined) return;
    clearTimeout(timer);
    this.armed.peek(shutdown)?.delete(timer);
  }

}

function clearAll(timers: Set<NodeJS.Timeout>): void {
  for (const timer of timers) clearTimeout(timer);
  timers.clear();
}
