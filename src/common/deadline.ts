/** How a bounded wait ended. */
export type WaitOutcome = 'settled' | 'expired' | 'aborted';

/**
 * Waits for `promise` to settle (a rejection counts as settled and is swallowed),
 * for at most `ms`, or until `signal` aborts. Leaves no timer or listener behind.
 */
export function settleWithin(promise: Promise<unknown>, ms: number, signal?: AbortSignal): Promise<WaitOutcome> {
  if (signal?.aborted) return Promise.resolve('aborted');
  // Even with no time left, an already-settled promise counts (it settles in a
  // microtask, before a 0 ms timer fires).
  return new Promise<WaitOutcome>((resolve) => {
    const finish = (outcome: WaitOutcome) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(outcome);
    };
    const onAbort = () => finish('aborted');
    const timer = setTimeout(() => finish('expired'), Math.max(ms, 0));
    signal?.addEventListener('abort', onAbort, { once: true });
    promise.then(
      () => finish('settled'),
      () => finish('settled'),
    );
  });
}

/** Like {@link settleWithin} with an absolute deadline (epoch ms); true when it settled. */
export async function settledBy(promise: Promise<unknown>, deadline: number): Promise<boolean> {
  return (await settleWithin(promise, deadline - Date.now())) === 'settled';
}

