import { toError } from '../tenancy.errors.js';
import { resyncNotScheduled, resyncSkipped } from '../tenancy.messages.js';
import type { TenancyLogger } from '../telemetry/tenancy-logger.js';
import type { ResolvedTenancyOptions } from '../tenancy-options.js';
import type { EventFeed } from './event-feed.js';
import type { RunSchedule } from './run-schedule.js';

/**
 * The resyncs of one run, asked for by the host or by the resync schedule. At most one
 * runs at a time (callers share it), and none starts while the queue is full: a
 * snapshot would only add to a backlog the poll loop is already holding back for.
 */
export class RunResync {
  private current?: Promise<void>;

  constructor(
    private readonly options: Pick<ResolvedTenancyOptions, 'maxQueuedEvents' | 'resyncInterval'>,
    private readonly logger: TenancyLogger,
    private readonly feed: Pick<EventFeed, 'snapshot'>,
    private readonly schedule: RunSchedule,
    private readonly queued: () => number,
  ) {}

  /** Fetches a fresh snapshot and queues it behind in-flight work. */
  request(): Promise<void> {
    const max = this.options.maxQueuedEvents;
    if (this.queued() >= max) {
      this.logger.warn(resyncSkipped(this.queued(), max));
      return Promise.resolve();
    }
    this.current ??= this.feed.snapshot('resync').then(() => {
      this.current = undefined;
    });
    return this.current;
  }

  /** A resync schedule that cannot start is reported; it never stops the poll loop or readiness. */
  startSchedule(trigger: () => void): void {
    const resync = this.options.resyncInterval;
    if (resync === undefined) return;
    try {
      this.schedule.startResync(resync, trigger);
    } catch (thrown) {
      const error = toError(thrown);
      this.logger.failure(error, resyncNotScheduled(resync, error.message.split('\n')[0].trim()));
    }
  }
}
