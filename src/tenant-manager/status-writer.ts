import { setMaxListeners } from 'node:events';
import { Inject, Injectable } from '@nestjs/common';
import { fullJitterBackoff } from '../common/backoff.js';
import { settledBy } from '../common/deadline.js';
import { TenantManagerClient } from './tenant-manager.client.js';
import { MAX_STATUS_MESSAGE_LENGTH, TENANCY_RESOLVED_OPTIONS } from '../tenancy.constants.js';
import { toError } from '../tenancy.errors.js';
import { statusWriteFailed } from '../tenancy.messages.js';
import type { ResolvedTenancyOptions } from '../tenancy-options.js';
import type { ControllerStatus } from '../tenancy-event.js';
import { TenancyLogger } from '../telemetry/tenancy-logger.js';
import { TenancyTelemetry } from '../telemetry/tenancy.telemetry.js';

/** The state we want the Tenant Manager to hold for one resource. */
export type WantedStatus =
  | { readonly kind: 'put'; readonly status: ControllerStatus; readonly message: string }
  | { readonly kind: 'delete' };

interface PendingWrite {
  readonly wanted: WantedStatus;
  /** Settles the caller's promise after the first attempt (or when superseded). */
  settle?: (landed: boolean) => void;
  attempt: number;
}

/** Per-resource write state: at most one request in flight, at most one waiting. */
interface Slot {
  readonly resourceType: string;
  readonly resourceId: string;
  sending: boolean;
  /** Newest wanted state not yet sent; a newer report replaces it. */
  next?: PendingWrite;
  retryTimer?: NodeJS.Timeout;
}

/**
 * Writes status rows. A failed write is retried in the background with backoff,
 * coalesced per resource: only the newest wanted state is sent, and since one
 * request per resource is in flight at a time, an older write never lands after a
 * newer one. A failed write never fails the event (PROTOCOL.md).
 */
@Injectable()
export class StatusWriter {
  private readonly slots = new Map<string, Slot>();
  private readonly idleWaiters: Array<() => void> = [];
  private closing = false;
  // Aborted by discard(): a replica that lost leadership must not write status.
  // Every request in flight listens on it: no listener limit.
  private writes = unlimited(new AbortController());

  constructor(
    private readonly client: TenantManagerClient,
    @Inject(TENANCY_RESOLVED_OPTIONS) private readonly options: ResolvedTenancyOptions,
    private readonly telemetry: TenancyTelemetry,
    private readonly logger: TenancyLogger,
  ) {}

  /**
   * Asks for a resource's row to become `wanted`. Resolves after the first attempt:
   * true when it landed, false when it failed (a retry is then scheduled) or a newer
   * report superseded it before it was sent. Never rejects.
   */
  report(resourceType: string, resourceId: string, wanted: WantedStatus): Promise<boolean> {
    const key = `${resourceType}\u0000${resourceId}`;
    let slot = this.slots.get(key);
    if (!slot) {
      slot = { resourceType, resourceId, sending: false };
      this.slots.set(key, slot);
    }
    const normalized: WantedStatus =
      wanted.kind === 'put' && wanted.message.length > MAX_STATUS_MESSAGE_LENGTH
        ? { ...wanted, message: `${wanted.message.slice(0, MAX_STATUS_MESSAGE_LENGTH - 1)}…` }
        : wanted;
    return new Promise<boolean>((settle) => {
      slot.next?.settle?.(false);
      slot.next = { wanted: normalized, settle, attempt: 0 };
      if (slot.retryTimer) {
        clearTimeout(slot.retryTimer);
        slot.retryTimer = undefined;
      }
      if (!slot.sending) void this.sendNext(key, slot);
    });
  }

  /** Resources with a write in flight, waiting, or scheduled for retry. */
  get pending(): number {
    return this.slots.size;
  }

  /** Resolves when no write is in flight, waiting or scheduled. */
  whenIdle(): Promise<void> {
    if (this.slots.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Shutdown: stop scheduling retries, give every waiting write one last attempt
   * now, and wait for them until the deadline. Returns how many were left unsent.
   */
  async close(deadline: number): Promise<number> {
    this.closing = true;
    for (const [key, slot] of this.slots) {
      if (slot.retryTimer) {
        clearTimeout(slot.retryTimer);
        slot.retryTimer = undefined;
        if (!slot.sending) void this.sendNext(key, slot);
      }
    }
    if (this.slots.size > 0) await settledBy(this.whenIdle(), deadline);
    const left = this.slots.size;
    for (const slot of this.slots.values()) clearTimeout(slot.retryTimer);
    return left;
  }

  /** Re-opens after close() or discard(), for a poller that is started again. */
  reopen(): void {
    this.closing = false;
    if (this.writes.signal.aborted) this.writes = unlimited(new AbortController());
  }

  /**
   * Drops every waiting write and aborts those in flight: used when this replica
   * lost leadership and another one owns the status rows now.
   */
  discard(): void {
    this.closing = true;
    this.writes.abort(new Error('status writes discarded: leadership lost'));
    for (const [key, slot] of this.slots) {
      clearTimeout(slot.retryTimer);
      slot.retryTimer = undefined;
      slot.next?.settle?.(false);
      slot.next = undefined;
      if (!slot.sending) this.release(key, slot);
    }
  }

  private async sendNext(key: string, slot: Slot): Promise<void> {
    const write = slot.next;
    if (!write) return this.release(key, slot);
    slot.next = undefined;
    slot.sending = true;
    write.attempt += 1;
    let landed = false;
    try {
      if (write.wanted.kind === 'put') {
        await this.client.putStatus(
          slot.resourceType,
          slot.resourceId,
          write.wanted.status,
          write.wanted.message,
          this.writes.signal,
        );
      } else {
        await this.client.deleteStatus(slot.resourceType, slot.resourceId, this.writes.signal);
      }
      landed = true;
      this.telemetry.statusWrite(true);
    } catch (thrown) {
      if (this.writes.signal.aborted) {
        // Discarded on purpose (leadership lost): not a failure to report.
        slot.sending = false;
        write.settle?.(false);
        return this.release(key, slot);
      }
      this.telemetry.statusWrite(false);
      const error = toError(thrown);
      const what = write.wanted.kind === 'put' ? `write (${write.wanted.status})` : 'delete';
      this.logger.failure(error, statusWriteFailed(what, slot.resourceType, slot.resourceId, error.message), write.attempt > 1 ? 'debug' : 'warn');
    }
    slot.sending = false;
    write.settle?.(landed);
    write.settle = undefined;
    if (slot.next) return this.sendNext(key, slot);
    if (!landed && !this.closing) {
      // Retry in the background unless a newer report supersedes this one first.
      slot.next = write;
      const delay = fullJitterBackoff(write.attempt, this.options);
      slot.retryTimer = setTimeout(() => {
        slot.retryTimer = undefined;
        void this.sendNext(key, slot);
      }, delay);
      return;
    }
    this.release(key, slot);
  }

  private release(key: string, slot: Slot): void {
    if (slot.sending || slot.next || slot.retryTimer) return;
    this.slots.delete(key);
    if (this.slots.size === 0) {
      for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }
}

function unlimited(controller: AbortController): AbortController {
  setMaxListeners(0, controller.signal);
  return controller;
}
