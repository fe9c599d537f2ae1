import { type BackoffSettings, fullJitterBackoff } from '../common/backoff.js';
import { Fifo } from '../common/fifo.js';
import { BelowWaiters } from '../common/below-waiters.js';
import { ParkedItems } from './parked-items.js';

/** What a worker says about one attempt at an item. */
export type WorkOutcome = 'done' | 'retry' | 'park';

/** An item and its attempt count (1 on the first attempt). */
export interface QueueItem<T> {
  readonly key: string;
  readonly payload: T;
  attempt: number;
}

/** Items of one key, strictly in arrival order, one at a time. */
interface Lane<T> {
  readonly key: string;
  readonly items: QueueItem<T>[];
  head: number;
  /** Its head item is running or waiting for its retry. */
  busy: boolean;
  retryTimer?: NodeJS.Timeout;
}

export interface KeyedWorkQueueOptions extends BackoffSettings {
  /** Items in flight at once, across all keys. */
  readonly concurrency: number;
  readonly random?: () => number;
}

/**
 * A workqueue with per-key FIFO order and cross-key concurrency: the items of one
 * key (an org) run one at a time in arrival order, different keys run in parallel
 * up to `concurrency`, and a failing item backs off for its own key only, so one
 * poison project never holds up another org.
 */
export class KeyedWorkQueue<T> {
  private readonly lanes = new Map<string, Lane<T>>();
  // Keys ready to start, in FIFO order: round-robin fairness between orgs.
  private readonly ready = new Fifo<string>();
  private running = 0;
  private total = 0;
  private stopped = false;
  private retryingCount = 0;
  private readonly parkedItems = new ParkedItems<QueueItem<T>>();
  private readonly belowWaiters = new BelowWaiters();
  private inFlightWaiters: Array<() => void> = [];

  constructor(
    private readonly options: KeyedWorkQueueOptions,
    private readonly worker: (item: QueueItem<T>) => Promise<WorkOutcome>,
    /** Called once per item when it is done or parked (not on retries). */
    private readonly onFinished: (item: QueueItem<T>, outcome: 'done' | 'park') => void = () => {},
  ) {}

  /** Appends an item to its key's lane. */
  push(key: string, payload: T): void {
    this.pushItem({ key, payload, attempt: 1 });
  }

  /**
   * Appends an item built by the caller (attempt 1): a payload may be its own item,
   * one object per queued entry instead of two.
   */
  pushItem(item: QueueItem<T>): void {
    if (this.stopped) return;
    this.append(item);
    this.pump();
  }

  /** Items not yet done or parked: queued, in flight, or waiting to retry. */
  get size(): number {
    return this.total;
  }

  /** Items whose worker is running now. */
  get inFlight(): number {
    return this.running;
  }

  /** Items given up on (until woken), oldest first. A copy: O(parked), for getStatus(). */
  get parked(): readonly QueueItem<T>[] {
    return this.parkedItems.list();
  }

  /** How many items are parked. */
  get parkedCount(): number {
    return this.parkedItems.size;
  }

  /** Forgets one parked item without running it (O(1)); false when it was not parked. */
  unpark(item: QueueItem<T>): boolean {
    return this.parkedItems.delete(item);
  }

  /** Keys whose head item is waiting for a retry timer. */
  blockedKeys(): string[] {
    const keys: string[] = [];
    for (const lane of this.lanes.values()) if (lane.retryTimer) keys.push(lane.key);
    return keys;
  }

  /**
   * Removes the items of `key` that have not started (everything behind its head)
   * and returns them; the head stays. Used to free room behind a key that is stuck
   * retrying, so it cannot fill the queue and stall every other key.
   */
  dropWaiting(key: string): QueueItem<T>[] {
    const lane = this.lanes.get(key);
    if (!lane || lane.head + 1 >= lane.items.length) return [];
    const dropped = lane.items.splice(lane.head + 1) as QueueItem<T>[];
    this.total -= dropped.length;
    this.belowWaiters.update(this.total);
    return dropped;
  }

  /** Every item in a lane (running, waiting to retry, or not started), per key in arrival order. O(size). */
  *laneItems(): IterableIterator<QueueItem<T>> {
    for (const lane of this.lanes.values()) {
      for (let index = lane.head; index < lane.items.length; index += 1) yield lane.items[index];
    }
  }

  /** Items waiting for a retry timer (their lanes are blocked). */
  get retrying(): number {
    return this.retryingCount;
  }

  /** The items waiting for a retry timer, one per blocked key. */
  retryingItems(): QueueItem<T>[] {
    const items: QueueItem<T>[] = [];
    for (const lane of this.lanes.values()) if (lane.retryTimer) items.push(lane.items[lane.head]);
    return items;
  }

  /** Re-queues parked items that match (all when no filter) with a fresh attempt count. */
  wake(filter: (item: QueueItem<T>) => boolean = () => true): number {
    if (this.stopped) return 0;
    const woken = this.parkedItems.take(filter);
    // A woken item joins the tail of its key: it is the newest word on its resource
    // (parked items superseded by a later event were unparked by the run).
    for (const item of woken) this.append({ key: item.key, payload: item.payload, attempt: 1 });
    this.pump();
    return woken.length;
  }

  /**
   * Resolves once fewer than `below` items are unfinished (immediately if so now),
   * or when the queue is stopped.
   */
  whenBelow(below: number): Promise<void> {
    if (this.total < below || this.stopped) return Promise.resolve();
    return this.belowWaiters.wait(below);
  }

  /** Resolves when nothing is queued, in flight or waiting to retry (or the queue is stopped). */
  whenIdle(): Promise<void> {
    return this.whenBelow(1);
  }

  /** Resolves when no worker is running. */
  whenNoneInFlight(): Promise<void> {
    if (this.running === 0) return Promise.resolve();
    return new Promise((resolve) => this.inFlightWaiters.push(resolve));
  }

  /**
   * Starts nothing more, cancels retry timers and releases whenBelow/whenIdle
   * waiters; running workers finish on their own.
   */
  stop(): void {
    this.stopped = true;
    for (const lane of this.lanes.values()) {
      clearTimeout(lane.retryTimer);
      lane.retryTimer = undefined;
    }
    this.retryingCount = 0;
    this.belowWaiters.releaseAll();
  }

  private append(item: QueueItem<T>): void {
    let lane = this.lanes.get(item.key);
    if (!lane) {
      lane = { key: item.key, items: [], head: 0, busy: false };
      this.lanes.set(item.key, lane);
      this.ready.push(item.key);
    }
    lane.items.push(item);
    this.total += 1;
  }

  private pump(): void {
    while (!this.stopped && this.running < this.options.concurrency) {
      const key = this.ready.take();
      if (key === undefined) break;
      const lane = this.lanes.get(key);
      if (!lane || lane.busy || lane.head >= lane.items.length) continue;
      lane.busy = true;
      this.running += 1;
      void this.run(lane, lane.items[lane.head]);
    }
    this.ready.compact();
  }

  private async run(lane: Lane<T>, item: QueueItem<T>): Promise<void> {
    let outcome: WorkOutcome;
    try {
      outcome = await this.worker(item);
    } catch {
      // Workers report their own failures; a throw here is a bug, treated as retryable.
      outcome = 'retry';
    }
    this.running -= 1;
    if (this.running === 0) for (const resolve of this.inFlightWaiters.splice(0)) resolve();
    if (outcome === 'retry') {
      if (!this.stopped) {
        item.attempt += 1;
        const delay = fullJitterBackoff(item.attempt - 1, this.options, this.options.random);
        this.retryingCount += 1;
        lane.retryTimer = setTimeout(() => {
          this.retryingCount -= 1;
          lane.retryTimer = undefined;
          lane.busy = false;
          this.ready.push(lane.key);
          this.pump();
        }, delay);
      }
      this.pump();
      return;
    }
    this.finish(lane, item, outcome);
    this.pump();
  }

  private finish(lane: Lane<T>, item: QueueItem<T>, outcome: 'done' | 'park'): void {
    // Drop the finished slot now: round-robin over many orgs keeps lanes alive for
    // a whole replay, and their done items would stay reachable until then.
    (lane.items as Array<QueueItem<T> | undefined>)[lane.head] = undefined;
    lane.head += 1;
    lane.busy = false;
    this.total -= 1;
    if (outcome === 'park') this.parkedItems.add(item);
    if (lane.head >= lane.items.length) {
      this.lanes.delete(lane.key);
    } else {
      if (lane.head > 64 && lane.head * 2 > lane.items.length) {
        lane.items.splice(0, lane.head);
        lane.head = 0;
      }
      this.ready.push(lane.key);
    }
    try {
      this.onFinished(item, outcome);
    } catch {
      // A bookkeeping callback must never stall the queue.
    }
    this.belowWaiters.update(this.total);
  }
}
