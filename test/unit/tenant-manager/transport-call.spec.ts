import { getEventListeners } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RequestDeadlines } from '../../../src/tenant-manager/transport-call.js';

describe('RequestDeadlines', () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] }));
  afterEach(() => vi.useRealTimers());

  it('a request started from a cancel callback (a retry on timeout) leaves exactly one timer, and none once all finish', () => {
    const deadlines = new RequestDeadlines(100);
    const first = deadlines.start();
    vi.advanceTimersByTime(50);
    const second = deadlines.start();
    let retry: ReturnType<RequestDeadlines['start']> | undefined;
    // A transport whose stop settles synchronously, and a caller that retries at once.
    first.onCancel(() => {
      deadlines.finish(first);
      retry = deadlines.start();
    });
    vi.advanceTimersByTime(51);
    expect(retry).toBeDefined();
    expect(vi.getTimerCount()).toBe(1);
    deadlines.finish(second);
    deadlines.finish(retry!);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('cancels each request when its own timeout passes, with one timer, and leaves none behind', () => {
    const deadlines = new RequestDeadlines(100);
    const stopped: string[] = [];
    const first = deadlines.start();
    first.onCancel(() => stopped.push('first'));
    vi.advanceTimersByTime(40);
    const second = deadlines.start();
    second.onCancel(() => stopped.push('second'));
    vi.advanceTimersByTime(40);
    const third = deadlines.start();
    third.onCancel(() => stopped.push('third'));
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(25); // t = 105
    expect(stopped).toEqual(['first']);
    expect(first.cancelled).toBe('timeout');
    expect(second.cancelled).toBeUndefined();
    vi.advanceTimersByTime(40); // t = 145
    expect(stopped).toEqual(['first', 'second']);
    deadlines.finish(first);
    deadlines.finish(second);
    deadlines.finish(third); // answered in time
    vi.advanceTimersByTime(1_000);
    expect(stopped).toEqual(['first', 'second']);
    expect(third.cancelled).toBeUndefined();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('cancels at once when the caller aborts, and leaves no listener on the caller once finished', () => {
    const deadlines = new RequestDeadlines(10_000);
    const caller = new AbortController();
    const call = deadlines.start(caller.signal);
    let reason: Error | undefined;
    call.onCancel((error) => (reason = error));
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(1);
    caller.abort();
    expect(call.cancelled).toBe('aborted');
    expect(reason).toBeInstanceOf(Error);
    expect(call.signal.aborted).toBe(true);
    deadlines.finish(call);
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('stops a request registered after the caller had already aborted', () => {
    const caller = new AbortController();
    caller.abort();
    const deadlines = new RequestDeadlines(10_000);
    const call = deadlines.start(caller.signal);
    let stopped = false;
    call.onCancel(() => (stopped = true));
    expect(stopped).toBe(true);
    deadlines.finish(call);
  });
  it('listens once to a signal shared by many live calls, cancels them all when it aborts, and lets go when they finish', () => {
    const deadlines = new RequestDeadlines(10_000);
    const shared = new AbortController();
    const other = deadlines.start();
    const calls = Array.from({ length: 5 }, () => deadlines.start(shared.signal));
    expect(getEventListeners(shared.signal, 'abort')).toHaveLength(1);
    deadlines.finish(calls[0]);
    expect(getEventListeners(shared.signal, 'abort')).toHaveLength(1);
    shared.abort();
    expect(calls.slice(1).map((c) => c.cancelled)).toEqual(['aborted', 'aborted', 'aborted', 'aborted']);
    expect(calls[0].cancelled).toBeUndefined();
    expect(other.cancelled).toBeUndefined();
    for (const call of calls) deadlines.finish(call);
    deadlines.finish(other);
    expect(getEventListeners(shared.signal, 'abort')).toHaveLength(0);
  });

  it('a call that timed out leaves no listener on its signal once finished, and the signal is listened to again by later calls', () => {
    const deadlines = new RequestDeadlines(100);
    const shared = new AbortController();
    const late = deadlines.start(shared.signal);
    vi.advanceTimersByTime(101);
    expect(late.cancelled).toBe('timeout');
    deadlines.finish(late);
    expect(getEventListeners(shared.signal, 'abort')).toHaveLength(0);
    const next = deadlines.start(shared.signal);
    expect(getEventListeners(shared.signal, 'abort')).toHaveLength(1);
    shared.abort();
    expect(next.cancelled).toBe('aborted');
    deadlines.finish(next);
    expect(getEventListeners(shared.signal, 'abort')).toHaveLength(0);
  });
});
