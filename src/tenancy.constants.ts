/** Reflect-metadata key under which `@OnTenancyEvent` stores its subscriptions. */
export const TENANCY_EVENT_METADATA = 'nestjs-tenancy:on-tenancy-event';

/** Injection token of the validated, frozen options. */
export const TENANCY_RESOLVED_OPTIONS = Symbol('TENANCY_RESOLVED_OPTIONS');

/** Environment variables read when the matching option is not given. */
export const ENV_TENANT_MANAGER_URL = 'TENANT_MANAGER_URL';
export const ENV_INTERNAL_TOKEN = 'TENANT_MANAGER_INTERNAL_TOKEN';

/** Header that carries the shared secret on every controller-facing request. */
export const INTERNAL_TOKEN_HEADER = 'X-Internal-Token';

/** Logger context of everything this module logs. */
export const LOG_CONTEXT = 'Tenancy';

/** Defaults, in one place (milliseconds unless said otherwise). */
export const DEFAULTS = {
  pollInterval: 5_000,
  pollLimit: 100,
  initialBackoff: 1_000,
  maxBackoff: 30_000,
  httpTimeout: 30_000,
  // 512 MiB: a replay of about a million resources fits.
  maxResponseBytes: 512 * 1024 * 1024,
  autoStart: true,
  shutdownTimeout: 10_000,
  concurrency: 8,
  maxQueuedEvents: 10_000,
} as const;

/** The Tenant Manager rejects `limit` outside 1..1000. */
export const MAX_POLL_LIMIT = 1_000;

/** Status `message` is capped well below the Tenant Manager's 64 KiB body limit. */
export const MAX_STATUS_MESSAGE_LENGTH = 8_192;

/**
 * An event whose required fields stay invalid this many fetches in a row is
 * reported with its raw content and skipped, so one corrupt record cannot block
 * the controller forever (transient corruption gets this many chances).
 */
export const MAX_INVALID_EVENT_STRIKES = 5;

/**
 * After `handlerTimeout` a handler's signal is aborted; its key then waits up to
 * max(handlerTimeout, this) for the abandoned promise to settle before retrying.
 */
export const MIN_ABANDONED_HANDLER_GRACE = 1_000;
