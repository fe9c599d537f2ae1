/** Options of a capped exponential backoff (milliseconds). */
export interface BackoffSettings {
  readonly initialBackoff: number;
  readonly maxBackoff: number;
}

/** initial, 2×, 4× … capped at max, for attempt 1, 2, 3 … */
function ceiling(attempt: number, { initialBackoff, maxBackoff }: BackoffSettings): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 52);
  return Math.min(maxBackoff, initialBackoff * 2 ** exponent);
}

/**
 * Full jitter: a random wait in [0, ceiling). Used for per-key event retries, where
 * many keys may fail together and must not retry in lockstep; jitter applies at the
 * cap too.
 */
export function fullJitterBackoff(
  attempt: number,
  settings: BackoffSettings,
  random: () => number = Math.random,
): number {
  return Math.floor(random() * ceiling(attempt, settings));
}

/**
 * Equal jitter: a random wait in [ceiling/2, ceiling). Used for the single replay
 * and poll loops, which should keep the reference client's doubling rhythm while
 * replicas still spread out.
 */
export function equalJitterBackoff(
  attempt: number,
  settings: BackoffSettings,
  random: () => number = Math.random,
): number {
  const top = ceiling(attempt, settings);
  return Math.floor(top / 2 + random() * (top / 2));
}
