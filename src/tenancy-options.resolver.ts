import { plainToInstance } from 'class-transformer';
import { IsBoolean, IsInt, IsNotEmpty, IsOptional, IsString, Max, Min, ValidateIf, validateSync } from 'class-validator';
import { validateCronExpression } from 'cron';
import { DEFAULTS, ENV_INTERNAL_TOKEN, ENV_TENANT_MANAGER_URL, MAX_POLL_LIMIT } from './tenancy.constants.js';
import { TenancyConfigurationError } from './tenancy.errors.js';
import { describeValue, invalidOption } from './tenancy.messages.js';
import type { ResolvedTenancyOptions, TenancyModuleOptions } from './tenancy-options.js';

// Node timers overflow above 2^31-1 ms and fire at once; reject such values.
const MAX_TIMER = 2_147_483_647;

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

  // A number of milliseconds, or a cron expression (checked in resolveTenancyOptions).
  @ValidateIf((o: { resyncInterval?: unknown }) => o.resyncInterval !== undefined && typeof o.resyncInterval !== 'string')
  @IsInt({ message: 'must be an integer number of milliseconds or a cron expression' })
  @Min(1, { message: 'must be positive' })
  @Max(MAX_TIMER, { message: `must be at most ${MAX_TIMER}` })
  resyncInterval?: number | string;
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
  if (
    options.metrics !== undefined &&
    typeof (options.metrics as { registry?: { registerMetric?: unknown } } | null)?.registry?.registerMetric !== 'function'
  ) {
    problems.push(invalidOption('metrics', 'an object without a prom-client registry', 'must be { registry: Registry }'));
  }
  if (typeof candidate.resyncInterval === 'string') {
    const cron = validateCronExpression(candidate.resyncInterval);
    if (!cron.valid) {
      const rule = `must be a number of milliseconds or a cron expression (${cron.error?.message ?? 'invalid'})`;
      problems.push(invalidOption('resyncInterval', describeValue(candidate.resyncInterval), rule));
    }
  }
  const coordinationProblem = checkCoordination(options.coordination);
  if (coordinationProblem) problems.push(invalidOption('coordination', coordinationProblem.shown, coordinationProblem.rule));
  if (!invalid.has('url') && !isHttpUrl(candidate.url as string)) {
    problems.push(invalidOption('url', describeValue(candidate.url), 'must be an http(s) URL'));
  }
  if (!invalid.has('initialBackoff') && !invalid.has('maxBackoff') && candidate.initialBackoff > candidate.maxBackoff) {
    problems.push(
      invalidOption('initialBackoff', String(candidate.initialBackoff), `must not exceed maxBackoff (${candidate.maxBackoff})`),
    );
  }
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

function checkCoordination(value: unknown): { shown: string; rule: string } | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== 'object') {
    return { shown: describeValue(value), rule: 'must be a Kubernetes Lease config or a TenancyCoordinator' };
  }
  const option = value as Record<string, unknown>;
  if ('type' in option) {
    if (option.type !== 'kubernetes-lease') {
      return { shown: describeValue(option.type), rule: 'has an unknown type (supported: "kubernetes-lease")' };
    }
    if (typeof option.leaseName !== 'string' || option.leaseName === '') {
      return { shown: describeValue(option.leaseName), rule: 'needs a leaseName' };
    }
    return undefined;
  }
  const missing = ['acquire', 'renew', 'release'].filter((m) => typeof option[m] !== 'function');
  if (missing.length > 0 || typeof option.identity !== 'string') {
    return {
      shown: 'an object without ' + [...missing.map((m) => `${m}()`), ...(typeof option.identity === 'string' ? [] : ['identity'])].join(', '),
      rule: 'must implement TenancyCoordinator (identity, acquire, renew, release)',
    };
  }
  return undefined;
}

// "Is required" explains a missing value best, then the type rule ("must be an integer" beats "must be positive" for 0.5).
const RULE_PRIORITY = ['isNotEmpty', 'isString', 'isInt', 'isBoolean', 'min', 'max'];

function firstRule(constraints: Record<string, string> | undefined): string {
  if (!constraints) return 'is invalid';
  for (const rule of RULE_PRIORITY) if (constraints[rule]) return constraints[rule];
  return Object.values(constraints)[0] ?? 'is invalid';
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}
