import { equalJitterBackoff } from '../common/backoff.js';
import { retryDelay } from '../common/retry-delay.js';
import type { KeyedWorkQueue } from '../dispatch/keyed-work-queue.js';
import type { QueuedEvent } from '../dispatch/attempt-runner.js';
import type { DecodedEventsPage } from '../tenant-manager/tenant-manager.wire.js';
import { TenantManagerRequestError, toError } from '../tenancy.errors.js';
import { eventLogCheckAfterOutage, eventLogWentBack, replayRetrying, replayStarted, requestFailed } from '../tenancy.messages.js';
import type { TenancyLogger } from '../telemetry/tenancy-logger.js';
import type { TenancyTelemetry } from '../telemetry/tenancy.telemetry.js';
import type { ResolvedTenancyOptions } from '../tenancy-options.js';
import { EventCursor } from './event-cursor.js';
import { EventIntake } from './event-intake.js';
import { FetchFailureTracker } from './fetch-failure.tracker.js';
import { InvalidEventScreen } from './invalid-event.screen.js';
import { InvalidEventsError, PageJudge } from './page-judge.js';
import type { ReplayProgress } from './replay-progress.js';
import type { RunSchedule } from './run-schedule.js';
import { SnapshotAcceptance, type SnapshotMode } from './snapshot-acceptance.js';

/** The two event calls of the Tenant Manager client (a port, for tests). */
export interface EventsPort {
  fetchReplay(signal?: AbortSignal): Promise<DecodedEventsPage>;
  fetchAfter(after: number, limit: number, signal?: AbortSignal): Promise<DecodedEventsPage>;
}

/** What the feed of one run works with. */
export interface FeedContext {
  readonly options: ResolvedTenancyOptions;
  readonly client: EventsPort;
  readonly follows: (resourceType: string) => boolean;
  readonly telemetry: TenancyTelemetry;
  readonly logger: TenancyLogger;
  readonly queue: KeyedWorkQueue<QueuedEvent>;
  readonly schedule: RunSchedule;
  /** Aborted when the run stops fetching. */
  readonly signal: AbortSignal;
  /** False once the run is over: its late callbacks are dead ends. */
  readonly live: () => boolean;
}

/**
 * Everything between the Tenant Manager and the queue for one run: the replay with
 * retries, the poll loop (full-page drain, backpressure, shedding behind stuck
 * orgs), resyncs and recoveries, and the judgement of bad or impossible responses.
 */
export class EventFeed {
  readonly cursor = new EventCursor();
  lastAttemptAt: number | null = null;
  lastSuccessAt: number | null = null;
  private readonly intake: EventIntake;
  private readonly judge: PageJudge;
  private readonly replayFailures: FetchFailureTracker;
  private readonly pollFailures: FetchFailureTracker;
  private readonly replayInvalid: InvalidEventScreen;
  private readonly pollInvalid: InvalidEventScreen;
  private readonly snapshots: SnapshotAcceptance;
  // The current poll failure streak has a failed request (not only refused pages).
  private unreachable = false;

  constructor(private readonly ctx: FeedContext) {
    this.intake = new EventIntake(ctx.queue, ctx.follows, this.cursor, ctx.logger);
    this.judge = new PageJudge(ctx.logger);
    this.snapshots = new SnapshotAcceptance(ctx.logger, ctx.telemetry, this.intake, this.cursor, ctx.live);
    this.replayFailures = new FetchFailureTracker('replay', ctx.logger);
    this.pollFailures = new FetchFailureTracker('poll', ctx.logger);
    this.replayInvalid = new InvalidEventScreen(ctx.logger);
    this.pollInvalid = new InvalidEventScreen(ctx.logger);
  }

  /** The newest replay or resync's progress, for getStatus(). */
  get replayProgress(): ReplayProgress | null {
    return this.snapshots.progress;
  }

  /** An item left the queue (done or parked). */
  finished(payload: QueuedEvent): void {
    this.intake.finished(payload);
  }

  /** Replay, then poll until the run stops fetching. `onReady` runs once the replay is queued. */
  async follow(onReady: () => void): Promise<void> {
    const { options, queue, signal, schedule } = this.ctx;
    if (!(await this.snapshot('replay'))) return;
    // Polling first: nothing onReady does may keep the loop from its ticker.
    schedule.startPolling(options.pollInterval);
    onReady();
    // Backpressure: never hold more than maxQueuedEvents fetched-but-unfinished. Near
    // the bound, wait for a tenth of it (at most a page) rather than one at a time.
    const minimum = Math.min(options.pollLimit, Math.max(1, Math.floor(options.maxQueuedEvents / 10)));
    while (!signal.aborted) {
      const unblocked = this.intake.unblocked();
      if (unblocked.length > 0) {
        await this.snapshot('recovery', unblocked);
        continue;
      }
      const room = options.maxQueuedEvents - queue.size;
      if (room < minimum) {
        // An org stuck retrying must not fill the queue and stop everybody.
        if (this.intake.shedBlocked() > 0) continue;
        this.lastAttemptAt = Date.now();
        await Promise.race([queue.whenBelow(options.maxQueuedEvents - minimum + 1), schedule.nextTick(signal)]);
        continue;
      }
      const limit = Math.min(options.pollLimit, room);
      const outcome = await this.pollOnce(limit);
      if (outcome === 'short') await schedule.nextTick(signal);
    }
  }

  /** Fetches a snapshot until it succeeds or the run stops, and queues it. */
  async snapshot(mode: SnapshotMode, keys: readonly string[] = []): Promise<boolean> {
    const { client, signal, options, telemetry, schedule } = this.ctx;
    const started = Date.now();
    if (mode !== 'recovery') this.ctx.logger.verbose(replayStarted(mode));
    if (mode === 'resync') this.intake.watchNewer(true);
    try {
      for (;;) {
        if (signal.aborted) return false;
        this.lastAttemptAt = Date.now();
        let page: DecodedEventsPage;
        // A snapshot is taken after it was asked for: healthy, it is never behind this.
        const floor = this.cursor.fetched;
        try {
          page = await client.fetchReplay(signal);
          this.replayInvalid.check(page);
        } catch (error) {
          if (signal.aborted) return false;
          telemetry.poll(false);
          const attempt = this.replayFailures.failures + 1;
          const delay = retryDelay(equalJitterBackoff(attempt, options), error, options.maxBackoff);
          const what = mode === 'recovery' ? 'replay' : mode;
          this.replayFailures.failed(toError(error), replayRetrying(what, toError(error).message, delay, attempt));
          await schedule.sleep(delay, signal);
          continue;
        }
        this.fetchSucceeded(this.replayFailures);
        this.snapshots.accept(page, mode, keys, started, floor);
        return true;
      }
    } finally {
      if (mode === 'resync') this.intake.watchNewer(false);
    }
  }

  /** One incremental fetch: 'full' when more may be waiting, 'short' when caught up. */
  private async pollOnce(limit: number): Promise<'full' | 'short' | 'failed'> {
    const { client, signal, options, telemetry, schedule, logger } = this.ctx;
    const after = this.cursor.fetched;
    const epoch = this.cursor.epoch;
    this.lastAttemptAt = Date.now();
    let page: DecodedEventsPage;
    let verdict: ReturnType<PageJudge['judge']>;
    try {
      page = await client.fetchAfter(after, limit, signal);
      verdict = this.judge.judge(page, after, limit);
      if (verdict.kind !== 'went-back') this.pollInvalid.check(page);
    } catch (error) {
      if (signal.aborted) return 'failed';
      telemetry.poll(false);
      if (looksLikeOutage(error)) this.unreachable = true;
      this.pollFailures.failed(toError(error), requestFailed('poll', toError(error).message));
      // Bad pages may be transient corruption: back off; other failures wait a tick.
      const own = error instanceof InvalidEventsError ? equalJitterBackoff(this.pollFailures.failures, options) : options.pollInterval;
      await schedule.sleep(retryDelay(own, error, options.maxBackoff), signal);
      return 'failed';
    }
    const reachableAgain = this.unreachable;
    this.unreachable = false;
    this.fetchSucceeded(this.pollFailures);
    // A snapshot replaced the log while this page was out: it answers for the old one.
    if (epoch !== this.cursor.epoch) return 'full';
    if (verdict.kind === 'went-back') {
      logger.warn(eventLogWentBack(`poll after ${after}`, after, page.lastEventId), { cursor: after, lastEventId: page.lastEventId });
      this.intake.clearHeld();
      this.snapshots.startOver();
      await this.snapshot('replay');
      return 'full';
    }
    if (reachableAgain) {
      // Restarted with a fresh log (or restored), a conforming Tenant Manager answers "nothing
      // new" here: only a snapshot tells. This page belongs to the old log if it went back.
      logger.log(eventLogCheckAfterOutage(after));
      if (!(await this.snapshot('log check')) || epoch !== this.cursor.epoch) return 'full';
    }
    const queued = this.intake.queueIncremental(this.intake.followed({ ...page, events: verdict.events }, `poll after ${after}`));
    this.cursor.fetchedThrough(verdict.through, queued);
    this.intake.forgetRecoveredBelow(this.cursor.fetched);
    return page.received < limit ? 'short' : 'full';
  }

  private fetchSucceeded(failures: FetchFailureTracker): void {
    this.ctx.telemetry.poll(true);
    failures.succeeded();
    this.lastSuccessAt = Date.now();
  }
}

/**
 * A failure that may hide a restart (so the next answer deserves a log check): no
 * answer at all, or a gateway saying the service is down. An answer from a running
 * Tenant Manager (429 throttling, 4xx, a 200 with a bad body) is no outage: replying
 * to "slow down" with a full snapshot would be the wrong way round.
 */
function looksLikeOutage(error: unknown): boolean {
  if (error instanceof InvalidEventsError) return false;
  if (!(error instanceof TenantManagerRequestError) || error.status === undefined) return true;
  return error.status === 502 || error.status === 503 || error.status === 504;
}
