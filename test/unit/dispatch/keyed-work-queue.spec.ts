import { afterEach, describe, expect, it, vi } from 'vitest';
import { KeyedWorkQueue, type QueueItem, type WorkOutcome } from '../../../src/dispatch/keyed-work-queue.js';
import { waitFor } from '../../support/wait-for.js';

// Captured before any test installs fake timers: bounds on waits stay real.
const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;

/** Rejects when `promise` has not settled within `ms` (a bound, not a sleep). */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = realSetTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, bound]);
  } finally {
    realClearTimeout(timer);
  }
}

/** Lets every pending promise chain run (setImmediate stays real under our fake timers). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A promise that resolves to the outcome given later. */
function gate(): { promise: Promise<WorkOutcome>; open: (outcome?: WorkOutcome) => void } {
  let open!: (outcome: WorkOutcome) => void;
  const promise = new Promise<WorkOutcome>((resolve) => {
    open = resolve;
  });
  return { promise, open: (outcome = 'done') => open(outcome) };
}

/** Whether `promise` has resolved yet (checked after a settle). */
function tracked(promise: Promise<unknown>): { readonly done: boolean } {
  const state = { done: false };
  void promise.then(() => {
    state.done = true;
  });
  return state;
}

const shortDelay = () => new Promise<void>((resolve) => setTimeout(resolve, Math.random() * 3));

const FAST = { initialBackoff: 1, maxBackoff: 5 };

afterEach(() => {
  vi.useRealTimers();
});

describe('KeyedWorkQueue: ordering and concurrency', () => {
  it('keeps per-key FIFO with no overlap within a key, and runs keys in parallel up to concurrency', async () => {
    const KEYS = 20;
    const PER_KEY = 10;
    const CONCURRENCY = 4;
    const log = new Map<string, string[]>();
    const inFlightSeen: number[] = [];
    const finished: string[] = [];
    let running = 0;
    let maxRunning = 0;
    const queue: KeyedWorkQueue<number> = new KeyedWorkQueue<number>(
      { concurrency: CONCURRENCY, ...FAST },
      async (item) => {
        running += 1;
        maxRunning = Math.max(maxRunning, running);
        inFlightSeen.push(queue.inFlight);
        log.get(item.key)!.push(`start:${item.payload}`);
        await shortDelay();
        log.get(item.key)!.push(`end:${item.payload}`);
        running -= 1;
        return 'done';
      },
      (item, outcome) => finished.push(`${item.key}/${item.payload}:${outcome}`),
    );
    const keys = Array.from({ length: KEYS }, (_, k) => `org-${k}`);
    for (const key of keys) log.set(key, []);
    // Interleaved arrival, as events of many orgs come from one page.
    for (let i = 0; i < PER_KEY; i += 1) for (const key of keys) queue.push(key, i);

    expect(queue.size).toBe(KEYS * PER_KEY);
    expect(queue.inFlight).toBe(CONCURRENCY);
    await within(queue.whenIdle(), 5_000, 'whenIdle');

    const expected = Array.from({ length: PER_KEY }, (_, i) => [`start:${i}`, `end:${i}`]).flat();
    for (const key of keys) expect(log.get(key)).toEqual(expected);
    expect(maxRunning).toBe(CONCURRENCY);
    expect(maxRunning).toBeGreaterThan(1);
    expect(Math.max(...inFlightSeen)).toBeLessThanOrEqual(CONCURRENCY);
    expect(inFlightSeen).toHaveLength(KEYS * PER_KEY);
    expect(finished).toHaveLength(KEYS * PER_KEY);
    expect(new Set(finished).size).toBe(KEYS * PER_KEY);
    expect(finished.every((f) => f.endsWith(':done'))).toBe(true);
    expect(queue.size).toBe(0);
    expect(queue.inFlight).toBe(0);
    expect(queue.parked).toEqual([]);
  });

  it('never runs more than concurrency at once, even with one item per key', async () => {
    let running = 0;
    let maxRunning = 0;
    const queue = new KeyedWorkQueue<number>({ concurrency: 3, ...FAST }, async () => {
      running += 1;
      maxRunning = Math.max(maxRunning, running);
      await shortDelay();
      running -= 1;
      return 'done';
    });
    for (let k = 0; k < 50; k += 1) queue.push(`org-${k}`, k);
    await within(queue.whenIdle(), 5_000, 'whenIdle');
    expect(maxRunning).toBe(3);
  });

  it('alternates between ready keys (round-robin) when concurrency is 1', async () => {
    const order: string[] = [];
    const queue = new KeyedWorkQueue<string>({ concurrency: 1, ...FAST }, async (item) => {
      order.push(item.payload);
      return 'done';
    });
    for (const p of ['a1', 'a2', 'a3']) queue.push('a', p);
    for (const p of ['b1', 'b2', 'b3']) queue.push('b', p);
    queue.push('c', 'c1');
    await within(queue.whenIdle(), 2_000, 'whenIdle');
    expect(order).toEqual(['a1', 'b1', 'c1', 'a2', 'b2', 'a3', 'b3']);
  });

  it('accepts new items for a key after its lane emptied', async () => {
    const order: string[] = [];
    const queue = new KeyedWorkQueue<string>({ concurrency: 2, ...FAST }, async (item) => {
      order.push(item.payload);
      return 'done';
    });
    queue.push('a', 'first');
    await within(queue.whenIdle(), 2_000, 'first idle');
    queue.push('a', 'second');
    queue.push('a', 'third');
    await within(queue.whenIdle(), 2_000, 'second idle');
    expect(order).toEqual(['first', 'second', 'third']);
  });

  it('passes key, payload and attempt 1 to the worker', async () => {
    const seen: Array<QueueItem<{ n: number }>> = [];
    const queue = new KeyedWorkQueue<{ n: number }>({ concurrency: 1, ...FAST }, async (item) => {
      seen.push({ ...item });
      return 'done';
    });
    const payload = { n: 7 };
    queue.push('org-x', payload);
    await within(queue.whenIdle(), 2_000, 'whenIdle');
    expect(seen).toEqual([{ key: 'org-x', payload, attempt: 1 }]);
    expect(seen[0].payload).toBe(payload);
  });
});

describe('KeyedWorkQueue: retry', () => {
  it('re-runs a retried item for its key only, while other keys proceed (real timers)', async () => {
    let bDone = 0;
    const a1Attempts: number[] = [];
    const a2Attempts: number[] = [];
    const order: string[] = [];
    const finished: string[] = [];
    const queue = new KeyedWorkQueue<string>(
      { concurrency: 1, ...FAST },
      async (item) => {
        await shortDelay();
        if (item.payload === 'a1') {
          a1Attempts.push(item.attempt);
          // Fails until every item of key b is through (bounded by the attempt count).
          if (bDone < 5 && item.attempt < 100) return 'retry';
        }
        if (item.payload === 'a2') a2Attempts.push(item.attempt);
        if (item.key === 'b') bDone += 1;
        order.push(item.payload);
        return 'done';
      },
      (item, outcome) => finished.push(`${item.payload}:${outcome}`),
    );
    queue.push('a', 'a1');
    queue.push('a', 'a2');
    for (let i = 1; i <= 5; i += 1) queue.push('b', `b${i}`);
    await within(queue.whenIdle(), 5_000, 'whenIdle');

    expect(order).toEqual(['b1', 'b2', 'b3', 'b4', 'b5', 'a1', 'a2']);
    expect(a1Attempts.length).toBeGreaterThanOrEqual(2);
    expect(a1Attempts.length).toBeLessThan(100);
    expect(a1Attempts).toEqual(Array.from({ length: a1Attempts.length }, (_, i) => i + 1));
    expect(a2Attempts).toEqual([1]);
    expect(finished.filter((f) => f.startsWith('a1'))).toEqual(['a1:done']);
    expect(finished).toHaveLength(7);
  });

  it('waits the backoff for the retry attempt and does not hold a concurrency slot meanwhile (fake timers)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const calls: string[] = [];
    const finished: string[] = [];
    const queue = new KeyedWorkQueue<string>(
      { concurrency: 1, initialBackoff: 100, maxBackoff: 1_000, random: () => 0.5 },
      async (item) => {
        calls.push(`${item.payload}#${item.attempt}`);
        return item.payload === 'a1' && item.attempt < 3 ? 'retry' : 'done';
      },
      (item, outcome) => finished.push(`${item.payload}:${outcome}`),
    );
    queue.push('a', 'a1');
    queue.push('a', 'a2');
    queue.push('b', 'b1');
    queue.push('b', 'b2');
    await settle();
    expect(calls).toEqual(['a1#1', 'b1#1', 'b2#1']);
    expect(queue.retrying).toBe(1);
    expect(queue.size).toBe(2);
    expect(queue.inFlight).toBe(0);

    // First retry: fullJitter(1) = floor(0.5 × 100) = 50 ms.
    await vi.advanceTimersByTimeAsync(49);
    await settle();
    expect(calls).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(1);
    await settle();
    expect(calls).toEqual(['a1#1', 'b1#1', 'b2#1', 'a1#2']);
    expect(queue.retrying).toBe(1);

    // Second retry: fullJitter(2) = floor(0.5 × 200) = 100 ms.
    await vi.advanceTimersByTimeAsync(99);
    await settle();
    expect(calls).toHaveLength(4);
    await vi.advanceTimersByTimeAsync(1);
    await settle();
    expect(calls).toEqual(['a1#1', 'b1#1', 'b2#1', 'a1#2', 'a1#3', 'a2#1']);
    expect(queue.retrying).toBe(0);
    expect(queue.size).toBe(0);
    expect(finished).toEqual(['b1:done', 'b2:done', 'a1:done', 'a2:done']);
  });

  it('caps the retry wait at maxBackoff (fake timers)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const attempts: number[] = [];
    const queue = new KeyedWorkQueue<string>(
      { concurrency: 1, initialBackoff: 100, maxBackoff: 300, random: () => 0.999 },
      async (item) => {
        attempts.push(item.attempt);
        return item.attempt < 6 ? 'retry' : 'done';
      },
    );
    queue.push('a', 'x');
    await settle();
    // Waits: 99, 199, 299 (capped: 299), 299, 299.
    for (const wait of [99, 199, 299, 299, 299]) {
      const before = attempts.length;
      await vi.advanceTimersByTimeAsync(wait - 1);
      await settle();
      expect(attempts).toHaveLength(before);
      await vi.advanceTimersByTimeAsync(1);
      await settle();
      expect(attempts).toHaveLength(before + 1);
    }
    expect(attempts).toEqual([1, 2, 3, 4, 5, 6]);
    expect(queue.size).toBe(0);
  });

  it('treats a throwing or rejecting worker as retry', async () => {
    const attempts: Array<[string, number]> = [];
    const finished: string[] = [];
    const queue = new KeyedWorkQueue<string>(
      { concurrency: 2, ...FAST, random: () => 0 },
      (item) => {
        attempts.push([item.payload, item.attempt]);
        if (item.attempt === 1 && item.payload === 'sync') throw new Error('sync bug');
        if (item.attempt === 1 && item.payload === 'async') return Promise.reject(new Error('async bug'));
        return Promise.resolve('done');
      },
      (item, outcome) => finished.push(`${item.payload}:${outcome}:${item.attempt}`),
    );
    queue.push('a', 'sync');
    queue.push('b', 'async');
    await within(queue.whenIdle(), 2_000, 'whenIdle');
    expect(attempts.filter(([p]) => p === 'sync').map(([, n]) => n)).toEqual([1, 2]);
    expect(attempts.filter(([p]) => p === 'async').map(([, n]) => n)).toEqual([1, 2]);
    expect(finished.sort()).toEqual(['async:done:2', 'sync:done:2']);
  });
});

describe('KeyedWorkQueue: park and wake', () => {
  it('parks an item, moves on to the next of its key, and lists it in parked', async () => {
    const order: string[] = [];
    const finished: Array<[string, string]> = [];
    const queue = new KeyedWorkQueue<string>(
      { concurrency: 1, ...FAST },
      async (item) => {
        order.push(item.payload);
        return item.payload === 'a1' ? 'park' : 'done';
      },
      (item, outcome) => finished.push([item.payload, outcome]),
    );
    queue.push('a', 'a1');
    queue.push('a', 'a2');
    await within(queue.whenIdle(), 2_000, 'whenIdle');
    expect(order).toEqual(['a1', 'a2']);
    expect(queue.parked).toEqual([{ key: 'a', payload: 'a1', attempt: 1 }]);
    expect(finished).toEqual([
      ['a1', 'park'],
      ['a2', 'done'],
    ]);
    expect(queue.size).toBe(0);
  });

  it('keeps the attempt count of an item parked after retries', async () => {
    const queue = new KeyedWorkQueue<string>({ concurrency: 1, ...FAST }, async (item) =>
      item.attempt < 3 ? 'retry' : 'park',
    );
    queue.push('a', 'x');
    await within(queue.whenIdle(), 2_000, 'whenIdle');
    expect(queue.parked).toEqual([{ key: 'a', payload: 'x', attempt: 3 }]);
  });

  it('wake() re-queues every parked item with attempt 1', async () => {
    const calls: string[] = [];
    let parking = true;
    const finished: string[] = [];
    const queue = new KeyedWorkQueue<string>(
      { concurrency: 2, ...FAST },
      async (item) => {
        calls.push(`${item.payload}#${item.attempt}`);
        if (!parking) return 'done';
        return item.attempt < 2 ? 'retry' : 'park';
      },
      (item, outcome) => finished.push(`${item.payload}:${outcome}`),
    );
    queue.push('a', 'x');
    queue.push('b', 'y');
    await within(queue.whenIdle(), 2_000, 'first idle');
    expect(queue.parked.map((i) => [i.payload, i.attempt])).toEqual([
      ['x', 2],
      ['y', 2],
    ]);
    parking = false;
    calls.length = 0;
    expect(queue.wake()).toBe(2);
    expect(queue.parked).toEqual([]);
    expect(queue.size).toBe(2);
    await within(queue.whenIdle(), 2_000, 'second idle');
    expect(calls.sort()).toEqual(['x#1', 'y#1']);
    expect(finished.sort()).toEqual(['x:done', 'x:park', 'y:done', 'y:park']);
  });

  it('wake(filter) re-queues only matching items and leaves the rest parked', async () => {
    const calls: string[] = [];
    let park = true;
    const queue = new KeyedWorkQueue<string>({ concurrency: 3, ...FAST }, async (item) => {
      calls.push(`${item.payload}#${item.attempt}`);
      return park ? 'park' : 'done';
    });
    queue.push('a', 'x');
    queue.push('b', 'y');
    queue.push('c', 'z');
    await within(queue.whenIdle(), 2_000, 'first idle');
    park = false;
    calls.length = 0;
    expect(queue.wake((item) => item.key !== 'b')).toBe(2);
    await within(queue.whenIdle(), 2_000, 'second idle');
    expect(calls.sort()).toEqual(['x#1', 'z#1']);
    expect(queue.parked).toEqual([{ key: 'b', payload: 'y', attempt: 1 }]);
    expect(queue.wake((item) => item.payload === 'nothing')).toBe(0);
    expect(queue.parked).toHaveLength(1);
  });

  it('wake() returns 0 and queues nothing when nothing is parked', () => {
    const worker = vi.fn(async () => 'done' as const);
    const queue = new KeyedWorkQueue<string>({ concurrency: 1, ...FAST }, worker);
    expect(queue.wake()).toBe(0);
    expect(queue.size).toBe(0);
    expect(worker).toHaveBeenCalledTimes(0);
  });

  it('puts a woken item at the tail of its key, behind items already queued', async () => {
    const gates = new Map<string, ReturnType<typeof gate>>();
    const order: string[] = [];
    const queue = new KeyedWorkQueue<string>({ concurrency: 1, ...FAST }, (item) => {
      order.push(`${item.payload}#${item.attempt}`);
      if (item.payload === 'x1' && item.attempt === 1 && !order.includes('x2#1')) return Promise.resolve('park');
      const g = gate();
      gates.set(`${item.payload}#${order.length}`, g);
      return g.promise;
    });
    queue.push('a', 'x1');
    queue.push('a', 'x2');
    await waitFor(() => order.length === 2, { timeout: 2_000, interval: 1, message: 'x2 to start' });
    expect(order).toEqual(['x1#1', 'x2#1']);
    expect(queue.parked.map((i) => i.payload)).toEqual(['x1']);
    // While x2 runs: wake x1, then a new item arrives.
    expect(queue.wake()).toBe(1);
    queue.push('a', 'x3');
    expect(queue.size).toBe(3);
    expect(queue.inFlight).toBe(1);
    for (let step = 0; step < 3; step += 1) {
      const running = [...gates.values()];
      gates.clear();
      for (const g of running) g.open('done');
      await settle();
    }
    await within(queue.whenIdle(), 2_000, 'whenIdle');
    expect(order).toEqual(['x1#1', 'x2#1', 'x1#1', 'x3#1']);
  });
});

describe('KeyedWorkQueue: size, inFlight and waiting', () => {
  it('counts queued, in-flight and retrying items in size, and running ones in inFlight', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const gates = new Map<string, ReturnType<typeof gate>>();
    const queue = new KeyedWorkQueue<string>(
      { concurrency: 2, initialBackoff: 1_000, maxBackoff: 1_000, random: () => 0.5 },
      (item) => {
        const g = gate();
        gates.set(item.payload, g);
        return g.promise;
      },
    );
    expect(queue.size).toBe(0);
    expect(queue.inFlight).toBe(0);
    queue.push('a', 'a1');
    queue.push('a', 'a2');
    queue.push('b', 'b1');
    queue.push('c', 'c1');
    expect(queue.size).toBe(4);
    expect(queue.inFlight).toBe(2);
    expect([...gates.keys()]).toEqual(['a1', 'b1']);

    gates.get('a1')!.open('retry');
    await settle();
    // a1 waits for its retry (still counted in size); c1 took its slot; a2 waits behind a1.
    expect(queue.size).toBe(4);
    expect(queue.retrying).toBe(1);
    expect(queue.inFlight).toBe(2);
    expect([...gates.keys()]).toEqual(['a1', 'b1', 'c1']);

    gates.get('b1')!.open('done');
    gates.get('c1')!.open('park');
    await settle();
    expect(queue.size).toBe(2);
    expect(queue.inFlight).toBe(0);
    expect(queue.parked.map((i) => i.payload)).toEqual(['c1']);

    await vi.advanceTimersByTimeAsync(500);
    await settle();
    expect(queue.inFlight).toBe(1);
    expect(queue.retrying).toBe(0);
    gates.get('a1')!.open('done');
    await settle();
    expect(queue.size).toBe(1);
    expect(queue.inFlight).toBe(1);
    gates.get('a2')!.open('done');
    await settle();
    expect(queue.size).toBe(0);
    expect(queue.inFlight).toBe(0);
  });

  it('whenIdle() resolves at once when empty, and only after the last item otherwise (including retries)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    await within(new KeyedWorkQueue<string>({ concurrency: 1, ...FAST }, async () => 'done').whenIdle(), 1_000, 'idle');

    const gates = new Map<string, ReturnType<typeof gate>>();
    const queue = new KeyedWorkQueue<string>(
      { concurrency: 2, initialBackoff: 100, maxBackoff: 100, random: () => 0.5 },
      (item) => {
        const g = gate();
        gates.set(`${item.payload}#${item.attempt}`, g);
        return g.promise;
      },
    );
    queue.push('a', 'a1');
    queue.push('b', 'b1');
    const idle = tracked(queue.whenIdle());
    gates.get('a1#1')!.open('done');
    gates.get('b1#1')!.open('retry');
    await settle();
    expect(queue.size).toBe(1);
    expect(idle.done).toBe(false);
    await vi.advanceTimersByTimeAsync(50);
    await settle();
    expect(idle.done).toBe(false);
    gates.get('b1#2')!.open('done');
    await settle();
    expect(idle.done).toBe(true);
  });

  it('whenIdle() counts parked items as finished', async () => {
    const queue = new KeyedWorkQueue<string>({ concurrency: 1, ...FAST }, async () => 'park');
    queue.push('a', 'x');
    await within(queue.whenIdle(), 2_000, 'whenIdle');
    expect(queue.size).toBe(0);
    expect(queue.parked).toHaveLength(1);
  });

  it('whenBelow(n) resolves at once when size < n, else when size drops below n', async () => {
    const gates: Array<ReturnType<typeof gate>> = [];
    const queue = new KeyedWorkQueue<number>({ concurrency: 5, ...FAST }, () => {
      const g = gate();
      gates.push(g);
      return g.promise;
    });
    await within(queue.whenBelow(1), 1_000, 'whenBelow(1) on empty');
    for (let i = 0; i < 5; i += 1) queue.push(`k${i}`, i);
    await within(queue.whenBelow(6), 1_000, 'whenBelow(6) with 5');

    const below3 = tracked(queue.whenBelow(3));
    const below5 = tracked(queue.whenBelow(5));
    await settle();
    expect(below3.done).toBe(false);
    expect(below5.done).toBe(false);

    gates[0].open('done');
    await settle();
    expect(queue.size).toBe(4);
    expect(below5.done).toBe(true);
    expect(below3.done).toBe(false);

    gates[1].open('park');
    await settle();
    expect(queue.size).toBe(3);
    expect(below3.done).toBe(false);

    gates[2].open('done');
    await settle();
    expect(queue.size).toBe(2);
    expect(below3.done).toBe(true);

    for (const g of gates.slice(3)) g.open('done');
    await within(queue.whenIdle(), 1_000, 'whenIdle');
  });

  it('whenNoneInFlight() resolves at once when nothing runs, else when the last running worker ends', async () => {
    const gates: Array<ReturnType<typeof gate>> = [];
    const queue = new KeyedWorkQueue<number>({ concurrency: 2, ...FAST }, () => {
      const g = gate();
      gates.push(g);
      return g.promise;
    });
    await within(queue.whenNoneInFlight(), 1_000, 'whenNoneInFlight on empty');
    queue.push('a', 1);
    queue.push('b', 2);
    const none = tracked(queue.whenNoneInFlight());
    gates[0].open('done');
    await settle();
    expect(queue.inFlight).toBe(1);
    expect(none.done).toBe(false);
    gates[1].open('retry');
    await settle();
    expect(queue.inFlight).toBe(0);
    expect(none.done).toBe(true);
    // The retrying item still counts in size: in flight and unfinished differ.
    expect(queue.size).toBe(1);
    queue.stop();
  });
});

describe('KeyedWorkQueue: stop', () => {
  it('starts nothing more, lets running workers finish, and ignores pushes and wakes', async () => {
    const gates = new Map<string, ReturnType<typeof gate>>();
    const finished: string[] = [];
    const queue = new KeyedWorkQueue<string>(
      { concurrency: 2, ...FAST },
      (item) => {
        const g = gate();
        gates.set(item.payload, g);
        return g.promise;
      },
      (item, outcome) => finished.push(`${item.payload}:${outcome}`),
    );
    queue.push('a', 'a1');
    queue.push('a', 'a2');
    queue.push('b', 'b1');
    queue.push('c', 'c1');
    expect([...gates.keys()]).toEqual(['a1', 'b1']);

    queue.stop();
    queue.push('d', 'd1');
    expect(queue.size).toBe(4);

    const none = tracked(queue.whenNoneInFlight());
    gates.get('a1')!.open('done');
    gates.get('b1')!.open('park');
    await settle();
    expect(none.done).toBe(true);
    expect(queue.inFlight).toBe(0);
    expect([...gates.keys()]).toEqual(['a1', 'b1']);
    expect(finished).toEqual(['a1:done', 'b1:park']);
    expect(queue.size).toBe(2);
    expect(queue.wake()).toBe(0);
    expect(queue.parked.map((i) => i.payload)).toEqual(['b1']);
    expect(queue.size).toBe(2);
  });

  it('cancels pending retry timers (fake timers)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const worker = vi.fn(async (_item: QueueItem<string>): Promise<WorkOutcome> => 'retry');
    const queue = new KeyedWorkQueue<string>(
      { concurrency: 2, initialBackoff: 100, maxBackoff: 100, random: () => 0.5 },
      worker,
    );
    queue.push('a', 'x');
    queue.push('b', 'y');
    await settle();
    expect(worker).toHaveBeenCalledTimes(2);
    expect(queue.retrying).toBe(2);
    expect(vi.getTimerCount()).toBe(2);

    queue.stop();
    expect(queue.retrying).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(10_000);
    await settle();
    expect(worker).toHaveBeenCalledTimes(2);
  });

  it('does not schedule a retry for a worker that asks for one after stop (fake timers)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const g = gate();
    const worker = vi.fn((_item: QueueItem<string>) => g.promise);
    const finished = vi.fn();
    const queue = new KeyedWorkQueue<string>(
      { concurrency: 1, initialBackoff: 100, maxBackoff: 100, random: () => 0.5 },
      worker,
      finished,
    );
    queue.push('a', 'x');
    queue.stop();
    g.open('retry');
    await settle();
    expect(vi.getTimerCount()).toBe(0);
    expect(queue.retrying).toBe(0);
    expect(queue.inFlight).toBe(0);
    await vi.advanceTimersByTimeAsync(10_000);
    await settle();
    expect(worker).toHaveBeenCalledTimes(1);
    expect(finished).toHaveBeenCalledTimes(0);
  });
});

describe('KeyedWorkQueue: onFinished', () => {
  it('is called exactly once per item with its final outcome, never for retries', async () => {
    const plan: Record<string, WorkOutcome[]> = {
      d1: ['done'],
      p1: ['park'],
      r1: ['retry', 'retry', 'done'],
      r2: ['retry', 'park'],
      t1: ['retry', 'done'],
    };
    const calls = new Map<string, number>();
    const finished: Array<[string, string, number]> = [];
    const queue = new KeyedWorkQueue<string>(
      { concurrency: 2, ...FAST },
      async (item) => {
        const n = calls.get(item.payload) ?? 0;
        calls.set(item.payload, n + 1);
        await shortDelay();
        if (item.payload === 't1' && n === 0) throw new Error('boom');
        return plan[item.payload][n];
      },
      (item, outcome) => finished.push([item.payload, outcome, item.attempt]),
    );
    queue.push('org-1', 'd1');
    queue.push('org-1', 'r1');
    queue.push('org-2', 'p1');
    queue.push('org-2', 'r2');
    queue.push('org-3', 't1');
    await within(queue.whenIdle(), 5_000, 'whenIdle');

    expect([...finished].sort()).toEqual([
      ['d1', 'done', 1],
      ['p1', 'park', 1],
      ['r1', 'done', 3],
      ['r2', 'park', 2],
      ['t1', 'done', 2],
    ]);
    expect(Object.fromEntries(calls)).toEqual({ d1: 1, p1: 1, r1: 3, r2: 2, t1: 2 });
    // Per key, in order.
    expect(finished.filter(([p]) => p === 'd1' || p === 'r1').map(([p]) => p)).toEqual(['d1', 'r1']);
    expect(finished.filter(([p]) => p === 'p1' || p === 'r2').map(([p]) => p)).toEqual(['p1', 'r2']);
  });

  it('is called after the item left size (a callback sees the new count)', async () => {
    const sizes: number[] = [];
    const queue: KeyedWorkQueue<number> = new KeyedWorkQueue<number>(
      { concurrency: 1, ...FAST },
      async () => 'done',
      () => sizes.push(queue.size),
    );
    queue.push('a', 1);
    queue.push('a', 2);
    queue.push('b', 3);
    await within(queue.whenIdle(), 2_000, 'whenIdle');
    expect(sizes).toEqual([2, 1, 0]);
  });

describe('KeyedWorkQueue waiters', () => {
  it('hands out one shared promise per threshold, so abandoned races do not pile up waiters', () => {
    const q = new KeyedWorkQueue<number>({ concurrency: 1, initialBackoff: 1, maxBackoff: 1 }, () => new Promise(() => {}));
    q.push('a', 1);
    q.push('a', 2);
    expect(q.whenBelow(2)).toBe(q.whenBelow(2));
    expect(q.whenIdle()).toBe(q.whenBelow(1));
  });

  it('stop() releases whenBelow and whenIdle waiters', async () => {
    const q = new KeyedWorkQueue<number>({ concurrency: 1, initialBackoff: 1, maxBackoff: 1 }, () => new Promise(() => {}));
    q.push('a', 1);
    const idle = q.whenIdle();
    q.stop();
    await expect(idle).resolves.toBeUndefined();
    await expect(q.whenBelow(1)).resolves.toBeUndefined();
  });
});
});

describe('KeyedWorkQueue: room behind a stuck key, O(1) parking', () => {
  it('dropWaiting() frees the items behind a key stuck retrying (its head stays) and wakes whenBelow waiters', async () => {
    let stuck = true;
    const ran: string[] = [];
    const queue = new KeyedWorkQueue<string>({ concurrency: 2, initialBackoff: 60_000, maxBackoff: 60_000 }, async (item) => {
      if (stuck && item.payload === 'p1') return 'retry';
      ran.push(item.payload);
      return 'done';
    });
    for (const payload of ['p1', 'p2', 'p3']) queue.push('poison', payload);
    queue.push('other', 'o1');
    await waitFor(() => queue.blockedKeys().length === 1 && ran.includes('o1'));
    expect(queue.blockedKeys()).toEqual(['poison']);
    const below = queue.whenBelow(2);
    const dropped = queue.dropWaiting('poison');
    expect(dropped.map((item) => item.payload)).toEqual(['p2', 'p3']);
    expect(queue.size).toBe(1);
    await below;
    expect(queue.dropWaiting('poison')).toEqual([]);
    expect(queue.dropWaiting('unknown')).toEqual([]);
    stuck = false;
    queue.stop();
  });

  it('unpark() forgets one parked item; parked lists them oldest first and parkedCount counts them', async () => {
    const queue = new KeyedWorkQueue<string>({ concurrency: 4, ...FAST }, async () => 'park');
    for (const payload of ['a', 'b', 'c']) queue.push(payload, payload);
    await waitFor(() => queue.parkedCount === 3);
    const [a, b] = queue.parked;
    expect(queue.parked.map((item) => item.payload)).toEqual(['a', 'b', 'c']);
    expect(queue.unpark(b)).toBe(true);
    expect(queue.unpark(b)).toBe(false);
    expect(queue.parked.map((item) => item.payload)).toEqual(['a', 'c']);
    expect(queue.parkedCount).toBe(2);
    expect(queue.wake((item) => item === a)).toBe(1);
    queue.stop();
  });
});

describe('KeyedWorkQueue.pushItem', () => {
  it('runs a caller-built item as it is, in order with pushed ones, and reports that same object when finished', async () => {
    const seen: Array<QueueItem<string>> = [];
    const finished: Array<QueueItem<string>> = [];
    const queue = new KeyedWorkQueue<string>(
      { concurrency: 1, ...FAST },
      async (item) => {
        seen.push(item);
        return 'done';
      },
      (item) => finished.push(item),
    );
    const own: QueueItem<string> = { key: 'org-a', payload: 'second', attempt: 1 };
    queue.push('org-a', 'first');
    queue.pushItem(own);
    await within(queue.whenIdle(), 5_000, 'the queue going idle');
    expect(seen.map((item) => item.payload)).toEqual(['first', 'second']);
    expect(seen[1]).toBe(own);
    expect(finished[1]).toBe(own);
  });

  it('takes nothing after stop()', async () => {
    const worker = vi.fn(async (): Promise<WorkOutcome> => 'done');
    const queue = new KeyedWorkQueue<string>({ concurrency: 1, ...FAST }, worker);
    queue.stop();
    queue.pushItem({ key: 'k', payload: 'x', attempt: 1 });
    await settle();
    expect(queue.size).toBe(0);
    expect(worker).not.toHaveBeenCalled();
  });
});
