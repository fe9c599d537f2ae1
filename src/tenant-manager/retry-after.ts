import { MAX_TIMER_MS } from '../common/option-problem.js';

/**
 * `Retry-After` (RFC 9110): delay-seconds or an HTTP-date, as milliseconds from
 * `now`, at most what a Node timer can wait (the retry loops cap by maxBackoff
 * anyway); undefined when absent or unreadable (the plain backoff applies then).
 */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Math.min(Number(text) * 1000, MAX_TIMER_MS);
  // A date must look like one: Date.parse also accepts bare numbers and odd strings.
  if (!/[a-z]/i.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.min(Math.max(at - now, 0), MAX_TIMER_MS);
}
