/** How a bounded wait ended. */
export type WaitOutcome = 'settled' | 'expired' | 'aborted';

/**
 * Waits for `promise` to settle (a rejection counts as settled and is swallowed),
 * for at most `ms`, or until `signal` aborts. Leaves no timer or listener behind.
 */
export function settleWithin(promise: Promise<unknown>, ms: number, signal?: AbortSignal): Promise<WaitOutcome> {
  if (signal?.aborted) return Promise.resolve('aborted');
  if (ms <= 0) return Promise.race([promise.then(settled, settled), Promise.resolve<WaitOutcome>('expired')]);
  return new Promise<WaitOutcome>((resolve) => {
    const finish = (outcome: WaitOutcome) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(outcome);
    };
    const onAbort = () => finish('aborted');
    const timer = setTimeout(() => finish('expired'), ms);
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

const settled = (): WaitOutcome => 'settled';
