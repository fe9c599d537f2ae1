import { BelowWaiters } from '../common/below-waiters.js';
import { setMaxListeners } from 'node:events';
import { fullJitterBackoff } from '../common/backoff.js';
import { settledBy } from '../common/deadline.js';
import { Fifo } from '../common/fifo.js';
import { retryDelay } from '../common/retry-delay.js';
import { toError } from '../tenancy.errors.js';
import { statusWriteFailed } from '../tenancy.messages.js';
import type { ResolvedTenancyOptions } from '../tenancy-options.js';
import type { ControllerStatus } from '../tenancy-event.js';
import type { TenancyLogger } from '../telemetry/tenancy-logger.js';
import type { TenancyTelemetry } from '../telemetry/tenancy.telemetry.js';
import { coalesce, slotKey, type StatusSlot, type WantedStatus } from './status-slot.js';

export type { WantedStatus } from './status-slot.js';

/** The two status calls, as the Tenant Manager client makes them (a port, for tests). */
export interface StatusPort {
  putStatus(resourceType: string, resourceId: string, status: ControllerStatus, message: string, signal?: AbortSignal): Promise<void>;
  deleteStatus(resourceType: string, resourceId: string, signal?: AbortSignal): Promise<void>;
}

// Resources waiting to be written before callers are asked to hold back: far more
// than a burst of handled events, far less memory than a 100k replay's worth of writes.
const MIN_BACKLOG = 1_024;
const BACKLOG_PER_REQUEST_SLOT = 64;

type Settings = Pick<ResolvedTenancyOptions, 'initialBackoff' | 'maxBackoff' | 'concurrency'>;

/**
 * Writes the status rows of one run. A failed write is retried in the background with
 * backoff (at least the server's Retry-After, capped by maxBackoff), coalesced per
 * resource: only the newest wanted state is sent, one request per resource at a time,
 * so an older write never lands after a newer one. At most `concurrency` requests are
 * out at once, so a slow status endpoint cannot take every connection from the feed.
 * A failed write never fails the event (PROTOCOL.md). Once closed or abandoned it is
 * a dead end: nothing it was asked to write leaves the process any more.
 */
export class StatusWriter {
  private readonly slots = new Map<string, StatusSlot>();
  // Slots waiting for a free request slot, first come first served.
  private readonly waiting = new Fifo<StatusSlot>();
  private sendingCount = 0;
  // "Fewer than backlogLimit resources wait" (room) and "fewer than 1" (idle).
  private readonly waiters = new BelowWaiters();
  private readonly backlogLimit: number;
  private closing = false;
  // Set when the run stops starting attempts: nobody is held back any more.
  private unbounded = false;
  private dead = false;
  // Aborts every request in flight when the writer dies; many listen at once.
  private readonly writes = new AbortController();

  constructor(
    private readonly client: StatusPort,
    private readonly options: Settings,
    private readonly telemetry: TenancyTelemetry,
    private readonly logger: TenancyLogger,
  ) {
    setMaxListeners(0, this.writes.signal);
    this.backlogLimit = Math.max(MIN_BACKLOG, options.concurrency * BACKLOG_PER_REQUEST_SLOT);
  }

  /**
   * Asks for a resource's row to become `wanted`. Resolves after the first attempt:
   * true when it landed, false when it failed (a retry is then scheduled), a newer
   * report superseded it, or the writer is dead. Never rejects.
   */
  report(resourceType: string, resourceId: string, wanted: WantedStatus): Promise<boolean> {
    if (this.dead) return Promise.resolve(false);
    return new Promise<boolean>((settle) => this.enqueue(resourceType, resourceId, wanted, settle));
  }

  /** {@link report} for callers that never look at the outcome: no promise per write. */
  post(resourceType: string, resourceId: string, wanted: WantedStatus): void {
    if (!this.dead) this.enqueue(resourceType, resourceId, wanted, undefined);
  }

  /**
   * True while so many resources wait to be written that the caller should hold
   * back (see {@link whenRoom}): a replay must not outrun its status writes without bound.
   */
  get congested(): boolean {
    return this.slots.size >= this.backlogLimit && !this.unbounded && !this.dead;
  }

  /**
   * The run drains or is abandoned: it starts no new attempts, so the backlog cannot
   * grow past the attempts still running. Lets every attempt held in {@link whenRoom}
   * finish now (else it counts as in flight and shutdown waits for it in vain).
   */
  releaseRoomWaiters(): void {
    this.unbounded = true;
    this.waiters.release(this.backlogLimit);
  }

  /** Resolves once fewer than the backlog limit of resources wait (or the writer is released or dead). */
  whenRoom(): Promise<void> {
    if (!this.congested) return Promise.resolve();
    return this.waiters.wait(this.backlogLimit);
  }

  private enqueue(
    resourceType: string,
    resourceId: string,
    wanted: WantedStatus,
    settle: ((landed: boolean) => void) | undefined,
  ): void {
    const key = slotKey(resourceType, resourceId);
    let slot = this.slots.get(key);
    if (!slot) {
      slot = { key, resourceType, resourceId, sending: false, queued: false };
      this.slots.set(key, slot);
    }
    if (!coalesce(slot, wanted, settle)) return;
    this.schedule(slot);
  }

  /** Resources with a write in flight, waiting, or scheduled for retry. */
  get pending(): number {
    return this.slots.size;
  }

  /** Resolves when no write is in flight, waiting or scheduled (or the writer is dead). */
  whenIdle(): Promise<void> {
    if (this.slots.size === 0 || this.dead) return Promise.resolve();
    return this.waiters.wait(1);
  }

  /**
   * Shutdown: stop scheduling retries, give every waiting write one last attempt now
   * and wait for them until the deadline; then abort whatever is still out. Returns
   * how many resources were left unsent. Nothing is sent after it resolves.
   */
  async close(deadline: number): Promise<number> {
    this.closing = true;
    for (const slot of this.slots.values()) {
      if (!slot.retryTimer) continue;
      clearTimeout(slot.retryTimer);
      slot.retryTimer = undefined;
      this.schedule(slot);
    }
    if (this.slots.size > 0) await settledBy(this.whenIdle(), deadline);
    const left = this.slots.size;
    this.abandon('status writer closed');
    return left;
  }

  /**
   * Drops every waiting write and aborts those in flight: this run is over and (with
   * coordination) another replica may own the rows now.
   */
  abandon(reason = 'status writes abandoned'): void {
    if (this.dead) return;
    this.dead = true;
    this.closing = true;
    this.writes.abort(new Error(reason));
    for (const slot of this.slots.values()) {
      clearTimeout(slot.retryTimer);
      slot.next?.settle?.(false);
      slot.after?.settle?.(false);
    }
    this.slots.clear();
    this.waiting.clear();
    this.waiters.releaseAll();
  }

  /** Sends now when a request slot is free, else waits in line (once). */
  private schedule(slot: StatusSlot): void {
    if (slot.sending || slot.queued || this.dead) return;
    if (this.sendingCount < this.options.concurrency) {
      void this.send(slot);
      return;
    }
    slot.queued = true;
    this.waiting.push(slot);
  }

  private async send(slot: StatusSlot): Promise<void> {
    const write = slot.next;
    if (!write || this.dead) return this.release(slot);
    slot.next = slot.after;
    slot.after = undefined;
    slot.sending = true;
    this.sendingCount += 1;
    write.attempt += 1;
    let landed = false;
    let failure: Error | undefined;
    try {
      const signal = this.writes.signal;
      if (write.wanted.kind === 'put') {
        await this.client.putStatus(slot.resourceType, slot.resourceId, write.wanted.status, write.wanted.message, signal);
      } else {
        await this.client.deleteStatus(slot.resourceType, slot.resourceId, signal);
      }
      landed = true;
    } catch (thrown) {
      failure = toError(thrown);
    }
    slot.sending = false;
    this.sendingCount -= 1;
    this.startWaiting();
    if (this.dead) {
      // Abandoned on purpose (shutdown or leadership lost): not a failure to report.
      write.settle?.(false);
      return;
    }
    this.telemetry.statusWrite(landed);
    if (failure) {
      const what = write.wanted.kind === 'put' ? `write (${write.wanted.status})` : 'delete';
      const text = statusWriteFailed(what, slot.resourceType, slot.resourceId, failure.message);
      this.logger.failure(failure, text, write.attempt > 1 ? 'debug' : 'warn');
    }
    write.settle?.(landed);
    write.settle = undefined;
    if (slot.next) return this.schedule(slot);
    if (!landed && !this.closing) {
      // Retry in the background unless a newer report supersedes this one first.
      slot.next = write;
      const delay = retryDelay(fullJitterBackoff(write.attempt, this.options), failure, this.options.maxBackoff);
      slot.retryTimer = setTimeout(() => {
        slot.retryTimer = undefined;
        this.schedule(slot);
      }, delay);
      return;
    }
    this.release(slot);
  }

  private startWaiting(): void {
    while (!this.dead && this.sendingCount < this.options.concurrency) {
      const slot = this.waiting.take();
      if (!slot) break;
      slot.queued = false;
      void this.send(slot);
    }
    this.waiting.compact();
  }

  private release(slot: StatusSlot): void {
    if (slot.sending || slot.next || slot.retryTimer || slot.queued) return;
    if (this.slots.get(slot.key) !== slot) return;
    this.slots.delete(slot.key);
    this.waiters.update(this.slots.size);
  }
}
