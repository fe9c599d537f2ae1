import { describeValue } from '../tenancy.messages.js';
import { closestName } from './closest-name.js';

/** One invalid option: its path (`coordination.renewDeadline`), the value as shown, the rule it broke. */
export interface OptionProblem {
  readonly field: string;
  readonly shown: string;
  readonly rule: string;
}

// Node timers overflow above 2^31-1 ms and fire at once; reject such values.
export const MAX_TIMER_MS = 2_147_483_647;

/** A problem for `value` breaking `rule`, with the value shown the usual way. */
export function problem(field: string, value: unknown, rule: string): OptionProblem {
  return { field, shown: describeValue(value), rule };
}

/**
 * A positive number of milliseconds a timer can wait, or a problem. Fractions are
 * allowed: these are durations compared and waited on, never sent as integers.
 */
export function checkDuration(field: string, value: unknown): OptionProblem | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    return problem(field, value, 'must be a positive number of milliseconds');
  }
  if (value > MAX_TIMER_MS) return problem(field, value, `must be at most ${MAX_TIMER_MS}`);
  return undefined;
}

/**
 * Own keys of `options` that `known` does not list, each with the closest known key
 * (at most two edits away) when there is one. Values are never shown: a misspelled
 * `internalToken` holds a secret.
 */
export function unknownKeys(
  options: object,
  known: Readonly<Record<string, true>>,
  prefix = '',
): Array<{ readonly field: string; readonly suggestion?: string }> {
  const names = Object.keys(known);
  return Object.keys(options)
    .filter((key) => !Object.hasOwn(known, key))
    .map((key) => {
      const suggestion = closestName(key, names);
      return { field: `${prefix}${key}`, ...(suggestion === undefined ? {} : { suggestion: `${prefix}${suggestion}` }) };
    });
}
