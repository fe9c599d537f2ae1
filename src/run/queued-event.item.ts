import type { QueueItem } from '../dispatch/keyed-work-queue.js';
import type { QueuedEvent } from '../dispatch/attempt-runner.js';
import type { TenancyEvent } from '../tenancy-event.js';

/**
 * Where a queued event came from: the event log, a snapshot (replay or resync), or
 * a snapshot that recovers an org that was held back.
 */
export type QueuedEventOrigin = 'log' | 'snapshot' | 'recovery';

/**
 * A queued event that is its own queue item (`payload` is the object itself): one
 * object per queued event instead of an item wrapping a payload. A queued 100k
 * replay holds one of these per event.
 */
export class QueuedEventItem implements QueueItem<QueuedEvent>, QueuedEvent {
  attempt = 1;
  started = false;
  lastError: string | undefined = undefined;

  constructor(
    readonly key: string,
    public event: TenancyEvent,
    readonly origin: QueuedEventOrigin,
    public onFinished: (() => void) | undefined,
    readonly epoch: number,
  ) {}

  get payload(): QueuedEvent {
    return this;
  }

  /** From a snapshot rather than the event log (`ctx.replay`). */
  get replay(): boolean {
    return this.origin !== 'log';
  }
}
