import { MAX_TIMER_MS as MAX_TIMER } from './common/option-problem.js';
import { MAX_POLL_LIMIT } from './tenancy.constants.js';

/** One check of one option: the text names what a failing value must be. */
type Check = readonly [passes: (value: unknown) => boolean, rule: string];

/** The rules of one option, checked in order; the first that fails is reported. */
interface OptionRules {
  /** `undefined` and `null` are fine (a default or "none" applies). */
  readonly optional?: boolean;
  /** Checked only when this holds. */
  readonly when?: (value: unknown) => boolean;
  readonly checks: readonly Check[];
}

/** A field that failed its rules: the value as given and the first rule it broke. */
export interface OptionViolation {
  readonly field: string;
  readonly value: unknown;
  readonly rule: string;
}

const isString = (value: unknown): boolean => typeof value === 'string' || value instanceof String;
const isNotEmpty = (value: unknown): boolean => value !== '' && value !== null && value !== undefined;
const isInt = (value: unknown): boolean => typeof value === 'number' && Number.isInteger(value);
const isBoolean = (value: unknown): boolean => typeof value === 'boolean' || value instanceof Boolean;
const atLeast = (min: number) => (value: unknown) => typeof value === 'number' && value >= min;
const atMost = (max: number) => (value: unknown) => typeof value === 'number' && value <= max;

// A missing value is explained by "is required" first, then the type rule ("must be
// an integer" beats "must be positive" for 0.5), then the bounds.
const milliseconds: readonly Check[] = [
  [isInt, 'must be an integer number of milliseconds'],
  [atLeast(1), 'must be positive'],
  [atMost(MAX_TIMER), `must be at most ${MAX_TIMER}`],
];
const count: readonly Check[] = [
  [isInt, 'must be an integer'],
  [atLeast(1), 'must be positive'],
];

/**
 * The rules of every validated option, in the order problems are listed. Hand-written
 * rather than class-validator decorators: importing class-validator took ~90 ms of
 * every host's start-up (bench --startup) for a dozen number checks.
 */
const RULES: Readonly<Record<string, OptionRules>> = {
  url: {
    checks: [
      [isNotEmpty, 'is required (or set TENANT_MANAGER_URL)'],
      [isString, 'must be a string'],
    ],
  },
  controllerName: {
    checks: [
      [isNotEmpty, 'is required'],
      [isString, 'must be a string'],
    ],
  },
  pollInterval: { checks: milliseconds },
  pollLimit: {
    checks: [
      [isInt, 'must be an integer'],
      [atLeast(1), `must be between 1 and ${MAX_POLL_LIMIT}`],
      [atMost(MAX_POLL_LIMIT), `must be between 1 and ${MAX_POLL_LIMIT} (the Tenant Manager rejects more)`],
    ],
  },
  initialBackoff: { checks: milliseconds },
  maxBackoff: { checks: milliseconds },
  httpTimeout: { checks: milliseconds },
  maxResponseBytes: {
    checks: [
      [isInt, 'must be an integer number of bytes'],
      [atLeast(1), 'must be positive'],
    ],
  },
  internalToken: {
    optional: true,
    checks: [
      [isNotEmpty, 'must not be empty'],
      [isString, 'must be a string'],
    ],
  },
  autoStart: { checks: [[isBoolean, 'must be a boolean']] },
  handlerTimeout: { optional: true, checks: milliseconds },
  inProgressAfter: {
    optional: true,
    checks: [
      [isInt, 'must be an integer number of milliseconds'],
      [atLeast(0), 'must not be negative'],
      [atMost(MAX_TIMER), `must be at most ${MAX_TIMER}`],
    ],
  },
  shutdownTimeout: { checks: milliseconds },
  concurrency: { checks: count },
  maxAttempts: { optional: true, checks: count },
  maxQueuedEvents: { checks: count },
  // A number of milliseconds, or a cron expression (checked by the resolver).
  resyncInterval: {
    when: (value) => value !== undefined && typeof value !== 'string',
    checks: [
      [isInt, 'must be an integer number of milliseconds or a cron expression'],
      [atLeast(1), 'must be positive'],
      [atMost(MAX_TIMER), `must be at most ${MAX_TIMER}`],
    ],
  },
};

/** Every rule the candidate options break, one per field, in {@link RULES} order. */
export function optionViolations(candidate: Readonly<Record<string, unknown>>): OptionViolation[] {
  const found: OptionViolation[] = [];
  for (const field in RULES) {
    const rules = RULES[field];
    const value = candidate[field];
    if (rules.optional && (value === undefined || value === null)) continue;
    if (rules.when && !rules.when(value)) continue;
    for (const [passes, rule] of rules.checks) {
      if (passes(value)) continue;
      found.push({ field, value, rule });
      break;
    }
  }
  return found;
}
