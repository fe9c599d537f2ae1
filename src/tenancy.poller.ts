import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  Optional,
} from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { equalJitterBackoff } from './backoff.js';
import { EventCursor } from './event-cursor.js';
import { reportFailure } from './failure.reporter.js';
import { OrgOrderingQueue } from './org-ordering.queue.js';
import { StatusReporter } from './status.reporter.js';
import { TenantManagerClient } from './tenant-manager.client.js';
import type { EventsPage } from './tenant-manager.wire.js';
import { TenancyEventProcessor, type ProcessingRun, type QueuedEvent } from './tenancy-event.processor.js';
import { TenancyHandlerRegistry } from './tenancy-handler.registry.js';
import { LOG_CONTEXT, MAX_INVALID_EVENT_STRIKES, TENANCY_RESOLVED_OPTIONS } from './tenancy.constants.js';
import { TenantManagerRequestError, toError } from './tenancy.errors.js';
import { invalidEvent, invalidEventSkipped, requestFailed, unknownEventSkipped } from './tenancy.messages.js';
import type { ResolvedTenancyOptions } from './tenancy-options.js';
import { ResourceType, type TenancyEvent } from './tenancy-event.js';

/** Where the poller is in its life. */
export type TenancyPollerPhase = 'idle' | 'replaying' | 'polling' | 'stopping' | 'stopped';

/** Everything one start() … stop() cycle owns, so a restart begins clean. */
interface Run extends ProcessingRun {
  readonly handlerAbort: AbortController;
  readonly fetchAbort: AbortController;
  readonly queue: OrgOrderingQueue<QueuedEvent>;
  readonly timers: Set<string>;
  closed: boolean;
  loop?: Promise<void>;
  resyncing?: Promise<void>;
}

let pollerSequence = 0;

/**
 * Follows the Tenant Manager: replays the snapshot, then polls for new events and
 * hands each to the org-ordered queue. Starts on application bootstrap (unless
 * `autoStart: false`) without delaying it, and drains at shutdown.
 */
@Injectable()
export class TenancyPoller implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(LOG_CONTEXT);
  private readonly timerPrefix: string;
  private readonly ownTimers = new Map<string, NodeJS.Timeout>();
  private readonly cursor = new EventCursor();
  private readonly invalidStrikes = new Map<string, number>();
  private currentPhase: TenancyPollerPhase = 'idle';
  private ready = false;
  private run?: Run;
  private readyWaiters: Array<() => void> = [];
  private timerSequence = 0;

  constructor(
    @Inject(TENANCY_RESOLVED_OPTIONS) private readonly options: ResolvedTenancyOptions,
    private readonly client: TenantManagerClient,
    private readonly registry: TenancyHandlerRegistry,
    private readonly processor: TenancyEventProcessor,
    private readonly status: StatusReporter,
    // When the host app runs ScheduleModule.forRoot(), our poll timer is registered
    // there (visible and inspectable with the host's own jobs); otherwise a plain timer.
    @Optional() private readonly schedulerRegistry?: SchedulerRegistry,
  ) {
    this.timerPrefix = `nestjs-tenancy:${options.controllerName}:${++pollerSequence}`;
  }

  onApplicationBootstrap(): void {
    if (this.options.autoStart) this.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  /** Current phase. */
  get phase(): TenancyPollerPhase {
    return this.currentPhase;
  }

  /**
   * Completed low-watermark: every event-log id at or below it was handled (or
   * parked). Restarting from here would lose nothing.
   */
  get lastEventId(): number {
    return this.cursor.completed;
  }

  /** Highest event-log id fetched so far (the next poll asks for ids after it). */
  get fetchCursor(): number {
    return this.cursor.fetched;
  }

  /** True once the replay snapshot has been fetched and queued; false again at shutdown. */
  isReady(): boolean {
    return this.ready;
  }

  /** Resolves when {@link isReady} becomes true. */
  whenReady(): Promise<void> {
    if (this.ready) return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  /**
   * Resolves when nothing is queued, in flight, waiting to retry, or waiting to be
   * written as status. Parked events do not count. Tests wait on this, not on sleeps.
   */
  async whenIdle(): Promise<void> {
    for (;;) {
      const run = this.run;
      if (run) await run.queue.whenIdle();
      await this.status.whenIdle();
      if (!this.run || (this.run.queue.size === 0 && this.status.pending === 0)) return;
    }
  }

  /** Starts replay and polling in the background. No-op while already running. */
  start(): void {
    if (this.run && !this.run.closed) return;
    this.status.reopen();
    const run: Run = {
      handlerAbort: new AbortController(),
      fetchAbort: new AbortController(),
      timers: new Set(),
      closed: false,
      get shutdown() {
        return this.handlerAbort.signal;
      },
      queue: undefined as unknown as OrgOrderingQueue<QueuedEvent>,
    };
    (run as { queue: OrgOrderingQueue<QueuedEvent> }).queue = new OrgOrderingQueue<QueuedEvent>(
      this.options,
      (item) => this.processor.process(item, run),
      (item) => {
        if (!item.payload.replay) this.cursor.finished(item.payload.event.id);
      },
    );
    this.run = run;
    this.currentPhase = 'replaying';
    run.loop = this.follow(run).catch((error: unknown) => {
      // follow() handles its own failures; anything here is a bug, never a crash.
      reportFailure(this.logger, this.options, toError(error), `poller loop crashed: ${toError(error).message}`);
    });
  }

  /**
   * Stops fetching at once, waits up to `shutdownTimeout` for in-flight handlers,
   * then aborts their signals and gives pending status writes a last attempt.
   * Queued events that never started are left for the next replay.
   */
  async stop(): Promise<void> {
    const run = this.run;
    if (!run || run.closed) return;
    const deadline = Date.now() + this.options.shutdownTimeout;
    this.currentPhase = 'stopping';
    this.ready = false;
    run.fetchAbort.abort(new Error('poller stopping'));
    this.clearTimers(run);
    run.queue.stop();
    if (!(await this.within(run.queue.whenNoneInFlight(), deadline))) {
      this.logger.warn(
        `[${this.options.controllerName}] ${run.queue.inFlight} handler(s) still running after shutdownTimeout (${this.options.shutdownTimeout} ms); aborting their signals`,
      );
      run.handlerAbort.abort(new Error('application shutting down'));
      await this.within(run.queue.whenNoneInFlight(), Date.now() + 1_000);
    }
    run.closed = true;
    const unsent = await this.status.close(deadline);
    if (unsent > 0) {
      this.logger.warn(`[${this.options.controllerName}] ${unsent} status write(s) could not be sent before shutdown`);
    }
    await this.within(run.loop ?? Promise.resolve(), Date.now() + 1_000);
    this.currentPhase = 'stopped';
  }

  /** Re-queues parked events: all of them, or those of one resource. Returns how many. */
  retry(resourceId?: string): number {
    const run = this.run;
    if (!run || run.closed) return 0;
    return run.queue.wake((item) => resourceId === undefined || item.payload.event.resourceId === resourceId);
  }

  /**
   * Fetches a fresh replay snapshot and queues it behind in-flight work. The
   * snapshot is level-based (current state), so this repairs any drift.
   */
  resync(): Promise<void> {
    const run = this.run;
    if (!run || run.closed) return Promise.resolve();
    run.resyncing ??= this.replay(run, 'resync').then(() => {
      run.resyncing = undefined;
    });
    return run.resyncing;
  }

  /** Events that could not be handled and are no longer retried, oldest first. */
  parkedEvents(): TenancyEvent[] {
    return this.run ? this.run.queue.parked.map((item) => item.payload.event) : [];
  }

  private async follow(run: Run): Promise<void> {
    if (!(await this.replay(run, 'replay'))) return;
    this.ready = true;
    for (const resolve of this.readyWaiters.splice(0)) resolve();
    this.currentPhase = 'polling';
    this.scheduleResync(run);
    let failures = 0;
    while (!run.closed && !run.fetchAbort.signal.aborted) {
      // Backpressure: never hold more than maxQueuedEvents fetched-but-unfinished.
      const room = this.options.maxQueuedEvents - run.queue.size;
      if (room <= 0) {
        await this.interruptible(run, run.queue.whenBelow(this.options.maxQueuedEvents));
        continue;
      }
      const limit = Math.min(this.options.pollLimit, room);
      const after = this.cursor.fetched;
      let page: EventsPage;
      try {
        page = await this.client.fetchAfter(after, limit, run.fetchAbort.signal);
        if (page.lastEventId < after) {
          throw new TenantManagerRequestError(
            `Tenant Manager poll after ${after}: malformed response: lastEventId ${page.lastEventId} is behind the cursor`,
            200,
          );
        }
        this.checkInvalid(page);
      } catch (error) {
        if (run.fetchAbort.signal.aborted) return;
        failures += 1;
        reportFailure(this.logger, this.options, toError(error), requestFailed('poll', toError(error).message));
        // Invalid events may be transient corruption: back off; plain failures wait a tick.
        const wait = isInvalidEvents(error)
          ? equalJitterBackoff(failures, this.options)
          : this.options.pollInterval;
        await this.sleep(run, wait);
        continue;
      }
      failures = 0;
      const queued = this.enqueue(run, page, false);
      this.cursor.fetchedThrough(page.lastEventId, queued);
      // A full page means more may be waiting: fetch again at once (drain a backlog).
      if (page.received < limit) await this.sleep(run, this.options.pollInterval);
    }
  }

  /** Fetches the snapshot until it succeeds or the run stops; queues it. */
  private async replay(run: Run, why: 'replay' | 'resync'): Promise<boolean> {
    const started = Date.now();
    this.logger.log(`[${this.options.controllerName}] ${why} started`);
    for (let attempt = 1; ; attempt += 1) {
      if (run.fetchAbort.signal.aborted) return false;
      try {
        const page = await this.client.fetchReplay(run.fetchAbort.signal);
        this.checkInvalid(page);
        if (why === 'replay') this.cursor.reset(page.lastEventId);
        const queued = this.enqueue(run, page, true);
        this.logger.log(
          `[${this.options.controllerName}] ${why} fetched ${page.received} event(s), queued ${queued.length}, lastEventId ${page.lastEventId}, in ${Date.now() - started} ms`,
        );
        return true;
      } catch (error) {
        if (run.fetchAbort.signal.aborted) return false;
        const delay = equalJitterBackoff(attempt, this.options);
        reportFailure(
          this.logger,
          this.options,
          toError(error),
          `${requestFailed(why, toError(error).message)}; retrying in ${delay} ms (attempt ${attempt})`,
        );
        await this.sleep(run, delay);
      }
    }
  }

  /**
   * Queues a page's events for the resource types we follow; returns the ids of
   * queued incremental events (replayed ones have id 0 and no place in the log).
   */
  private enqueue(run: Run, page: EventsPage, replay: boolean): number[] {
    for (const raw of page.unknown) this.logger.warn(`[${this.options.controllerName}] ${unknownEventSkipped(raw)}`);
    const ids: number[] = [];
    for (const event of page.events) {
      // Types nobody handles are ignored entirely: no status rows for them.
      if (!this.registry.follows(event.resourceType)) continue;
      const key = event.resourceType === ResourceType.Project ? (event.orgId ?? event.resourceId) : event.resourceId;
      run.queue.push(key, { event, replay });
      if (!replay) ids.push(event.id);
    }
    return ids;
  }

  /**
   * A page with an invalid event is treated as a failed request (the cursor stays),
   * because corruption on the way is usually transient. An event still invalid after
   * MAX_INVALID_EVENT_STRIKES fetches is reported once more and skipped.
   */
  private checkInvalid(page: EventsPage): void {
    if (page.invalid.length === 0) return;
    const blocking = page.invalid.filter((bad) => {
      const strikes = (this.invalidStrikes.get(bad.identity) ?? 0) + 1;
      this.invalidStrikes.set(bad.identity, strikes);
      return strikes < MAX_INVALID_EVENT_STRIKES;
    });
    if (blocking.length > 0) {
      const first = blocking[0];
      throw new InvalidEventsError(invalidEvent(first.reasons, first.raw));
    }
    for (const bad of page.invalid) {
      this.invalidStrikes.delete(bad.identity);
      const error = new TenantManagerRequestError(invalidEventSkipped(MAX_INVALID_EVENT_STRIKES, bad.raw), 200);
      reportFailure(this.logger, this.options, error, error.message);
    }
  }

  private scheduleResync(run: Run): void {
    const interval = this.options.resyncInterval;
    if (interval === undefined || run.closed) return;
    // ±10% jitter so replicas and restarts do not resync in lockstep.
    const delay = Math.round(interval * (0.9 + Math.random() * 0.2));
    this.setTimer(run, delay, () => {
      void this.resync().then(() => this.scheduleResync(run));
    });
  }

  private sleep(run: Run, ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (run.fetchAbort.signal.aborted) return resolve();
      const name = this.setTimer(run, ms, () => {
        run.fetchAbort.signal.removeEventListener('abort', onAbort);
        resolve();
      });
      const onAbort = () => {
        this.deleteTimer(run, name);
        resolve();
      };
      run.fetchAbort.signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private interruptible(run: Run, promise: Promise<void>): Promise<void> {
    return new Promise((resolve) => {
      const onAbort = () => resolve();
      run.fetchAbort.signal.addEventListener('abort', onAbort, { once: true });
      void promise.then(() => {
        run.fetchAbort.signal.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }

  /** A one-shot timer, in the host's SchedulerRegistry when it has one. */
  private setTimer(run: Run, ms: number, callback: () => void): string {
    let name = `${this.timerPrefix}:${++this.timerSequence}`;
    const registry = this.schedulerRegistry;
    while (registry?.doesExist('timeout', name)) name = `${this.timerPrefix}:${++this.timerSequence}`;
    const timer = setTimeout(() => {
      this.deleteTimer(run, name);
      callback();
    }, ms);
    run.timers.add(name);
    if (registry) registry.addTimeout(name, timer);
    else this.ownTimers.set(name, timer);
    return name;
  }

  private deleteTimer(run: Run, name: string): void {
    run.timers.delete(name);
    if (this.schedulerRegistry?.doesExist('timeout', name)) this.schedulerRegistry.deleteTimeout(name);
    clearTimeout(this.ownTimers.get(name));
    this.ownTimers.delete(name);
  }

  private clearTimers(run: Run): void {
    for (const name of run.timers) this.deleteTimer(run, name);
  }

  /** Waits for a promise until a deadline; true when it settled in time. */
  private async within(promise: Promise<unknown>, deadline: number): Promise<boolean> {
    const remaining = deadline - Date.now();
    if (remaining <= 0) return false;
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      promise.then(() => true),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), remaining))),
    ]);
    clearTimeout(timer);
    return outcome;
  }
}

/** A page held back because of invalid events (see checkInvalid). */
class InvalidEventsError extends TenantManagerRequestError {}

function isInvalidEvents(error: unknown): boolean {
  return error instanceof InvalidEventsError;
}
