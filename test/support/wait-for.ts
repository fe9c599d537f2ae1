/** Options of {@link waitFor}. */
export interface WaitForOptions {
  /** Give up after this many ms (default 5000). */
  timeout?: number;
  /** Poll every this many ms (default 10). */
  interval?: number;
  /** Error message on timeout (default: a generic one with the timeout). */
  message?: string;
}

/**
 * Polls `condition` until it returns true, or throws after `timeout` ms. The only
 * way tests wait: bounded, and it fails with a message instead of hanging.
 * A condition that throws fails the wait at once (a broken check should not be retried).
 */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  { timeout = 5000, interval = 10, message }: WaitForOptions = {},
): Promise<void> {
  const deadline = Date.now() + timeout;
  for (;;) {
    if (await condition()) return;
    if (Date.now() >= deadline) throw new Error(message ?? `waitFor: condition not met within ${timeout} ms`);
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}
