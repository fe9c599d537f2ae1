import type { QueueItem } from '../dispatch/keyed-work-queue.js';
import type { QueuedEvent } from '../dispatch/attempt-runner.js';
import type { TenancyEvent } from '../tenancy-event.js';

/**
 * Where a queued event came from: the event log, a snapshot (replay or resync), or
 * a snapshot that recovers an org that was held back.
 */
export type QueuedEventOrigin = 'log' | 'snapshot' | 'recovery';

const ORIGINS: readonly QueuedEventOrigin[] = ['log', 'snapshot', 'recovery'];

// #state packs three small fields into one number: attempt * 8 + origin * 2 + started.
// Arithmetic, not bit operators: any attempt count stays exact.
const ATTEMPT_UNIT = 8;
const ORIGIN_UNIT = 2;

// Only failing events have one: kept aside, so the others carry no field for it.
const lastErrors = new WeakMap<QueuedEventItem, string>();

/**
 * A queued event that is its own queue item (`payload` is the object itself), in
 * five fields: a queued 100k replay holds one of these per event (64 bytes, where
 * an item wrapping a payload object took 112).
 */
export class QueuedEventItem implements QueueItem<QueuedEvent>, QueuedEvent {
  #state: number;

  constructor(
    readonly key: string,
    public event: TenancyEvent,
    origin: QueuedEventOrigin,
    public onFinished: (() => void) | undefined,
    readonly epoch: number,
  ) {
    this.#state = ATTEMPT_UNIT + ORIGINS.indexOf(origin) * ORIGIN_UNIT;
  }

  get payload(): QueuedEvent {
    return this;
  }

  get origin(): QueuedEventOrigin {
    return ORIGINS[Math.floor((this.#state % ATTEMPT_UNIT) / ORIGIN_UNIT)];
  }

  /** From a snapshot rather than the event log (`ctx.replay`). */
  get replay(): boolean {
    return this.#state % ATTEMPT_UNIT >= ORIGIN_UNIT;
  }

  get started(): boolean {
    return this.#state % ORIGIN_UNIT === 1;
  }

  set started(value: boolean) {
    this.#state += Number(value) - (this.#state % ORIGIN_UNIT);
  }

  /** 1 on the first attempt. */
  get attempt(): number {
    return Math.floor(this.#state / ATTEMPT_UNIT);
  }

  set attempt(value: number) {
    this.#state = value * ATTEMPT_UNIT + (this.#state % ATTEMPT_UNIT);
  }

  get lastError(): string | undefined {
    return lastErrors.get(this);
  }

  set lastError(value: string | undefined) {
    if (value === undefined) lastErrors.delete(this);
    else lastErrors.set(this, value);
  }
}
