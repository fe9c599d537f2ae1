import type { SchedulerRegistry } from '@nestjs/schedule';
import { CronJob } from 'cron';

/** Either a period in ms (jittered ±10% once per run) or a cron expression. */
export type ResyncSchedule = number | string;

/**
 * The timers of one run. The poll loop and the resync are stable, named jobs
 * (`tenancy:<controller>:poll`, `tenancy:<controller>:resync`), registered in the
 * host's `SchedulerRegistry` when it has one (visible next to its own jobs), else
 * plain timers; backoff waits are plain timers. `stop()` leaves nothing behind.
 */
export class RunSchedule {
  private readonly names = new Map<'interval' | 'cron', string[]>([
    ['interval', []],
    ['cron', []],
  ]);
  private pollTimer?: NodeJS.Timeout;
  private resyncTimer?: NodeJS.Timeout;
  private resyncJob?: CronJob;
  private tickWaiters: Array<() => void> = [];
  private readonly sleeps = new Set<() => void>();
  private stopped = false;

  constructor(
    private readonly controller: string,
    private readonly registry?: SchedulerRegistry,
  ) {}

  /** Starts the poll ticker: {@link nextTick} resolves at its next beat. */
  startPolling(interval: number): void {
    if (this.stopped || this.pollTimer) return;
    this.pollTimer = setInterval(() => {
      for (const resolve of this.tickWaiters.splice(0)) resolve();
    }, interval);
    this.register('interval', 'poll', this.pollTimer);
  }

  /** Resolves at the next poll beat, or at once when `signal` aborts (or the run stopped). */
  nextTick(signal: AbortSignal): Promise<void> {
    if (signal.aborted || this.stopped || !this.pollTimer) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        signal.removeEventListener('abort', done);
        resolve();
      };
      this.tickWaiters.push(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  /** Resolves after `ms` (a backoff), or at once when `signal` aborts or the run stops. */
  sleep(ms: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted || this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.sleeps.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.sleeps.add(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  /** Calls `fire` on the resync schedule until stop(). */
  startResync(schedule: ResyncSchedule, fire: () => void): void {
    if (this.stopped || this.resyncTimer || this.resyncJob) return;
    if (typeof schedule === 'string') {
      // Started before it is registered: one that cannot start (no next date) throws and leaves nothing behind.
      const job = CronJob.from({ cronTime: schedule, onTick: fire, start: false });
      job.start();
      this.resyncJob = job;
      this.register('cron', 'resync', job);
      return;
    }
    // Jittered once per run so replicas and restarts do not resync in lockstep.
    this.resyncTimer = setInterval(fire, Math.round(schedule * (0.9 + Math.random() * 0.2)));
    this.register('interval', 'resync', this.resyncTimer);
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.pollTimer);
    clearInterval(this.resyncTimer);
    void this.resyncJob?.stop();
    for (const name of this.names.get('interval')!) {
      if (this.registry?.doesExist('interval', name)) this.registry.deleteInterval(name);
    }
    for (const name of this.names.get('cron')!) {
      if (this.registry?.doesExist('cron', name)) this.registry.deleteCronJob(name);
    }
    for (const resolve of this.tickWaiters.splice(0)) resolve();
    // Deleting the current entry while iterating a Set is safe.
    for (const done of this.sleeps) done();
  }

  private register(kind: 'interval' | 'cron', job: string, handle: NodeJS.Timeout | CronJob): void {
    if (!this.registry) return;
    const base = `tenancy:${this.controller}:${job}`;
    // Two modules following the same controller in one app: the second gets a suffix.
    let name = base;
    for (let n = 2; this.registry.doesExist(kind, name); n += 1) name = `${base}#${n}`;
    if (kind === 'cron') this.registry.addCronJob(name, handle as CronJob);
    else this.registry.addInterval(name, handle as NodeJS.Timeout);
    this.names.get(kind)!.push(name);
  }
}
