import { IsBoolean, IsInt, IsNotEmpty, IsOptional, IsString, Max, Min, validateSync } from 'class-validator';
import { DEFAULTS, ENV_INTERNAL_TOKEN, ENV_TENANT_MANAGER_URL, MAX_POLL_LIMIT } from './tenancy.constants.js';
import { TenancyConfigurationError } from './tenancy.errors.js';
import { describeValue, invalidOption } from './tenancy.messages.js';
import { redactCredentials } from './tenant-manager/redact-url.js';
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

  @IsInt({ message: 'must be an integer number of bytes' })
  @Min(1, { message: 'must be positive' })
  maxResponseBytes: number;

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
    maxResponseBytes: options.maxResponseBytes ?? DEFAULTS.maxResponseBytes,
    internalToken: options.internalToken ?? (env[ENV_INTERNAL_TOKEN] || undefined),
    autoStart: options.autoStart ?? DEFAULTS.autoStart,
    handlerTimeout: options.handlerTimeout,
    shutdownTimeout: options.shutdownTimeout ?? DEFAULTS.shutdownTimeout,
    concurrency: options.concurrency ?? DEFAULTS.concurrency,
    maxAttempts: options.maxAttempts,
    maxQueuedEvents: options.maxQueuedEvents ?? DEFAULTS.maxQueuedEvents,
    resyncInterval: options.resyncInterval,
  };
  // A plain copy: class-transformer would try to construct object values (a URL given as url) and throw.
  const schema = Object.assign(new TenancyOptionsSchema(), candidate);
  const errors = validateSync(schema, { forbidUnknownValues: false });
  const problems = errors.map((error) => {
    // A URL's credentials never reach an option error either.
    const shown = SECRET_FIELDS.has(error.property) ? '[redacted]' : redactCredentials(describeValue(error.value));
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
  const coordinationProblem = checkCoordination(options.coordination);
  if (coordinationProblem) problems.push(invalidOption('coordination', coordinationProblem.shown, coordinationProblem.rule));
  if (!invalid.has('url') && !isHttpUrl(candidate.url as string)) {
    problems.push(invalidOption('url', redactCredentials(describeValue(candidate.url)), 'must be an http(s) URL'));
  }
  const tokenProblem = invalid.has('internalToken') ? undefined : checkToken(candidate.internalToken);
  if (tokenProblem) problems.push(invalidOption('internalToken', '[redacted]', tokenProblem));
  const transportProblem = checkTransport(options.transport);
  if (transportProblem) problems.push(invalidOption('transport', transportProblem.shown, transportProblem.rule));
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
    transport: options.transport ?? 'node',
    metrics: options.metrics,
    coordination: options.coordination,
  });
}

/**
 * A token is sent as a header value: control characters (a trailing newline from a
 * secret file) or surrounding blanks would make every request fail obscurely.
 * The message names the problem, never the token.
 */
function checkToken(token: string | undefined): string | undefined {
  if (token === undefined) return undefined;
  // oxlint-disable-next-line no-control-regex -- finding control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(token.trim())) return 'must not contain control characters';
  if (token.trim() !== token) return 'must not start or end with whitespace or a newline';
  if (/[^\u0020-\u00ff]/.test(token)) return 'must contain only printable Latin-1 characters (it is sent as a header)';
  return undefined;
}

function checkTransport(value: unknown): { shown: string; rule: string } | undefined {
  if (value === undefined || value === 'node' || value === 'axios') return undefined;
  const rule = "must be 'node', 'axios' or { httpService } (an HttpService from @nestjs/axios)";
  if (value === null || typeof value !== 'object') return { shown: describeValue(value), rule };
  const httpService = (value as { httpService?: { axiosRef?: { request?: unknown } } }).httpService;
  if (typeof httpService?.axiosRef?.request !== 'function') {
    return { shown: 'an object without httpService.axiosRef', rule };
  }
  return undefined;
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
