// Public option types: a leaf, imports nothing of the engine.
import type { TenancyCoordinationOptions } from './coordination/tenancy-coordinator.js';

/** The part of a prom-client `Registry` we use; typed structurally so prom-client stays optional. */
export interface PromRegistryLike {
  registerMetric(metric: never): void;
  /** Finds a metric another TenancyModule already registered, to share it. */
  getSingleMetric(name: string): unknown;
  /** Unregisters a metric when the last TenancyModule using it shuts down. */
  removeSingleMetric(name: string): void;
}

/**
 * An `HttpService` from `@nestjs/axios` (typed structurally: `@nestjs/axios` is an
 * optional peer). Only its `axiosRef` is used.
 */
export interface HttpServiceLike {
  readonly axiosRef: { request(config: never): PromiseLike<unknown> };
}

/**
 * How requests reach the Tenant Manager: `'node'` (Node's HTTP client, the
 * fastest), `'axios'` (a fresh axios instance: `HTTP_PROXY`/`NO_PROXY` apply), or
 * `{ httpService }` (your `HttpModule`'s instance: its config, interceptors and
 * proxy settings apply).
 */
export type TenancyTransportOption = 'node' | 'axios' | { readonly httpService: HttpServiceLike };

/** Called with every failure the poller reports (never throws into the poller). */
export type TenancyErrorCallback = (error: Error, message: string) => void;

/** Options of `TenancyModule.forRoot()` / `forRootAsync()`. Times are milliseconds. */
export interface TenancyModuleOptions {
  /** Tenant Manager base URL. Default: env `TENANT_MANAGER_URL`. */
  url?: string;
  /** This controller's canonical name, as registered in the Tenant Manager. Required. */
  controllerName: string;
  /** Wait between polls after a short page. Default 5000. */
  pollInterval?: number;
  /** Events per poll, 1..1000. Default 100. */
  pollLimit?: number;
  /** First retry delay of replay fetches, events and status writes (a failed poll waits for the next pollInterval). Default 1000. */
  initialBackoff?: number;
  /** Retry delay cap. Default 30000. */
  maxBackoff?: number;
  /**
   * Deadline of one HTTP request, from connecting to the last byte of the body
   * (a server trickling its answer fails too). A timed-out request is a failed
   * request: retried like any other. Default 30000.
   */
  httpTimeout?: number;
  /**
   * Largest response body accepted, in bytes; a larger one is abandoned as soon
   * as it passes the limit and the request fails, naming the limit. Bounds the
   * memory a response can take. Default 536870912 (512 MiB: a replay of about a
   * million resources).
   */
  maxResponseBytes?: number;
  /**
   * HTTP stack: `'node'` (default), `'axios'` (needs `axios` installed), or
   * `{ httpService }` injected from `HttpModule` (needs `@nestjs/axios`).
   * See {@link TenancyTransportOption}.
   */
  transport?: TenancyTransportOption;
  /** Called with every reported failure, besides the log. */
  onError?: TenancyErrorCallback;
  /** Shared secret sent as `X-Internal-Token`. Default: env `TENANT_MANAGER_INTERNAL_TOKEN`. */
  internalToken?: string;
  /** Start on application bootstrap. Default true; else call `TenancyPoller.start()`. */
  autoStart?: boolean;
  /** Abort and fail a handler attempt after this long. Default: none. */
  handlerTimeout?: number;
  /**
   * Write the `in_progress` status only when a handler is still running after this
   * long; a handler that finishes sooner costs one status write (its outcome), not
   * two. Default: none (always write `in_progress` first, as the reference client).
   */
  inProgressAfter?: number;
  /** How long shutdown waits for in-flight handlers and status writes. Default 10000. */
  shutdownTimeout?: number;
  /** Handlers in flight at once across all orgs (one org is always sequential). Default 8. */
  concurrency?: number;
  /** Park an event after this many failed attempts. Default: retry forever. */
  maxAttempts?: number;
  /** Fetched-but-unfinished events above which polling pauses. Default 10000. */
  maxQueuedEvents?: number;
  /**
   * Re-run the replay periodically to repair drift: a period in ms (jittered ±10%),
   * or a cron expression such as `'0 3 * * *'` (nightly). Default: off.
   */
  resyncInterval?: number | string;
  /**
   * Prometheus metrics on the host's prom-client `Registry` (never the global one),
   * registered at module init and removed at shutdown. Apps may share a registry:
   * every series has the `controller` label. Default: off.
   */
  metrics?: TenancyMetricsOptions;
  /**
   * Run several replicas with exactly one active: a Kubernetes Lease
   * (`{ type: 'kubernetes-lease', leaseName }`) or your own {@link TenancyCoordinator}.
   * Default: none (a single replica).
   */
  coordination?: TenancyCoordinationOptions;
}

/** Where to register Prometheus metrics. */
export interface TenancyMetricsOptions {
  /** A prom-client `Registry` (prom-client is an optional peer). */
  registry: PromRegistryLike;
}

/** Options after defaults, env fallback and validation. Frozen. */
export interface ResolvedTenancyOptions {
  readonly url: string;
  readonly controllerName: string;
  readonly pollInterval: number;
  readonly pollLimit: number;
  readonly initialBackoff: number;
  readonly maxBackoff: number;
  readonly httpTimeout: number;
  readonly maxResponseBytes: number;
  readonly transport: TenancyTransportOption;
  readonly onError?: TenancyErrorCallback;
  readonly internalToken?: string;
  readonly autoStart: boolean;
  readonly handlerTimeout?: number;
  readonly inProgressAfter?: number;
  readonly shutdownTimeout: number;
  readonly concurrency: number;
  readonly maxAttempts?: number;
  readonly maxQueuedEvents: number;
  readonly resyncInterval?: number | string;
  readonly metrics?: TenancyMetricsOptions;
  readonly coordination?: TenancyCoordinationOptions;
}
