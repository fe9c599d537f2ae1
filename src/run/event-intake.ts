import type { KeyedWorkQueue } from '../dispatch/keyed-work-queue.js';
import type { QueuedEvent } from '../dispatch/attempt-runner.js';
import type { DecodedEventsPage } from '../tenant-manager/tenant-manager.wire.js';
import { keyHeldBack, unknownEventsSkipped } from '../tenancy.messages.js';
import type { TenancyLogger } from '../telemetry/tenancy-logger.js';
import { ResourceType, type TenancyEvent } from '../tenancy-event.js';
import type { EventCursor } from './event-cursor.js';
import { QueuedEventItem } from './queued-event.item.js';

/** The queue key of an event: its org (projects of one org are handled in order). */
export function orderingKey(event: TenancyEvent): string {
  return event.resourceType === ResourceType.Project ? (event.orgId ?? event.resourceId) : event.resourceId;
}

/**
 * Puts fetched events into the run's queue and keeps the bookkeeping that decides
 * what is queued: snapshot events still waiting (a later snapshot updates them in
 * place), events newer than a snapshot being fetched, and orgs held back because
 * they were stuck retrying while their backlog filled the queue (their waiting
 * events are dropped and recovered from a snapshot once they unblock).
 */
export class EventIntake {
  // While a resync is fetched: resources the poll loop queued meanwhile, by event id.
  // A snapshot older than such an event must not undo it.
  private newerThanSnapshot?: Map<string, number>;
  // Held-back orgs: 'blocked' while their head retries, 'unblocked' once it finished.
  private readonly held = new Map<string, 'blocked' | 'unblocked'>();
  // Recovered orgs: incremental events at or below the snapshot's lastEventId are in it.
  private readonly recoveredUpTo = new Map<string, number>();

  constructor(
    private readonly queue: KeyedWorkQueue<QueuedEvent>,
    private readonly follows: (resourceType: string) => boolean,
    private readonly cursor: EventCursor,
    private readonly logger: TenancyLogger,
  ) {}

  /** Starts (or ends) remembering poll events that a snapshot being fetched must not undo. */
  watchNewer(on: boolean): void {
    this.newerThanSnapshot = on ? new Map() : undefined;
  }

  /** Forgets the newer-than-snapshot marks (the log they came from is gone). */
  forgetNewer(): void {
    if (this.newerThanSnapshot) this.newerThanSnapshot = new Map();
  }

  /** The events of a page we follow; logs one line for those of unknown types. */
  followed(page: { readonly events: readonly TenancyEvent[]; readonly unknown: DecodedEventsPage['unknown'] }, what: string): TenancyEvent[] {
    if (page.unknown.length > 0) this.logger.warn(unknownEventsSkipped(what, page.unknown.length, page.unknown[0]));
    return page.events.filter((event) => this.follows(event.resourceType));
  }

  /** Queues an incremental page's events; returns the ids now outstanding. */
  queueIncremental(events: readonly TenancyEvent[]): number[] {
    const ids: number[] = [];
    for (const event of events) {
      const key = orderingKey(event);
      // Held back: the recovery snapshot will carry this event's effect.
      if (this.held.has(key)) continue;
      const upTo = this.recoveredUpTo.get(key);
      if (upTo !== undefined && event.id <= upTo) continue;
      this.newerThanSnapshot?.set(event.resourceId, event.id);
      this.queue.pushItem(new QueuedEventItem(key, event, 'log', undefined, this.cursor.epoch));
      ids.push(event.id);
    }
    return ids;
  }

  /** Recovery marks that the cursor has passed are no longer needed. */
  forgetRecoveredBelow(fetched: number): void {
    for (const [key, upTo] of this.recoveredUpTo) if (upTo <= fetched) this.recoveredUpTo.delete(key);
  }

  /**
   * Queues a snapshot's events (already filtered by {@link followed}); `onFinished`
   * is called once per event when it is done, parked or superseded.
   */
  queueSnapshot(events: readonly TenancyEvent[], lastEventId: number, onFinished: () => void): void {
    const waiting = this.waitingReplayed();
    for (const event of events) {
      const key = orderingKey(event);
      const newer = this.newerThanSnapshot?.get(event.resourceId);
      if (this.held.has(key) || (newer !== undefined && newer > lastEventId)) {
        onFinished(); // the newer event (or the recovery) stands for it
        continue;
      }
      if (waiting !== undefined && replacePending(waiting, event, onFinished)) continue;
      this.queue.pushItem(new QueuedEventItem(key, event, 'snapshot', onFinished, this.cursor.epoch));
    }
  }

  /** A queued item left the queue (done or parked). */
  finished(payload: QueuedEvent): void {
    if (!payload.replay && payload.epoch === this.cursor.epoch) this.cursor.finished(payload.event.id);
    const key = orderingKey(payload.event);
    if (this.held.get(key) === 'blocked') this.held.set(key, 'unblocked');
  }

  /**
   * Frees room behind orgs stuck retrying: drops their waiting events (the stuck head
   * stays) and holds them back until a snapshot recovers them. Returns how many
   * events were dropped.
   */
  shedBlocked(): number {
    let total = 0;
    for (const key of this.queue.blockedKeys()) {
      const dropped = this.queue.dropWaiting(key);
      if (dropped.length === 0) continue;
      if (!this.held.has(key)) this.logger.warn(keyHeldBack(key, dropped.length), { key, dropped: dropped.length });
      this.held.set(key, 'blocked');
      for (const { payload } of dropped) {
        if (!payload.replay && payload.epoch === this.cursor.epoch) {
          this.cursor.hold(key, payload.event.id);
          this.cursor.finished(payload.event.id);
        }
        const onFinished = payload.onFinished;
        payload.onFinished = undefined;
        onFinished?.();
      }
      total += dropped.length;
    }
    return total;
  }

  /** Held-back orgs whose stuck event has finished: ready to be recovered. */
  unblocked(): string[] {
    const keys: string[] = [];
    for (const [key, state] of this.held) if (state === 'unblocked') keys.push(key);
    return keys;
  }

  /**
   * Queues a snapshot's events of the given orgs (recovered, no longer held back).
   * Returns how many were queued.
   */
  queueRecovery(events: readonly TenancyEvent[], lastEventId: number, keys: readonly string[]): number {
    const wanted = new Set(keys);
    const remaining = new Map<string, number>();
    const picked = events.filter((event) => wanted.has(orderingKey(event)));
    for (const event of picked) remaining.set(orderingKey(event), (remaining.get(orderingKey(event)) ?? 0) + 1);
    for (const key of keys) {
      this.held.delete(key);
      this.recoveredUpTo.set(key, lastEventId);
      if (!remaining.has(key)) this.cursor.release(key);
    }
    for (const event of picked) {
      const key = orderingKey(event);
      const onFinished = () => {
        const left = (remaining.get(key) ?? 1) - 1;
        remaining.set(key, left);
        if (left === 0) this.cursor.release(key);
      };
      this.queue.pushItem(new QueuedEventItem(key, event, 'recovery', onFinished, this.cursor.epoch));
    }
    return picked.length;
  }

  /** The log was replaced: nothing held back or recovered refers to it any more. */
  clearHeld(): void {
    this.held.clear();
    this.recoveredUpTo.clear();
  }

  /**
   * Snapshot events not started yet, by resource (a UUID, unique across types), or
   * undefined when there are none. Indexed when a snapshot comes (one pass over the
   * queue), never kept: a 100k replay would hold a 100k-entry map for its whole run.
   * A snapshot names each resource once (it is synthesised from current state), so
   * only events of earlier snapshots can be updated.
   */
  private waitingReplayed(): Map<string, QueuedEvent> | undefined {
    let waiting: Map<string, QueuedEvent> | undefined;
    for (const { payload } of this.queue.laneItems()) {
      // Events of a recovery are not updated in place: they carry their org's release count.
      if (payload instanceof QueuedEventItem && payload.origin === 'snapshot' && !payload.started) {
        (waiting ??= new Map()).set(payload.event.resourceId, payload);
      }
    }
    return waiting;
  }
}

/** A replayed event whose resource still waits in the queue from an earlier snapshot updates it in place. */
function replacePending(waiting: ReadonlyMap<string, QueuedEvent>, event: TenancyEvent, onFinished: () => void): boolean {
  const pending = waiting.get(event.resourceId);
  if (!pending || pending.started || pending.event.resourceType !== event.resourceType) return false;
  pending.event = event;
  const earlier = pending.onFinished;
  pending.onFinished = earlier ? () => (earlier(), onFinished()) : onFinished;
  return true;
}
