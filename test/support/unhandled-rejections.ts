import { afterEach, beforeEach } from 'vitest';

/**
 * Collects the process's unhandled rejections during each test of the calling
 * suite; the array is emptied before each test. Call it inside `describe` before
 * `useFakeTenantManager`: hooks run in stack order, so the listener is on before
 * the fake starts and off after it stops. Vitest fails a run on unhandled
 * rejections too; asserting the array names the test that caused one.
 */
export function useUnhandledRejections(): readonly unknown[] {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  beforeEach(() => {
    unhandled.length = 0;
    process.on('unhandledRejection', onUnhandled);
  });
  afterEach(() => {
    process.off('unhandledRejection', onUnhandled);
  });
  return unhandled;
}
