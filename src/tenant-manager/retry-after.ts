// Node timers overflow above 2^31-1 ms; the retry loops cap by maxBackoff anyway.
const MAX_WAIT = 2_147_483_647;

/**
 * `Retry-After` (RFC 9110): delay-seconds or an HTTP-date, as milliseconds from
 * `now`; undefined when absent or unreadable (the plain backoff applies then).
 */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Math.min(Number(text) * 1000, MAX_WAIT);
  // A date must look like one: Date.parse also accepts bare numbers and odd strings.
  if (!/[a-z]/i.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.min(Math.max(at - now, 0), MAX_WAIT);
}
