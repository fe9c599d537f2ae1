import { equalJitterBackoff } from '../common/backoff.js';
import { EventCursor } from './event-cursor.js';
import { FetchFailureTracker } from './fetch-failure.tracker.js';
import { InvalidEventTracker } from './invalid-event.tracker.js';
import type { KeyedWorkQueue } from '../dispatch/keyed-work-queue.js';
import type { PollTimers } from './poll-timers.js';
import { ReplayProgress } from './replay-progress.js';
import type { TenantManagerClient } from '../tenant-manager/tenant-manager.client.js';
import type { DecodedEventsPage } from '../tenant-manager/tenant-manager.wire.js';
import type { QueuedEvent } from '../dispatch/attempt-runner.js';
import type { TenancyHandlerRegistry } from '../discovery/tenancy-handler.registry.js';
import { MAX_INVALID_EVENT_STRIKES } from '../tenancy.constants.js';
import { TenantManagerRequestError, toError } from '../tenancy.errors.js';
import {
  invalidEvent,
  invalidEventSkipped,
  lastEventIdBehindCursor,
  replayFetched,
  replayRetrying,
  replayStarted,
  requestFailed,
  unknownEventSkipped,
} from '../tenancy.messages.js';
import type { TenancyLogger } from '../telemetry/tenancy-logger.js';
import type { TenancyTelemetry } from '../telemetry/tenancy.telemetry.js';
import type { ResolvedTenancyOptions } from '../tenancy-options.js';
import { ResourceType } from '../tenancy-event.js';

/** What one run of the feed works with. */
export interface FeedRun {
  readonly queue: KeyedWorkQueue<QueuedEvent>;
  readonly fetchAbort: AbortController;
}

/**
 * Everything between the Tenant Manager and the queue: the replay with retries,
 * the poll loop (full-page drain, backpressure), resyncs, and the judgement of bad
 * responses. Keeps the cursor and the fetch times the poller reports.
 */
export class EventFeed {
  readonly cursor = new EventCursor();
  lastAttemptAt: number | null = null;
  lastSuccessAt: number | null = null;
  replayProgress: ReplayProgress | null = null;
  private readonly replayFailures: FetchFailureTracker;
  private readonly pollFailures: FetchFailureTracker;
  private readonly replayInvalid = new InvalidEventTracker(MAX_INVALID_EVENT_STRIKES);
  private readonly pollInvalid = new InvalidEventTracker(MAX_INVALID_EVENT_STRIKES);
  // Replayed events not started yet, per resource: a later snapshot replaces them
  // instead of queueing a second copy (snapshots describe state, not history).
  private readonly pendingSnapshot = new Map<string, QueuedEvent>();
  // While a resync is being fetched: resources the poll loop queued meanwhile, with
  // their event id. A snapshot older than such an event must not undo it (a stale
  // "created" queued after a fresh "deleted" would recreate the resource).
  private newerThanSnapshot?: Map<string, number>;

  constructor(
    private readonly options: ResolvedTenancyOptions,
    private readonly client: TenantManagerClient,
    private readonly registry: TenancyHandlerRegistry,
    private readonly telemetry: TenancyTelemetry,
    private readonly timers: PollTimers,
    private readonly logger: TenancyLogger,
  ) {
    this.replayFailures = new FetchFailureTracker('replay', logger);
    this.pollFailures = new FetchFailureTracker('poll', logger);
  }

  /** An item left the queue (done or parked): it no longer stands for its resource's snapshot. */
  finished(payload: QueuedEvent): void {
    if (!payload.replay) this.cursor.finished(payload.event.id);
    const key = payload.event.resourceId;
    if (this.pendingSnapshot.get(key) === payload) this.pendingSnapshot.delete(key);
  }

  /** Forgets the snapshot bookkeeping of a run that ended. */
  reset(): void {
    this.pendingSnapshot.clear();
  }

  /** Replay, then poll until the run's fetchAbort fires. `onReady` runs once the replay is queued. */
  async follow(run: FeedRun, onReady: () => void): Promise<void> {
    if (!(await this.replay(run, 'replay'))) return;
    onReady();
    while (!run.fetchAbort.signal.aborted) {
      // Backpressure: never hold more than maxQueuedEvents fetched-but-unfinished.
      // Near the bound, wait for a tenth of it (at most a page) to free up rather
      // than fetching one event per finished one.
      const room = this.options.maxQueuedEvents - run.queue.size;
      const minimum = Math.min(this.options.pollLimit, Math.max(1, Math.floor(this.options.maxQueuedEvents / 10)));
      if (room < minimum) {
        await this.waitForRoom(run, minimum);
        continue;
      }
      const limit = Math.min(this.options.pollLimit, room);
      const after = this.cursor.fetched;
      let page: DecodedEventsPage;
      this.lastAttemptAt = Date.now();
      try {
        page = await this.client.fetchAfter(after, limit, run.fetchAbort.signal);
        if (page.lastEventId < after) {
          throw new TenantManagerRequestError(lastEventIdBehindCursor(after, page.lastEventId), 200);
        }
        this.acceptInvalid(page, this.pollInvalid);
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
      this.fetchSucceeded(this.pollFailures);
      const queued = this.enqueue(run, page, false);
      this.cursor.fetchedThrough(page.lastEventId, queued);
      // A full page means more may be waiting: fetch again at once (drain a backlog).
      if (page.received < limit) await this.timers.sleep(this.options.pollInterval, run.fetchAbort.signal);
    }
  }

  /** Waits until `room` more events fit, waking every pollInterval so liveness sees the loop alive. */
  private async waitForRoom(run: FeedRun, room: number): Promise<void> {
    const resumeBelow = this.options.maxQueuedEvents - room + 1;
    while (!run.fetchAbort.signal.aborted && run.queue.size >= resumeBelow) {
      this.lastAttemptAt = Date.now();
      // The sleep gets its own signal so it can be cancelled when the queue wins.
      const wait = new AbortController();
      const stop = () => wait.abort();
      run.fetchAbort.signal.addEventListener('abort', stop, { once: true });
      await Promise.race([run.queue.whenBelow(resumeBelow), this.timers.sleep(this.options.pollInterval, wait.signal)]);
      run.fetchAbort.signal.removeEventListener('abort', stop);
      wait.abort();
    }
  }

  /**
   * Fetches the snapshot until it succeeds or the run stops, and queues it. A
   * `replay` starts the cursor over at its lastEventId; a `resync` leaves it.
   */
  async replay(run: FeedRun, what: 'replay' | 'resync'): Promise<boolean> {
    const started = Date.now();
    this.logger.verbose(replayStarted(what));
    if (what === 'resync') this.newerThanSnapshot = new Map();
    try {
      return await this.fetchSnapshot(run, what, started);
    } finally {
      this.newerThanSnapshot = undefined;
    }
  }

  private async fetchSnapshot(
    run: FeedRun,
    what: 'replay' | 'resync',
    started: number,
  ): Promise<boolean> {
    for (;;) {
      if (run.fetchAbort.signal.aborted) return false;
      this.lastAttemptAt = Date.now();
      try {
        const page = await this.client.fetchReplay(run.fetchAbort.signal);
        this.acceptInvalid(page, this.replayInvalid);
        this.fetchSucceeded(this.replayFailures);
        if (what === 'replay') this.cursor.reset(page.lastEventId);
        const progress = new ReplayProgress(
          page.events.filter((e) => this.registry.follows(e.resourceType)).length,
          what,
          this.logger,
          (seconds) => {
            if (what === 'replay') this.cursor.replayHandled();
            this.telemetry.replayFinished(seconds);
          },
        );
        this.replayProgress = progress;
        this.enqueue(run, page, true, progress.handledOne);
        this.logger.log(
          replayFetched(what, page.received, Date.now() - started, progress.total, page.lastEventId),
          { received: page.received, queued: progress.total, lastEventId: page.lastEventId },
        );
        return true;
      } catch (error) {
        if (run.fetchAbort.signal.aborted) return false;
        this.telemetry.poll(false);
        const attempt = this.replayFailures.failures + 1;
        const delay = equalJitterBackoff(attempt, this.options);
        this.replayFailures.failed(toError(error), replayRetrying(what, toError(error).message, delay, attempt));
        await this.timers.sleep(delay, run.fetchAbort.signal);
      }
    }
  }

  private fetchSucceeded(failures: FetchFailureTracker): void {
    this.telemetry.poll(true);
    failures.succeeded();
    this.lastSuccessAt = Date.now();
  }

  /**
   * Queues a page's events for the resource types we follow; returns the ids of
   * queued incremental events (replayed ones have id 0 and no place in the log).
   */
  private enqueue(run: FeedRun, page: DecodedEventsPage, replay: boolean, onFinished?: () => void): number[] {
    for (const raw of page.unknown) this.logger.warn(unknownEventSkipped(raw));
    const ids: number[] = [];
    for (const event of page.events) {
      // Types nobody handles are ignored entirely: no status rows for them.
      if (!this.registry.follows(event.resourceType)) continue;
      // Keyed by the resource's UUID alone (unique across types): no key string per event.
      const resource = event.resourceId;
      if (replay) {
        const newer = this.newerThanSnapshot?.get(resource);
        if (newer !== undefined && newer > page.lastEventId) {
          onFinished?.(); // counted as handled: the newer event stands for it
          continue;
        }
        if (this.replacePending(event, onFinished)) continue;
      } else {
        this.newerThanSnapshot?.set(resource, event.id);
      }
      const payload: QueuedEvent = { event, replay, onFinished, started: false };
      const key = event.resourceType === ResourceType.Project ? (event.orgId ?? event.resourceId) : event.resourceId;
      run.queue.push(key, payload);
      if (replay) this.pendingSnapshot.set(event.resourceId, payload);
      else ids.push(event.id);
    }
    return ids;
  }

  /** A replayed event whose resource still waits in the queue from an earlier snapshot updates it in place. */
  private replacePending(event: QueuedEvent['event'], onFinished?: () => void): boolean {
    const pending = this.pendingSnapshot.get(event.resourceId);
    if (!pending || pending.started || pending.event.resourceType !== event.resourceType) return false;
    pending.event = event;
    const earlier = pending.onFinished;
    pending.onFinished = earlier && onFinished ? () => (earlier(), onFinished()) : (earlier ?? onFinished);
    return true;
  }

  /**
   * A page with an invalid event is treated as a failed request (the cursor stays),
   * because corruption on the way is usually transient; one still invalid after
   * MAX_INVALID_EVENT_STRIKES fetches is reported once more and skipped.
   */
  private acceptInvalid(page: DecodedEventsPage, tracker: InvalidEventTracker): void {
    if (page.invalid.length === 0) return;
    const { blocking, skipped } = tracker.check(page.invalid);
    if (blocking.length > 0) throw new InvalidEventsError(invalidEvent(blocking[0].reasons, blocking[0].raw));
    for (const bad of skipped) {
      const error = new TenantManagerRequestError(invalidEventSkipped(MAX_INVALID_EVENT_STRIKES, bad.raw), 200);
      this.logger.failure(error, error.message);
    }
  }
}

/** A page held back because of invalid events (see acceptInvalid). */
class InvalidEventsError extends TenantManagerRequestError {}
