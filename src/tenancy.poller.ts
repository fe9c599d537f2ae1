import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  Optional,
} from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { createCoordinator } from './coordination/create-coordinator.js';
import { LeaderElection } from './coordination/leader-election.js';
import { settledBy } from './common/deadline.js';
import { EventFeed } from './run/event-feed.js';
import { KeyedWorkQueue } from './dispatch/keyed-work-queue.js';
import { PollTimers } from './run/poll-timers.js';
import { StatusWriter } from './tenant-manager/status-writer.js';
import { TenantManagerClient } from './tenant-manager/tenant-manager.client.js';
import { AttemptRunner, type ProcessingRun, type QueuedEvent } from './dispatch/attempt-runner.js';
import { TenancyHandlerRegistry } from './discovery/tenancy-handler.registry.js';
import { toEventIssue } from './run/event-issue.js';
import type { TenancyPollerPhase, TenancyStatus } from './tenancy-status.js';
import { TENANCY_RESOLVED_OPTIONS } from './tenancy.constants.js';
import { toError } from './tenancy.errors.js';
import { handlersStillRunning, resyncSkipped, statusWritesUnsent } from './tenancy.messages.js';
import type { GaugeState } from './telemetry/tenancy.prometheus.js';
import { TenancyLogger } from './telemetry/tenancy-logger.js';
import { TenancyTelemetry } from './telemetry/tenancy.telemetry.js';
import type { ResolvedTenancyOptions } from './tenancy-options.js';
import type { TenancyEvent } from './tenancy-event.js';

export type { TenancyPollerPhase } from './tenancy-status.js';

/** Everything one start() … stop() cycle owns, so a restart begins clean. */
interface Run extends ProcessingRun {
  readonly handlerAbort: AbortController;
  readonly fetchAbort: AbortController;
  readonly queue: KeyedWorkQueue<QueuedEvent>;
  closed: boolean;
  loop?: Promise<void>;
  resyncing?: Promise<void>;
}

/** Liveness tolerates this many loop periods without a fetch attempt. */
const LIVENESS_PERIODS = 3;
/** Waiting status writes get at least this long at shutdown, even after a slow drain. */
const MIN_STATUS_FLUSH = 1_000;

/**
 * Follows the Tenant Manager: replays the snapshot, then polls for new events and
 * hands each to the org-ordered queue. Starts on application bootstrap (unless
 * `autoStart: false`) without delaying it, and drains at shutdown. With
 * `coordination`, only the elected replica does any of this.
 */
@Injectable()
export class TenancyPoller implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly timers: PollTimers;
  private readonly feed: EventFeed;
  private readonly election?: LeaderElection;
  private currentPhase: TenancyPollerPhase = 'idle';
  private ready = false;
  private run?: Run;
  private readyWaiters: Array<() => void> = [];
  private stopping?: Promise<void>;

  constructor(
    @Inject(TENANCY_RESOLVED_OPTIONS) private readonly options: ResolvedTenancyOptions,
    client: TenantManagerClient,
    registry: TenancyHandlerRegistry,
    private readonly processor: AttemptRunner,
    private readonly status: StatusWriter,
    private readonly telemetry: TenancyTelemetry,
    private readonly logger: TenancyLogger,
    // When the host app runs ScheduleModule.forRoot(), our timers are registered
    // there (visible next to the host's own jobs); otherwise plain timers.
    @Optional() schedulerRegistry?: SchedulerRegistry,
  ) {
    this.timers = new PollTimers(options.controllerName, schedulerRegistry);
    this.feed = new EventFeed(options, client, registry, telemetry, this.timers, this.logger);
    if (options.coordination) {
      this.election = new LeaderElection(
        createCoordinator(options.coordination),
        { elected: () => this.startRun(), lost: (reason) => this.abandonRun(reason) },
        this.logger,
      );
    }
    telemetry.bindGauges(() => this.gaugeState());
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
   * parked). 0 until the replay snapshot is handled, since it stands for every
   * id up to its lastEventId.
   */
  get lastEventId(): number {
    return this.feed.cursor.completed;
  }

  /** Highest event-log id fetched so far (the next poll asks for ids after it). */
  get fetchCursor(): number {
    return this.feed.cursor.fetched;
  }

  /** Readiness: the replay snapshot was fetched and queued; false again from shutdown on. */
  isReady(): boolean {
    return this.ready;
  }

  /**
   * Liveness: the fetch loop (or, standing by, the election loop) is still making
   * attempts: its last one is younger than 3 × max(pollInterval, maxBackoff,
   * httpTimeout). It does not depend on the Tenant Manager answering, so an outage
   * never restarts pods.
   */
  isAlive(): boolean {
    if (this.currentPhase === 'idle' || this.currentPhase === 'stopping') return true;
    const last = this.currentPhase === 'standby' ? (this.election?.lastAttemptAt ?? null) : this.feed.lastAttemptAt;
    if (this.currentPhase === 'stopped' || last === null) return false;
    const period = Math.max(this.options.pollInterval, this.options.maxBackoff, this.options.httpTimeout);
    return Date.now() - last < LIVENESS_PERIODS * period;
  }

  /** True while this replica is the active one (always, when running without coordination). */
  isLeader(): boolean {
    if (this.election) return this.election.isLeader;
    return this.run !== undefined && !this.run.closed;
  }

  /** Resolves when {@link isReady} becomes true, or when the poller stops before that. */
  whenReady(): Promise<void> {
    if (this.ready) return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  /**
   * Resolves when the replay has been fetched (if the poller is running) and nothing
   * is queued, in flight, waiting to retry, or waiting to be written as status; or
   * when the poller stops. Parked events do not count. Tests wait on this, not on sleeps.
   */
  async whenIdle(): Promise<void> {
    for (;;) {
      const run = this.run;
      if (run && !run.closed) {
        if (!this.ready) await this.whenReady();
        await run.queue.whenIdle();
      }
      await this.status.whenIdle();
      const current = this.run;
      if (!current || current.closed || (current.queue.size === 0 && this.status.pending === 0)) return;
    }
  }

  /** A point-in-time view for health checks and dashboards. */
  getStatus(): TenancyStatus {
    const queue = this.run?.queue;
    const gauges = this.gaugeState();
    return {
      controller: this.options.controllerName,
      phase: gauges.phase,
      ready: this.ready,
      alive: this.isAlive(),
      leader: gauges.leader,
      identity: this.election?.identity ?? null,
      fetchCursor: gauges.fetchCursor,
      completedEventId: gauges.completedEventId,
      queued: gauges.queued,
      inFlight: gauges.inFlight,
      retrying: gauges.retrying,
      parked: gauges.parked,
      parkedEvents: (queue?.parked ?? []).map((item) => toEventIssue(item, item.attempt)),
      failingEvents: (queue?.retryingItems() ?? []).map((item) => toEventIssue(item, item.attempt - 1)),
      statusWritesPending: gauges.statusWritesPending,
      lastPollAttemptAt: toDate(this.feed.lastAttemptAt),
      lastPollSuccessAt: toDate(this.feed.lastSuccessAt),
      replay: this.feed.replayProgress?.snapshot() ?? null,
      counters: this.telemetry.counters(),
    };
  }

  /**
   * Starts in the background: replay, then polling. With `coordination`, starts the
   * election instead, and only the leader replays and polls. No-op while running
   * or stopping.
   */
  start(): void {
    if (this.stopping) return;
    if (this.election) {
      if (this.currentPhase === 'idle' || this.currentPhase === 'stopped') this.currentPhase = 'standby';
      this.election.start();
      return;
    }
    this.startRun();
  }

  /**
   * Stops fetching at once, waits up to `shutdownTimeout` for in-flight handlers,
   * then aborts their signals and gives waiting status writes a last attempt.
   * Queued events that never started are left for the next replay. With
   * `coordination`, then releases the leadership so a standby takes over at once.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      if (this.election) await this.election.stop(() => this.drainRun());
      else await this.drainRun();
      if (this.currentPhase !== 'idle') this.currentPhase = 'stopped';
      this.releaseReadyWaiters();
    })().finally(() => {
      this.stopping = undefined;
    });
    return this.stopping;
  }

  /** Re-queues parked events: all of them, or those of one resource. Returns how many. */
  retry(resourceId?: string): number {
    const run = this.run;
    if (!run || run.closed) return 0;
    return run.queue.wake((item) => resourceId === undefined || item.payload.event.resourceId === resourceId);
  }

  /**
   * Fetches a fresh replay snapshot and queues it behind in-flight work; resources
   * still waiting from an earlier snapshot are updated in place, not queued twice.
   * The snapshot is level-based (current state), so this repairs drift. Skipped
   * while the first replay is still coming, or while the queue is full.
   */
  resync(): Promise<void> {
    const run = this.run;
    if (!run || run.closed) return Promise.resolve();
    if (!this.ready) return this.whenReady();
    if (run.queue.size >= this.options.maxQueuedEvents) {
      this.logger.warn(
        resyncSkipped(run.queue.size, this.options.maxQueuedEvents),
      );
      return Promise.resolve();
    }
    run.resyncing ??= this.feed.replay(run, 'resync').then(() => {
      run.resyncing = undefined;
    });
    return run.resyncing;
  }

  /** Events that could not be handled and are no longer retried, oldest first. */
  parkedEvents(): TenancyEvent[] {
    return this.run ? this.run.queue.parked.map((item) => item.payload.event) : [];
  }

  private startRun(): void {
    if (this.run && !this.run.closed) return;
    this.status.reopen();
    this.feed.reset();
    const handlerAbort = new AbortController();
    const run: Run = {
      handlerAbort,
      fetchAbort: new AbortController(),
      shutdown: handlerAbort.signal,
      closed: false,
      queue: new KeyedWorkQueue<QueuedEvent>(
        this.options,
        (item) => this.processor.process(item, run),
        (item) => this.finished(run, item.payload),
      ),
    };
    this.run = run;
    this.currentPhase = 'replaying';
    run.loop = this.feed
      .follow(run, () => {
        this.ready = true;
        this.currentPhase = 'polling';
        this.releaseReadyWaiters();
        this.scheduleResync(run);
      })
      .catch((error: unknown) => {
        // follow() handles its own failures; anything here is a bug, never a crash.
        this.logger.failure(toError(error), `poller loop crashed: ${toError(error).message}`);
      });
  }

  /** An event left the queue. A later outcome for a resource supersedes its parked ones. */
  private finished(run: Run, payload: QueuedEvent): void {
    this.feed.finished(payload);
    // Once: a parked event that is woken and finishes again must not count twice.
    const onFinished = payload.onFinished;
    payload.onFinished = undefined;
    onFinished?.();
    const { resourceType, resourceId } = payload.event;
    // Waking an older parked event after a newer one ran (e.g. a parked create
    // after the delete) would undo the newer state: keep only the newest per resource.
    run.queue.discardParked(
      (parked) =>
        parked.payload !== payload &&
        parked.payload.event.resourceId === resourceId &&
        parked.payload.event.resourceType === resourceType,
    );
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
    if (!(await settledBy(run.queue.whenNoneInFlight(), deadline))) {
      this.logger.warn(
        handlersStillRunning(run.queue.inFlight, this.options.shutdownTimeout),
      );
      run.handlerAbort.abort(new Error('application shutting down'));
      await settledBy(run.queue.whenNoneInFlight(), Date.now() + 1_000);
    }
    run.closed = true;
    const unsent = await this.status.close(Math.max(deadline, Date.now() + MIN_STATUS_FLUSH));
    if (unsent > 0) this.logger.warn(statusWritesUnsent(unsent));
    await settledBy(run.loop ?? Promise.resolve(), Date.now() + 1_000);
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
    await settledBy(run.queue.whenNoneInFlight(), Date.now() + this.options.shutdownTimeout);
    await settledBy(run.loop ?? Promise.resolve(), Date.now() + 1_000);
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

  private releaseReadyWaiters(): void {
    for (const resolve of this.readyWaiters.splice(0)) resolve();
  }

  /** Counts only (no lists): read by every metrics scrape. */
  private gaugeState(): GaugeState {
    const queue = this.run?.queue;
    const inFlight = queue?.inFlight ?? 0;
    const retrying = queue?.retrying ?? 0;
    return {
      phase: this.currentPhase,
      queued: Math.max((queue?.size ?? 0) - inFlight - retrying, 0),
      inFlight,
      retrying,
      parked: queue?.parked.length ?? 0,
      fetchCursor: this.feed.cursor.fetched,
      completedEventId: this.feed.cursor.completed,
      statusWritesPending: this.status.pending,
      lastPollSuccessAt: this.feed.lastSuccessAt,
      leader: this.isLeader(),
    };
  }
}

function toDate(epochMs: number | null): Date | null {
  return epochMs === null ? null : new Date(epochMs);
}
