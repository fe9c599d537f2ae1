import { CronTime } from 'cron';
import { unknownKeys } from './common/option-problem.js';
import { coordinationProblems, leaseKeysOf } from './coordination/coordination.options.js';
import { DEFAULTS, ENV_INTERNAL_TOKEN, ENV_TENANT_MANAGER_URL } from './tenancy.constants.js';
import { TenancyConfigurationError } from './tenancy.errors.js';
import { describeValue, invalidOption, unknownOption } from './tenancy.messages.js';
import { redactCredentials } from './tenant-manager/redact-url.js';
import type { ResolvedTenancyOptions, TenancyModuleOptions } from './tenancy-options.js';
import { optionViolations } from './tenancy-options.rules.js';

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
    // Optional without a default: null (from JSON or YAML config) means "not set", as undefined does.
    handlerTimeout: options.handlerTimeout ?? undefined,
    inProgressAfter: options.inProgressAfter ?? undefined,
    shutdownTimeout: options.shutdownTimeout ?? DEFAULTS.shutdownTimeout,
    concurrency: options.concurrency ?? DEFAULTS.concurrency,
    maxAttempts: options.maxAttempts ?? undefined,
    maxQueuedEvents: options.maxQueuedEvents ?? DEFAULTS.maxQueuedEvents,
    resyncInterval: options.resyncInterval ?? undefined,
  };
  const violations = optionViolations(candidate);
  const problems = violations.map((violation) => {
    // A URL's credentials never reach an option error either.
    const shown = SECRET_FIELDS.has(violation.field) ? '[redacted]' : redactCredentials(describeValue(violation.value));
    return invalidOption(violation.field, shown, violation.rule);
  });
  const invalid = new Set(violations.map((v) => v.field));
  if (options.onError !== undefined && typeof options.onError !== 'function') {
    problems.push(invalidOption('onError', describeValue(options.onError), 'must be a function'));
  }
  if (options.metrics !== undefined && !isPromRegistry((options.metrics as { registry?: unknown } | null)?.registry)) {
    problems.push(invalidOption('metrics', 'an object without a prom-client registry', 'must be { registry: Registry }'));
  }
  if (typeof candidate.resyncInterval === 'string') {
    const rule = cronProblem(candidate.resyncInterval);
    if (rule) problems.push(invalidOption('resyncInterval', describeValue(candidate.resyncInterval), rule));
  }
  for (const found of coordinationProblems(options.coordination)) problems.push(invalidOption(found.field, found.shown, found.rule));
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
  problems.push(...unknownOptionProblems(options));
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
  inProgressAfter: true,
  shutdownTimeout: true,
  concurrency: true,
  maxAttempts: true,
  maxQueuedEvents: true,
  resyncInterval: true,
  metrics: true,
  coordination: true,
  transport: true,
  maxResponseBytes: true,
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
  // Node sends a header with no body as Latin-1 and one with a string body as UTF-8:
  // a token with é would pass polls and fail every status write.
  if (/[^\u0020-\u007e]/.test(token)) return 'must contain only printable ASCII characters (it is sent as a header)';
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

/**
 * Why a cron resyncInterval is unusable, if it is: not an expression, or one that never
 * fires (Feb 30), which would otherwise throw only when the run schedules it.
 */
function cronProblem(expression: string): string | undefined {
  let time: CronTime;
  try {
    time = new CronTime(expression);
  } catch (error) {
    return `must be a number of milliseconds or a cron expression (${(error as Error).message})`;
  }
  try {
    time.sendAt();
  } catch {
    return 'must be a cron expression that fires (no execution date within the next 8 years)';
  }
  return undefined;
}
