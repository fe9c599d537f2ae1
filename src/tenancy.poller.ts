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
import { createCoordinator } from './coordination/create-coordinator.js';
import { LeaderElection } from './coordination/leader-election.js';
import { EventCursor } from './event-cursor.js';
import { FetchFailureTracker } from './fetch-failure.tracker.js';
import { reportFailure } from './failure.reporter.js';
import { OrgOrderingQueue, type QueueItem } from './org-ordering.queue.js';
import { PollTimers } from './poll.timers.js';
import { ReplayProgress } from './replay.progress.js';
import { StatusReporter } from './status.reporter.js';
import { TenantManagerClient } from './tenant-manager.client.js';
import type { EventsPage } from './tenant-manager.wire.js';
import { TenancyEventProcessor, type ProcessingRun, type QueuedEvent } from './tenancy-event.processor.js';
import { TenancyHandlerRegistry } from './tenancy-handler.registry.js';
import type { TenancyEventIssue, TenancyPollerPhase, TenancyStatus } from './tenancy-status.js';
import { LOG_CONTEXT, MAX_INVALID_EVENT_STRIKES, TENANCY_RESOLVED_OPTIONS } from './tenancy.constants.js';
import { TenantManagerRequestError, toError } from './tenancy.errors.js';
import { invalidEvent, invalidEventSkipped, requestFailed, unknownEventSkipped } from './tenancy.messages.js';
import { TenancyTelemetry } from './tenancy.telemetry.js';
import type { ResolvedTenancyOptions } from './tenancy-options.js';
import { ResourceType, type TenancyEvent } from './tenancy-event.js';

export type { TenancyPollerPhase } from './tenancy-status.js';

/** Everything one start() … stop() cycle owns, so a restart begins clean. */
interface Run extends ProcessingRun {
  readonly handlerAbort: AbortController;
  readonly fetchAbort: AbortController;
  readonly queue: OrgOrderingQueue<QueuedEvent>;
  closed: boolean;
  loop?: Promise<void>;
  resyncing?: Promise<void>;
}

/** Liveness tolerates this many loop periods without a fetch attempt. */
const LIVENESS_PERIODS = 3;

/**
 * Follows the Tenant Manager: replays the snapshot, then polls for new events and
 * hands each to the org-ordered queue. Starts on application bootstrap (unless
 * `autoStart: false`) without delaying it, and drains at shutdown.
 */
@Injectable()
export class TenancyPoller implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(LOG_CONTEXT);
  private readonly timers: PollTimers;
  private readonly cursor = new EventCursor();
  private readonly invalidStrikes = new Map<string, number>();
  private readonly replayFailures: FetchFailureTracker;
  private readonly pollFailures: FetchFailureTracker;
  private currentPhase: TenancyPollerPhase = 'idle';
  private ready = false;
  private run?: Run;
  private readyWaiters: Array<() => void> = [];
  private lastAttemptAt: number | null = null;
  private lastSuccessAt: number | null = null;
  private replayProgress: ReplayProgress | null = null;
  private stopping?: Promise<void>;
  private readonly election?: LeaderElection;

  constructor(
    @Inject(TENANCY_RESOLVED_OPTIONS) private readonly options: ResolvedTenancyOptions,
    private readonly client: TenantManagerClient,
    private readonly registry: TenancyHandlerRegistry,
    private readonly processor: TenancyEventProcessor,
    private readonly status: StatusReporter,
    private readonly telemetry: TenancyTelemetry,
    // When the host app runs ScheduleModule.forRoot(), our timers are registered
    // there (visible next to the host's own jobs); otherwise plain timers.
    @Optional() schedulerRegistry?: SchedulerRegistry,
  ) {
    this.timers = new PollTimers(options.controllerName, schedulerRegistry);
    this.replayFailures = new FetchFailureTracker('replay', this.logger, options);
    this.pollFailures = new FetchFailureTracker('poll', this.logger, options);
    if (options.coordination) {
      this.election = new LeaderElection(
        createCoordinator(options.coordination),
        { elected: () => this.startRun(), lost: (reason) => this.abandonRun(reason) },
        this.logger,
        options.controllerName,
      );
    }
    telemetry.bindGauges(() => ({ ...this.getStatus(), lastPollSuccessAt: this.lastSuccessAt }));
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

  /** Readiness: the replay snapshot was fetched and queued; false again from shutdown on. */
  isReady(): boolean {
    return this.ready;
  }

  /**
   * Liveness: the fetch loop is still making attempts (its last replay or poll
   * attempt is younger than 3 × max(pollInterval, maxBackoff, httpTimeout)). It does
   * not depend on the Tenant Manager answering, so an outage never restarts pods.
   */
  isAlive(): boolean {
    if (this.currentPhase === 'idle' || this.currentPhase === 'stopping') return true;
    // A standby replica is alive while its election loop keeps trying.
    const last = this.currentPhase === 'standby' ? (this.election?.lastAttemptAt ?? null) : this.lastAttemptAt;
    if (this.currentPhase === 'stopped' || last === null) return false;
    const period = Math.max(this.options.pollInterval, this.options.maxBackoff, this.options.httpTimeout);
    return Date.now() - last < LIVENESS_PERIODS * period;
  }

  /** True while this replica is the active one (always, when running without coordination). */
  isLeader(): boolean {
    if (this.election) return this.election.isLeader;
    return this.run !== undefined && !this.run.closed;
  }

  /** Resolves when {@link isReady} becomes true. */
  whenReady(): Promise<void> {
    if (this.ready) return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  /**
   * Resolves when the replay has been fetched (if the poller is running) and nothing
   * is queued, in flight, waiting to retry, or waiting to be written as status.
   * Parked events do not count. Tests wait on this, not on sleeps.
   */
  async whenIdle(): Promise<void> {
    if (this.run && !this.run.closed && !this.ready) await this.whenReady();
    for (;;) {
      const run = this.run;
      if (run) await run.queue.whenIdle();
      await this.status.whenIdle();
      if (!this.run || (this.run.queue.size === 0 && this.status.pending === 0)) return;
    }
  }

  /** A point-in-time view for health checks and dashboards. */
  getStatus(): TenancyStatus {
    const queue = this.run?.queue;
    const inFlight = queue?.inFlight ?? 0;
    const retrying = queue?.retrying ?? 0;
    return {
      controller: this.options.controllerName,
      phase: this.currentPhase,
      ready: this.ready,
      alive: this.isAlive(),
      leader: this.isLeader(),
      identity: this.election?.identity ?? null,
      fetchCursor: this.cursor.fetched,
      completedEventId: this.cursor.completed,
      queued: (queue?.size ?? 0) - inFlight - retrying,
      inFlight,
      retrying,
      parked: queue?.parked.length ?? 0,
      parkedEvents: (queue?.parked ?? []).map((item) => issueOf(item, item.attempt)),
      failingEvents: (queue?.retryingItems() ?? []).map((item) => issueOf(item, item.attempt - 1)),
      statusWritesPending: this.status.pending,
      lastPollAttemptAt: this.lastAttemptAt === null ? null : new Date(this.lastAttemptAt),
      lastPollSuccessAt: this.lastSuccessAt === null ? null : new Date(this.lastSuccessAt),
      replay: this.replayProgress?.snapshot() ?? null,
      counters: this.telemetry.counters(),
    };
  }

  /**
   * Starts in the background: replay, then polling. With `coordination`, starts the
   * election instead, and only the leader replays and polls. No-op while running.
   */
  start(): void {
    if (this.stopping) return;
    if (this.election) {
      if (this.currentPhase === 'idle') this.currentPhase = 'standby';
      this.election.start();
      return;
    }
    this.startRun();
  }

  /**
   * Stops fetching at once, waits up to `shutdownTimeout` for in-flight handlers,
   * then aborts their signals and gives pending status writes a last attempt.
   * Queued events that never started are left for the next replay. With
   * `coordination`, then releases the leadership so a standby takes over at once.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      if (this.election) await this.election.stop(() => this.drainRun());
      else await this.drainRun();
      if (this.currentPhase !== 'idle') this.currentPhase = 'stopped';
    })().finally(() => {
      this.stopping = undefined;
    });
    return this.stopping;
  }

  private startRun(): void {
    if (this.run && !this.run.closed) return;
    this.status.reopen();
    const handlerAbort = new AbortController();
    const run: Run = {
      handlerAbort,
      fetchAbort: new AbortController(),
      shutdown: handlerAbort.signal,
      closed: false,
      queue: new OrgOrderingQueue<QueuedEvent>(
        this.options,
        (item) => this.processor.process(item, run),
        (item) => {
          if (!item.payload.replay) this.cursor.finished(item.payload.event.id);
          item.payload.onFinished?.();
        },
      ),
    };
    this.run = run;
    this.currentPhase = 'replaying';
    run.loop = this.follow(run).catch((error: unknown) => {
      // follow() handles its own failures; anything here is a bug, never a crash.
      reportFailure(this.logger, this.options, toError(error), `poller loop crashed: ${toError(error).message}`);
    });
  }

  /** Graceful: drain in-flight handlers and status writes within shutdownTimeout. */
  private async drainRun(): Promise<void> {
    const run = this.run;
    if (!run || run.closed) return;
    const deadline = Date.now() + this.options.shutdownTimeout;
    this.currentPhase = 'stopping';
    this.ready = false;
    run.fetchAbort.abort(new Error('poller stopping'));
    this.timers.clearAll();
    run.queue.stop();
    if (!(await within(run.queue.whenNoneInFlight(), deadline))) {
      this.logger.warn(
        `[${this.options.controllerName}] ${run.queue.inFlight} handler(s) still running after shutdownTimeout (${this.options.shutdownTimeout} ms); aborting their signals`,
      );
      run.handlerAbort.abort(new Error('application shutting down'));
      await within(run.queue.whenNoneInFlight(), Date.now() + 1_000);
    }
    run.closed = true;
    const unsent = await this.status.close(deadline);
    if (unsent > 0) {
      this.logger.warn(`[${this.options.controllerName}] ${unsent} status write(s) could not be sent before shutdown`);
    }
    await within(run.loop ?? Promise.resolve(), Date.now() + 1_000);
    this.timers.clearAll();
  }

  /**
   * Leadership lost: stop fetching, abort handlers and stop writing status at once
   * (another replica owns the rows now), then wait for the old work to settle so a
   * later win never overlaps it. The next win replays from scratch.
   */
  private async abandonRun(reason: string): Promise<void> {
    const run = this.run;
    this.ready = false;
    if (this.currentPhase !== 'stopping' && this.currentPhase !== 'stopped') this.currentPhase = 'standby';
    if (!run || run.closed) return;
    run.closed = true;
    run.fetchAbort.abort(new Error(reason));
    run.handlerAbort.abort(new Error(`leadership lost: ${reason}`));
    this.timers.clearAll();
    run.queue.stop();
    this.status.discard();
    await within(run.queue.whenNoneInFlight(), Date.now() + this.options.shutdownTimeout);
    await within(run.loop ?? Promise.resolve(), Date.now() + 1_000);
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
    while (!run.fetchAbort.signal.aborted) {
      // Backpressure: never hold more than maxQueuedEvents fetched-but-unfinished.
      // The wait wakes every pollInterval so liveness sees a loop that is alive.
      const room = this.options.maxQueuedEvents - run.queue.size;
      if (room <= 0) {
        this.lastAttemptAt = Date.now();
        await Promise.race([
          run.queue.whenBelow(this.options.maxQueuedEvents),
          this.timers.sleep(this.options.pollInterval, run.fetchAbort.signal),
        ]);
        continue;
      }
      const limit = Math.min(this.options.pollLimit, room);
      const after = this.cursor.fetched;
      let page: EventsPage;
      this.lastAttemptAt = Date.now();
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
        this.telemetry.poll(false);
        this.pollFailures.failed(toError(error), requestFailed('poll', toError(error).message));
        // Invalid events may be transient corruption: back off; other failures wait a tick.
        const wait =
          error instanceof InvalidEventsError
            ? equalJitterBackoff(this.pollFailures.failures, this.options)
            : this.options.pollInterval;
        await this.timers.sleep(wait, run.fetchAbort.signal);
        continue;
      }
      this.telemetry.poll(true);
      this.pollFailures.succeeded();
      this.lastSuccessAt = Date.now();
      const queued = this.enqueue(run, page, false);
      this.cursor.fetchedThrough(page.lastEventId, queued);
      // A full page means more may be waiting: fetch again at once (drain a backlog).
      if (page.received < limit) await this.timers.sleep(this.options.pollInterval, run.fetchAbort.signal);
    }
  }

  /** Fetches the snapshot until it succeeds or the run stops; queues it. */
  private async replay(run: Run, what: 'replay' | 'resync'): Promise<boolean> {
    const started = Date.now();
    this.logger.log(`[${this.options.controllerName}] ${what} started`, { controller: this.options.controllerName });
    for (;;) {
      if (run.fetchAbort.signal.aborted) return false;
      this.lastAttemptAt = Date.now();
      try {
        const page = await this.client.fetchReplay(run.fetchAbort.signal);
        this.checkInvalid(page);
        this.telemetry.poll(true);
        this.replayFailures.succeeded();
        this.lastSuccessAt = Date.now();
        if (what === 'replay') this.cursor.reset(page.lastEventId);
        const progress = new ReplayProgress(
          page.events.filter((e) => this.registry.follows(e.resourceType)).length,
          what,
          this.logger,
          this.options.controllerName,
          (seconds) => this.telemetry.replayFinished(seconds),
        );
        this.replayProgress = progress;
        this.enqueue(run, page, true, progress.handledOne);
        this.logger.log(
          `[${this.options.controllerName}] ${what} fetched ${page.received} event(s) in ${Date.now() - started} ms, queued ${progress.total}, lastEventId ${page.lastEventId}`,
          { controller: this.options.controllerName, received: page.received, queued: progress.total, lastEventId: page.lastEventId },
        );
        return true;
      } catch (error) {
        if (run.fetchAbort.signal.aborted) return false;
        this.telemetry.poll(false);
        const delay = equalJitterBackoff(this.replayFailures.failures + 1, this.options);
        this.replayFailures.failed(
          toError(error),
          `${requestFailed(what, toError(error).message)}; retrying in ${delay} ms (attempt ${this.replayFailures.failures + 1})`,
        );
        await this.timers.sleep(delay, run.fetchAbort.signal);
      }
    }
  }

  /**
   * Queues a page's events for the resource types we follow; returns the ids of
   * queued incremental events (replayed ones have id 0 and no place in the log).
   */
  private enqueue(run: Run, page: EventsPage, replay: boolean, onFinished?: () => void): number[] {
    for (const raw of page.unknown) {
      this.logger.warn(`[${this.options.controllerName}] ${unknownEventSkipped(raw)}`);
    }
    const ids: number[] = [];
    for (const event of page.events) {
      // Types nobody handles are ignored entirely: no status rows for them.
      if (!this.registry.follows(event.resourceType)) continue;
      const key = event.resourceType === ResourceType.Project ? (event.orgId ?? event.resourceId) : event.resourceId;
      run.queue.push(key, { event, replay, onFinished });
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
    this.timers.set(delay, () => {
      void this.resync().then(() => this.scheduleResync(run));
    });
  }
}

/** A page held back because of invalid events (see checkInvalid). */
class InvalidEventsError extends TenantManagerRequestError {}

function issueOf(item: QueueItem<QueuedEvent>, attempts: number): TenancyEventIssue {
  const { event, replay, lastError } = item.payload;
  return {
    eventId: event.id,
    eventType: event.eventType,
    resourceType: event.resourceType,
    resourceId: event.resourceId,
    resourceName: event.resourceName,
    replay,
    attempts,
    lastError: lastError ?? null,
  };
}

/** Waits for a promise until a deadline; true when it settled in time. */
async function within(promise: Promise<unknown>, deadline: number): Promise<boolean> {
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
