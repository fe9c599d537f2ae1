import type { SchedulerRegistry } from '@nestjs/schedule';

let timerOwnerSequence = 0;

/**
 * One-shot timers of one poller. When the host app runs `ScheduleModule.forRoot()`,
 * they are registered in its `SchedulerRegistry` under unique names (visible next
 * to the host's own jobs); otherwise plain timers. `clearAll()` leaves none behind.
 */
export class PollTimers {
  private readonly prefix: string;
  private readonly own = new Map<string, NodeJS.Timeout>();
  private readonly names = new Set<string>();
  private sequence = 0;

  constructor(
    controllerName: string,
    private readonly registry?: SchedulerRegistry,
  ) {
    this.prefix = `nestjs-tenancy:${controllerName}:${++timerOwnerSequence}`;
  }

  /** Calls `callback` once after `ms`; returns the timer's name. */
  set(ms: number, callback: () => void): string {
    let name = `${this.prefix}:${++this.sequence}`;
    while (this.registry?.doesExist('timeout', name)) name = `${this.prefix}:${++this.sequence}`;
    const timer = setTimeout(() => {
      this.delete(name);
      callback();
    }, ms);
    if (this.registry) this.registry.addTimeout(name, timer);
    else this.own.set(name, timer);
    this.names.add(name);
    return name;
  }

  /** Cancels a timer (no-op when it already fired). */
  delete(name: string): void {
    if (!this.names.delete(name)) return;
    if (this.registry?.doesExist('timeout', name)) this.registry.deleteTimeout(name);
    clearTimeout(this.own.get(name));
    this.own.delete(name);
  }

  clearAll(): void {
    for (const name of this.names) this.delete(name);
  }

  /** Resolves after `ms`, or at once when `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const onAbort = () => {
        this.delete(name);
        resolve();
      };
      const name = this.set(ms, () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      });
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

}
