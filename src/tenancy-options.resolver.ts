import { plainToInstance } from 'class-transformer';
import { IsBoolean, IsInt, IsNotEmpty, IsOptional, IsString, Max, Min, validateSync } from 'class-validator';
import { MAX_TIMER_MS as MAX_TIMER, unknownKeys } from './common/option-problem.js';
import { coordinationProblems, leaseKeysOf } from './coordination/coordination.options.js';
import { DEFAULTS, ENV_INTERNAL_TOKEN, ENV_TENANT_MANAGER_URL, MAX_POLL_LIMIT } from './tenancy.constants.js';
import { TenancyConfigurationError } from './tenancy.errors.js';
import { describeValue, invalidOption, unknownOption } from './tenancy.messages.js';
import type { ResolvedTenancyOptions, TenancyModuleOptions } from './tenancy-options.js';

/** class-validator schema; the only place the rules live. */
class TenancyOptionsSchema {
  @IsString({ message: 'must be a string' })
  @IsNotEmpty({ message: 'is required (or set TENANT_MANAGER_URL)' })
  url: string;

  @IsString({ message: 'must be a string' })
  @IsNotEmpty({ message: 'is required' })
  controllerName: string;

  @IsInt({ message: 'must be an integer number of milliseconds' })
  @Min(1, { message: 'must be positive' })
  @Max(MAX_TIMER, { message: `must be at most ${MAX_TIMER}` })
  pollInterval: number;

  @IsInt({ message: 'must be an integer' })
  @Min(1, { message: `must be between 1 and ${MAX_POLL_LIMIT}` })
  @Max(MAX_POLL_LIMIT, { message: `must be between 1 and ${MAX_POLL_LIMIT} (the Tenant Manager rejects more)` })
  pollLimit: number;

  @IsInt({ message: 'must be an integer number of milliseconds' })
  @Min(1, { message: 'must be positive' })
  @Max(MAX_TIMER, { message: `must be at most ${MAX_TIMER}` })
  initialBackoff: number;

  @IsInt({ message: 'must be an integer number of milliseconds' })
  @Min(1, { message: 'must be positive' })
  @Max(MAX_TIMER, { message: `must be at most ${MAX_TIMER}` })
  maxBackoff: number;

  @IsInt({ message: 'must be an integer number of milliseconds' })
  @Min(1, { message: 'must be positive' })
  @Max(MAX_TIMER, { message: `must be at most ${MAX_TIMER}` })
  httpTimeout: number;

  @IsOptional()
  @IsString({ message: 'must be a string' })
  @IsNotEmpty({ message: 'must not be empty' })
  internalToken?: string;

  @IsBoolean({ message: 'must be a boolean' })
  autoStart: boolean;

  @IsOptional()
  @IsInt({ message: 'must be an integer number of milliseconds' })
  @Min(1, { message: 'must be positive' })
  @Max(MAX_TIMER, { message: `must be at most ${MAX_TIMER}` })
  handlerTimeout?: number;

  @IsInt({ message: 'must be an integer number of milliseconds' })
  @Min(1, { message: 'must be positive' })
  @Max(MAX_TIMER, { message: `must be at most ${MAX_TIMER}` })
  shutdownTimeout: number;

  @IsInt({ message: 'must be an integer' })
  @Min(1, { message: 'must be positive' })
  concurrency: number;

  @IsOptional()
  @IsInt({ message: 'must be an integer' })
  @Min(1, { message: 'must be positive' })
  maxAttempts?: number;

  @IsInt({ message: 'must be an integer' })
  @Min(1, { message: 'must be positive' })
  maxQueuedEvents: number;

  @IsOptional()
  @IsInt({ message: 'must be an integer number of milliseconds' })
  @Min(1, { message: 'must be positive' })
  @Max(MAX_TIMER, { message: `must be at most ${MAX_TIMER}` })
  resyncInterval?: number;
}

const SECRET_FIELDS = new Set(['internalToken']);

/**
 * Applies defaults field by field (`??`, so an explicit `undefined` means default),
 * falls back to the environment, validates, and freezes. Throws a
 * {@link TenancyConfigurationError} naming every invalid field and its value
 * (never the token's value).
 */
export function resolveTenancyOptions(
  options: TenancyModuleOptions | undefined,
  env: NodeJS.ProcessEnv = process.env,
): ResolvedTenancyOptions {
  if (options === null || typeof options !== 'object') {
    throw new TenancyConfigurationError(
      `TenancyModule options must be an object (got ${describeValue(options)})`,
    );
  }
  const candidate = {
    url: options.url ?? env[ENV_TENANT_MANAGER_URL],
    controllerName: options.controllerName,
    pollInterval: options.pollInterval ?? DEFAULTS.pollInterval,
    pollLimit: options.pollLimit ?? DEFAULTS.pollLimit,
    initialBackoff: options.initialBackoff ?? DEFAULTS.initialBackoff,
    maxBackoff: options.maxBackoff ?? DEFAULTS.maxBackoff,
    httpTimeout: options.httpTimeout ?? DEFAULTS.httpTimeout,
    internalToken: options.internalToken ?? (env[ENV_INTERNAL_TOKEN] || undefined),
    autoStart: options.autoStart ?? DEFAULTS.autoStart,
    handlerTimeout: options.handlerTimeout,
    shutdownTimeout: options.shutdownTimeout ?? DEFAULTS.shutdownTimeout,
    concurrency: options.concurrency ?? DEFAULTS.concurrency,
    maxAttempts: options.maxAttempts,
    maxQueuedEvents: options.maxQueuedEvents ?? DEFAULTS.maxQueuedEvents,
    resyncInterval: options.resyncInterval,
  };
  const schema = plainToInstance(TenancyOptionsSchema, candidate);
  const errors = validateSync(schema, { forbidUnknownValues: false });
  const problems = errors.map((error) => {
    const shown = SECRET_FIELDS.has(error.property) ? '[redacted]' : describeValue(error.value);
    return invalidOption(error.property, shown, firstRule(error.constraints));
  });
  const invalid = new Set(errors.map((e) => e.property));
  if (options.onError !== undefined && typeof options.onError !== 'function') {
    problems.push(invalidOption('onError', describeValue(options.onError), 'must be a function'));
  }
  if (options.metrics !== undefined && !isPromRegistry((options.metrics as { registry?: unknown } | null)?.registry)) {
    problems.push(invalidOption('metrics', 'an object without a prom-client registry', 'must be { registry: Registry }'));
  }
  for (const found of coordinationProblems(options.coordination)) problems.push(invalidOption(found.field, found.shown, found.rule));
  if (!invalid.has('url') && !isHttpUrl(candidate.url as string)) {
    problems.push(invalidOption('url', describeValue(candidate.url), 'must be an http(s) URL'));
  }
  if (!invalid.has('initialBackoff') && !invalid.has('maxBackoff') && candidate.initialBackoff > candidate.maxBackoff) {
    problems.push(
      invalidOption('initialBackoff', String(candidate.initialBackoff), `must not exceed maxBackoff (${candidate.maxBackoff})`),
    );
  }
  problems.push(...unknownOptionProblems(options));
  if (problems.length > 0) {
    throw new TenancyConfigurationError(problems.join('; '));
  }
  return Object.freeze({
    ...candidate,
    url: (candidate.url as string).replace(/\/+$/, ''),
    controllerName: candidate.controllerName,
    onError: options.onError,
    metrics: options.metrics,
    coordination: options.coordination,
  });
}

/** Every option of {@link TenancyModuleOptions}; the type check fails when one is missing here. */
const KNOWN_OPTIONS = Object.freeze({
  url: true,
  controllerName: true,
  pollInterval: true,
  pollLimit: true,
  initialBackoff: true,
  maxBackoff: true,
  httpTimeout: true,
  onError: true,
  internalToken: true,
  autoStart: true,
  handlerTimeout: true,
  shutdownTimeout: true,
  concurrency: true,
  maxAttempts: true,
  maxQueuedEvents: true,
  resyncInterval: true,
  metrics: true,
  coordination: true,
} satisfies Record<keyof TenancyModuleOptions, true>);

/**
 * A key no option has is an error, not a warning: literal objects are already
 * checked by TypeScript, so this catches misspellings in options built from config
 * (spreads, `forRootAsync` factories), where a warning scrolls by unseen and the
 * option silently keeps its default.
 */
function unknownOptionProblems(options: TenancyModuleOptions): string[] {
  const found = unknownKeys(options, KNOWN_OPTIONS);
  const lease = leaseKeysOf(options.coordination);
  if (lease) found.push(...unknownKeys(lease.options, lease.known, 'coordination.'));
  return found.map((key) => unknownOption(key.field, key.suggestion));
}

// "Is required" explains a missing value best, then the type rule ("must be an integer" beats "must be positive" for 0.5).
const RULE_PRIORITY = ['isNotEmpty', 'isString', 'isInt', 'isBoolean', 'min', 'max'];

function firstRule(constraints: Record<string, string> | undefined): string {
  if (!constraints) return 'is invalid';
  for (const rule of RULE_PRIORITY) if (constraints[rule]) return constraints[rule];
  return Object.values(constraints)[0] ?? 'is invalid';
}

const REGISTRY_METHODS = ['registerMetric', 'getSingleMetric', 'removeSingleMetric'] as const;

/** A prom-client `Registry`, judged by the methods the metrics use (prom-client is an optional peer). */
function isPromRegistry(value: unknown): boolean {
  return typeof value === 'object' && value !== null && REGISTRY_METHODS.every((m) => typeof (value as Record<string, unknown>)[m] === 'function');
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}
