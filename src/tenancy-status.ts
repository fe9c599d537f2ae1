// Public types of `TenancyPoller.getStatus()`: a leaf, imports nothing of the engine.

/**
 * Where the poller is in its life. `replaying`/`polling`: a run is active; `standby`: a
 * coordinated replica that is not (or no longer) the leader; `stopping`/`stopped`: stop().
 */
export type TenancyPollerPhase = 'idle' | 'standby' | 'replaying' | 'polling' | 'stopping' | 'stopped';

/** An event that is failing (retrying) or parked. */
export interface TenancyEventIssue {
  readonly eventId: number;
  readonly eventType: string;
  readonly resourceType: string;
  readonly resourceId: string;
  readonly resourceName: string;
  readonly replay: boolean;
  /** Failed attempts so far. */
  readonly attempts: number;
  readonly lastError: string | null;
}

/** A point-in-time view of the poller, for health checks, dashboards and debugging. */
export interface TenancyStatus {
  readonly controller: string;
  readonly phase: TenancyPollerPhase;
  /** Replay snapshot fetched and queued; false before that and from shutdown on. */
  readonly ready: boolean;
  /** The fetch loop is making attempts; independent of the Tenant Manager being reachable. */
  readonly alive: boolean;
  /**
   * This replica is the active one: with `coordination`, while it holds the leadership;
   * without, while it runs (from start() until stop()), so false before start and after stop.
   */
  readonly leader: boolean;
  /** Coordination identity of this replica; null without coordination. */
  readonly identity: string | null;
  /** Highest event-log id fetched. */
  readonly fetchCursor: number;
  /** Every event-log id at or below this was handled or parked (= `lastEventId`). */
  readonly completedEventId: number;
  /** Waiting to start (not in flight, not waiting for a retry). */
  readonly queued: number;
  readonly inFlight: number;
  readonly retrying: number;
  readonly parked: number;
  readonly parkedEvents: readonly TenancyEventIssue[];
  readonly failingEvents: readonly TenancyEventIssue[];
  readonly statusWritesPending: number;
  readonly lastPollAttemptAt: Date | null;
  readonly lastPollSuccessAt: Date | null;
  /** The last replay (or resync) and how far the queue got with it. */
  readonly replay: ReplayProgressSnapshot | null;
  readonly counters: TenancyCounters;
}

/** Counters since the module started; part of `TenancyPoller.getStatus()`. */
export interface TenancyCounters {
  /** Attempts by `"<resourceType>/<eventType>/<result>"`, e.g. `"project/created/success"`. */
  readonly events: Record<string, number>;
  readonly retries: number;
  readonly statusWrites: { readonly ok: number; readonly failed: number };
  readonly polls: { readonly ok: number; readonly failed: number };
}

/** Progress of one replay snapshot through the queue. */
export interface ReplayProgressSnapshot {
  readonly total: number;
  readonly handled: number;
  readonly startedAt: Date;
  readonly finishedAt: Date | null;
}
