import { MAX_STATUS_MESSAGE_LENGTH } from '../tenancy.constants.js';
import type { ControllerStatus } from '../tenancy-event.js';

/** The state we want the Tenant Manager to hold for one resource. */
export type WantedStatus =
  | { readonly kind: 'put'; readonly status: ControllerStatus; readonly message: string }
  | { readonly kind: 'delete' };

export interface PendingWrite {
  readonly wanted: WantedStatus;
  /** Settles the caller's promise after the first attempt (or when superseded). */
  settle?: (landed: boolean) => void;
  attempt: number;
}

/** Per-resource write state: at most one request in flight, at most one waiting. */
export interface StatusSlot {
  readonly key: string;
  readonly resourceType: string;
  readonly resourceId: string;
  sending: boolean;
  /** Waiting in line for a free request slot. */
  queued: boolean;
  /** Newest wanted state not yet sent; a newer report replaces it. */
  next?: PendingWrite;
  /**
   * Behind an `in_progress` that was never sent: the state that follows it. The
   * reference client always writes `in_progress` before the handler's outcome, so
   * an unsent one is never coalesced away (2 writes per event in default mode).
   */
  after?: PendingWrite;
  retryTimer?: NodeJS.Timeout;
}

export function slotKey(resourceType: string, resourceId: string): string {
  return `${resourceType}\u0000${resourceId}`;
}

function isUnsentInProgress(write: PendingWrite): boolean {
  return write.attempt === 0 && write.wanted.kind === 'put' && write.wanted.status === 'in_progress';
}

/** The Tenant Manager caps the message: cut it here, visibly, rather than have the write refused. */
function withinLimits(wanted: WantedStatus): WantedStatus {
  return wanted.kind === 'put' && wanted.message.length > MAX_STATUS_MESSAGE_LENGTH
    ? { ...wanted, message: `${wanted.message.slice(0, MAX_STATUS_MESSAGE_LENGTH - 1)}…` }
    : wanted;
}

/**
 * Coalesces a new report into its slot: it replaces the waiting write (whose caller
 * learns it was superseded), except behind an unsent `in_progress`, which it follows.
 * Returns true when the slot must be (re)scheduled; a pending retry is then cancelled.
 */
export function coalesce(slot: StatusSlot, wanted: WantedStatus, settle: ((landed: boolean) => void) | undefined): boolean {
  const write: PendingWrite = { wanted: withinLimits(wanted), settle, attempt: 0 };
  if (slot.next !== undefined && isUnsentInProgress(slot.next)) {
    slot.after?.settle?.(false);
    slot.after = write;
    return false;
  }
  slot.next?.settle?.(false);
  slot.next = write;
  if (slot.retryTimer) {
    clearTimeout(slot.retryTimer);
    slot.retryTimer = undefined;
  }
  return true;
}
