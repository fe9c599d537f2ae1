import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { QueueItem, WorkOutcome } from './keyed-work-queue.js';
import type { StatusWriter, WantedStatus } from '../tenant-manager/status-writer.js';
import { HandlerInvoker } from './handler-invoker.js';
import { InProgressTimers } from './in-progress-timers.js';
import { type TenancyHandler, TenancyHandlerRegistry } from '../discovery/tenancy-handler.registry.js';
import { TENANCY_RESOLVED_OPTIONS } from '../tenancy.constants.js';
import { type LogFields, TenancyLogger } from '../telemetry/tenancy-logger.js';
import { abandonedAtShutdown, abandonedOnLeadershipLoss, eventFailed, eventHandled, eventParked } from '../tenancy.messages.js';
import { TenancyTelemetry } from '../telemetry/tenancy.telemetry.js';
import type { ResolvedTenancyOptions } from '../tenancy-options.js';
import { ControllerStatus, EventType, type TenancyEvent } from '../tenancy-event.js';

/** An event waiting in the queue, with where it came from and how it has fared. */
export interface QueuedEvent {
  /** Replaceable until started: a newer snapshot of the same resource updates it. */
  event: TenancyEvent;
  readonly replay: boolean;
  /** Set when the first attempt starts. */
  started: boolean;
  /** Message of the last failed attempt, for getStatus(). */
  lastError?: string;
  /** Called once the event is done or parked (replay progress). */
  onFinished?: () => void;
  /** The cursor epoch it was queued under: after the event log was replaced, old ids no longer count. */
  readonly epoch: number;
}

/** What an attempt needs of its run: the abort signal, the run's status writer, whether it is over. */
export interface ProcessingRun {
  /** Aborted at shutdown (after shutdownTimeout) and on leadership loss. */
  readonly shutdown: AbortSignal;
  readonly closed: boolean;
  /** True when the run ended because this replica lost the leadership. */
  readonly lostLeadership: boolean;
  readonly status: StatusWriter;
}

// The constant wanted states, shared by every event.
const IN_PROGRESS: WantedStatus = Object.freeze({ kind: 'put', status: ControllerStatus.InProgress, message: '' });
const COMPLETED: WantedStatus = Object.freeze({ kind: 'put', status: ControllerStatus.Completed, message: '' });
const DELETE: WantedStatus = Object.freeze({ kind: 'delete' });

/** `inProgressAfter` passed and the handler still runs: say so (a timer callback, no closure). */
function writeInProgress(run: ProcessingRun, resourceType: string, resourceId: string): void {
  if (!run.closed) run.status.post(resourceType, resourceId, IN_PROGRESS);
}

// Unique per attempt across replicas and restarts without a random call per event.
const DISPATCH_PREFIX = randomBytes(4).toString('hex');
let dispatchSequence = 0;

/**
 * One attempt at one event, with the reference client's status lifecycle:
 * `in_progress`, the handlers, then `completed` (created) or a status DELETE
 * (deleted) on success, `error` with the message on failure. With
 * `inProgressAfter`, `in_progress` is written only for a handler still running
 * after that long (a converged replay then costs one write per event). Logs the outcome of
 * every attempt once, with structured fields.
 */
@Injectable()
export class AttemptRunner {
  private readonly inProgressTimers = new InProgressTimers();

  constructor(
    @Inject(TENANCY_RESOLVED_OPTIONS) private readonly options: ResolvedTenancyOptions,
    private readonly registry: TenancyHandlerRegistry,
    private readonly dispatcher: HandlerInvoker,
    private readonly telemetry: TenancyTelemetry,
    private readonly logger: TenancyLogger,
  ) {}

  async process(item: QueueItem<QueuedEvent>, run: ProcessingRun): Promise<WorkOutcome> {
    if (run.closed) return 'retry';
    const outcome = await this.attempt(item, run);
    // Every outcome may have left a status write behind (completed or error alike): neither
    // a replay nor a stream of failing events may run ahead of them without bound (memory).
    // The run releases this wait when it stops starting attempts.
    if (run.status.congested) await run.status.whenRoom();
    return outcome;
  }

  private async attempt(item: QueueItem<QueuedEvent>, run: ProcessingRun): Promise<WorkOutcome> {
    const queued = item.payload;
    queued.started = true;
    const { event, replay } = queued;
    const { resourceType, resourceId } = event;
    const started = performance.now();
    const handlers = this.registry.match(event);
    // Status writes are never awaited: the writer sends them in order per resource,
    // and a status write never decides an event, so a slow status endpoint slows
    // status only (S2 in `npm run bench`: 5.3× → 7.3× the reference).
    const status = run.status;
    const inProgressAfter = this.options.inProgressAfter;
    let inProgressTimer: NodeJS.Timeout | undefined;
    if (inProgressAfter === undefined) status.post(resourceType, resourceId, IN_PROGRESS);
    // Cleared when the run's signal aborts too: a hung handler must not keep it past stop().
    else inProgressTimer = this.inProgressTimers.arm(run.shutdown, inProgressAfter, writeInProgress, run, resourceType, resourceId);
    const result = await this.dispatcher.dispatch(event, handlers, {
      replay,
      attempt: item.attempt,
      shutdown: run.shutdown,
    });
    this.inProgressTimers.disarm(run.shutdown, inProgressTimer);
    if (!result.error) {
      // Deleting our row on a successful delete is what lets the Tenant Manager
      // hard-delete the resource; until then it stays "deleting" (and is replayed).
      if (!run.closed) status.post(resourceType, resourceId, event.eventType === EventType.Deleted ? DELETE : COMPLETED);
      this.telemetry.eventOutcome(resourceType, event.eventType, 'success');
      // Per event: verbose, and neither its text nor its fields are built unless someone reads them.
      if (this.logger.enabled('verbose')) {
        this.logger.verbose(eventHandled(event, item.attempt), attemptFields(event, replay, handlers, item.attempt, started));
      }
      return 'done';
    }
    if (run.shutdown.aborted) {
      // Aborted, not failed: leave the row as it is; the next run (here or on the new
      // leader) replays it.
      const text = run.lostLeadership ? abandonedOnLeadershipLoss(event) : abandonedAtShutdown(event);
      this.logger.warn(text, attemptFields(event, replay, handlers, item.attempt, started));
      return 'retry';
    }
    const error = result.error;
    queued.lastError = error.message;
    if (!run.closed) status.post(resourceType, resourceId, { kind: 'put', status: ControllerStatus.Error, message: error.message });
    const maxAttempts = this.options.maxAttempts;
    const park = error.terminal || (maxAttempts !== undefined && item.attempt >= maxAttempts);
    this.telemetry.eventOutcome(resourceType, event.eventType, park ? 'parked' : 'failure');
    if (park) {
      this.logger.failure(error, eventParked(event, item.attempt, error.message), 'warn', attemptFields(event, replay, handlers, item.attempt, started));
      await result.abandoned;
      return 'park';
    }
    this.telemetry.retry();
    // Logged at attempts 1, 2, 4, 8 …: a resource failing for hours stays visible
    // without one log line per retry tick. onError still hears every failure.
    const loud = (item.attempt & (item.attempt - 1)) === 0;
    this.logger.failure(
      error,
      eventFailed(event, item.attempt, error.message),
      loud ? 'error' : 'debug',
      attemptFields(event, replay, handlers, item.attempt, started),
    );
    await result.abandoned;
    return 'retry';
  }
}

// The registry hands out one array per event kind: its label is joined once.
const handlerLabels = new WeakMap<readonly TenancyHandler[], string | null>();

function handlerLabel(handlers: readonly TenancyHandler[]): string | null {
  let label = handlerLabels.get(handlers);
  if (label === undefined) {
    label = handlers.map((h) => h.name).join(',') || null;
    handlerLabels.set(handlers, label);
  }
  return label;
}

/** The structured fields of one attempt's log line. */
function attemptFields(
  event: TenancyEvent,
  replay: boolean,
  handlers: readonly TenancyHandler[],
  attempt: number,
  started: number,
): LogFields {
  return {
    dispatchId: `${DISPATCH_PREFIX}-${++dispatchSequence}`,
    eventId: event.id,
    replay,
    eventType: event.eventType,
    resourceType: event.resourceType,
    resourceId: event.resourceId,
    resourceName: event.resourceName,
    orgId: event.orgId,
    handler: handlerLabel(handlers),
    attempt,
    durationMs: Math.round((performance.now() - started) * 100) / 100,
  };
}
