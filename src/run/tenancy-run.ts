import type { SchedulerRegistry } from '@nestjs/schedule';
import { settledBy } from '../common/deadline.js';
import type { ProcessingRun, QueuedEvent } from '../dispatch/attempt-runner.js';
import { KeyedWorkQueue, type QueueItem, type WorkOutcome } from '../dispatch/keyed-work-queue.js';
import { type StatusPort, StatusWriter } from '../tenant-manager/status-writer.js';
import { toError } from '../tenancy.errors.js';
import { handlersStillRunning, statusWritesUnsent } from '../tenancy.messages.js';
import type { TenancyLogger } from '../telemetry/tenancy-logger.js';
import type { TenancyTelemetry } from '../telemetry/tenancy.telemetry.js';
import type { ResolvedTenancyOptions } from '../tenancy-options.js';
import type { TenancyEventIssue } from '../tenancy-status.js';
import { AttemptHandover } from './attempt-handover.js';
import { toEventIssue } from './event-issue.js';
import { EventFeed, type EventsPort } from './event-feed.js';
import { NewestParked } from './newest-parked.js';
import { RunResync } from './run-resync.js';
import { RunSchedule } from './run-schedule.js';

/** What every run is built from (the module's singletons). */
export interface RunServices {
  readonly options: ResolvedTenancyOptions;
  readonly client: EventsPort & StatusPort;
  readonly follows: (resourceType: string) => boolean;
  readonly attempts: { process(item: QueueItem<QueuedEvent>, run: ProcessingRun): Promise<WorkOutcome> };
  readonly telemetry: TenancyTelemetry;
  readonly logger: TenancyLogger;
  readonly scheduler?: SchedulerRegistry;
}

/**
 * `replaying` → `polling` → `draining` → `finished` (graceful stop), or → `abandoned`
 * at once (leadership lost).
 */
export type RunState = 'replaying' | 'polling' | 'draining' | 'finished' | 'abandoned';

/** Waiting status writes get at least this long at shutdown, even after a slow drain. */
const MIN_STATUS_FLUSH = 1_000;

/**
 * Everything one start() … stop() cycle (or one leadership term) owns: the ordering
 * queue, both abort signals, the feed with its cursor and snapshot bookkeeping, the
 * status writer, the timers. A new run shares nothing with an old one, and the old
 * one's late completions, status writes, timers and progress callbacks are dead ends;
 * its still-running handlers hold back the same org in the new run until they settle.
 */
export class TenancyRun implements ProcessingRun {
  readonly queue: KeyedWorkQueue<QueuedEvent>;
  readonly status: StatusWriter;
  readonly feed: EventFeed;
  private readonly schedule: RunSchedule;
  private readonly resyncs: RunResync;
  private readonly handlerAbort = new AbortController();
  private readonly fetchAbort = new AbortController();
  private stateValue: RunState = 'replaying';
  private closedFlag = false;
  private lost = false;
  private loop: Promise<void> = Promise.resolve();
  private ending?: Promise<void>;
  private readonly handover: AttemptHandover;
  private readonly newestParked = new NewestParked();

  /** `earlier`: the previous run's {@link stillRunning} attempts, held back in this run until they settle. */
  constructor(
    private readonly services: RunServices,
    earlier: ReadonlyMap<string, Promise<unknown>> = new Map(),
  ) {
    this.handover = new AttemptHandover(earlier);
    const { options, client, logger, telemetry } = services;
    this.queue = new KeyedWorkQueue<QueuedEvent>(
      options,
      (item) => this.work(item),
      (item, outcome) => this.finished(item, outcome),
    );
    this.status = new StatusWriter(client, options, telemetry, logger);
    this.schedule = new RunSchedule(options.controllerName, services.scheduler);
    this.feed = new EventFeed({
      options,
      client,
      follows: services.follows,
      telemetry,
      logger,
      queue: this.queue,
      schedule: this.schedule,
      signal: this.fetchAbort.signal,
      live: () => this.accepting,
    });
    this.resyncs = new RunResync(options, logger, this.feed, this.schedule, () => this.queue.size);
  }

  get state(): RunState {
    return this.stateValue;
  }

  /** Handlers' signal: aborted after shutdownTimeout at stop, and at once on leadership loss. */
  get shutdown(): AbortSignal {
    return this.handlerAbort.signal;
  }

  /** No status is written for this run any more. */
  get closed(): boolean {
    return this.closedFlag;
  }

  get lostLeadership(): boolean {
    return this.lost;
  }

  /** Replaying or polling: fetching and starting handlers. */
  get accepting(): boolean {
    return this.stateValue === 'replaying' || this.stateValue === 'polling';
  }

  /** Starts the replay, then polling; `onReady` once the replay snapshot is queued. */
  start(onReady: () => void): void {
    this.loop = this.feed
      .follow(() => {
        if (!this.accepting) return;
        this.stateValue = 'polling';
        onReady();
        this.resyncs.startSchedule(() => void this.resync());
      })
      .catch((error: unknown) => {
        // follow() handles its own failures; anything here is a bug, never a crash.
        const crash = toError(error);
        this.services.logger.failure(crash, `poller loop crashed: ${crash.message}`);
      });
  }

  /** Fetches a fresh snapshot and queues it behind in-flight work (see TenancyPoller.resync). */
  resync(): Promise<void> {
    if (this.stateValue !== 'polling') return Promise.resolve();
    return this.resyncs.request();
  }

  /** Re-queues parked events (all, or one resource's); returns how many. */
  retry(resourceId?: string): number {
    if (!this.accepting) return 0;
    return this.queue.wake((item) => resourceId === undefined || item.payload.event.resourceId === resourceId);
  }

  /** Resolves when nothing is queued, in flight, retrying or waiting to be written (or the run ended). */
  async whenIdle(): Promise<void> {
    while (this.accepting && (this.queue.size > 0 || this.status.pending > 0)) {
      await this.queue.whenIdle();
      await this.status.whenIdle();
    }
  }

  /**
   * Graceful end: stop fetching and starting handlers at once, wait up to
   * shutdownTimeout for in-flight handlers (then abort their signals), give waiting
   * status writes a last attempt. Nothing of this run leaves the process afterwards.
   */
  drain(): Promise<void> {
    this.ending ??= this.drainOnce();
    return this.ending;
  }

  /**
   * Leadership lost: stop fetching, abort handlers and drop status writes at once
   * (another replica owns the rows now), then wait (bounded) for the old work to settle.
   */
  abandon(reason: string): Promise<void> {
    this.ending ??= (async () => {
      this.lost = true;
      this.end('abandoned', new Error(`leadership lost: ${reason}`));
      this.handlerAbort.abort(new Error(`leadership lost: ${reason}`));
      this.status.abandon('status writes dropped: leadership lost');
      await settledBy(this.queue.whenNoneInFlight(), Date.now() + this.services.options.shutdownTimeout);
      await settledBy(this.loop, Date.now() + 1_000);
    })();
    return this.ending;
  }

  /** Failing and parked events, for getStatus() (lists: not for every scrape). */
  issues(): { parked: TenancyEventIssue[]; failing: TenancyEventIssue[] } {
    return {
      parked: this.queue.parked.map((item) => toEventIssue(item, item.attempt)),
      failing: this.queue.retryingItems().map((item) => toEventIssue(item, item.attempt - 1)),
    };
  }

  /**
   * What a successor run must wait for, by org: this run's attempts still running and the
   * earlier ones it still waits for. A snapshot: the successor never holds this run.
   */
  stillRunning(): Map<string, Promise<unknown>> {
    return this.handover.stillRunning();
  }

  private async work(item: QueueItem<QueuedEvent>): Promise<WorkOutcome> {
    // A handler of a run before (abandoned, maybe still running) must settle first.
    const earlier = this.handover.earlierOf(item.key);
    if (earlier) await earlier;
    if (!this.accepting) return 'retry';
    const attempt = this.services.attempts.process(item, this);
    this.handover.started(item.key, attempt);
    try {
      return await attempt;
    } finally {
      this.handover.settled(item.key, attempt);
    }
  }

  /** An item left the queue (done or parked). Dead end once the run was abandoned. */
  private finished(item: QueueItem<QueuedEvent>, outcome: 'done' | 'park'): void {
    if (this.stateValue === 'abandoned') return;
    const payload = item.payload;
    this.feed.finished(payload);
    // Once: a parked event that is woken and finishes again must not count twice.
    const onFinished = payload.onFinished;
    payload.onFinished = undefined;
    onFinished?.();
    // Only the newest parked event per resource may be woken (see NewestParked).
    const superseded = this.newestParked.finished(item, outcome);
    if (superseded) this.queue.unpark(superseded);
  }

  private async drainOnce(): Promise<void> {
    const { options, logger } = this.services;
    const deadline = Date.now() + options.shutdownTimeout;
    this.end('draining', new Error('poller stopping'));
    if (!(await settledBy(this.queue.whenNoneInFlight(), deadline))) {
      logger.warn(handlersStillRunning(this.queue.inFlight, options.shutdownTimeout));
      this.handlerAbort.abort(new Error('application shutting down'));
      await settledBy(this.queue.whenNoneInFlight(), Date.now() + 1_000);
    }
    this.closedFlag = true;
    const unsent = await this.status.close(Math.max(deadline, Date.now() + MIN_STATUS_FLUSH));
    if (unsent > 0) logger.warn(statusWritesUnsent(unsent));
    await settledBy(this.loop, Date.now() + 1_000);
    this.stateValue = 'finished';
  }

  private end(state: 'draining' | 'abandoned', reason: Error): void {
    this.stateValue = state;
    if (state === 'abandoned') this.closedFlag = true;
    this.fetchAbort.abort(reason);
    this.schedule.stop();
    this.queue.stop();
    // Attempts held back by a congested status writer are done with their handlers.
    this.status.releaseRoomWaiters();
  }
}
