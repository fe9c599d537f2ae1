/**
 * Epoch milliseconds with sub-millisecond precision, comparable across the
 * benchmark's processes (they share the wall clock), for append-to-handler delays.
 */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}
