import {
  leaseAttemptTimedOut,
  leaseRequestFailed,
  missingKubernetesClient,
} from './kubernetes-lease.messages.js';
import { resolveKubernetesLeaseOptions, type ResolvedKubernetesLeaseOptions } from './kubernetes-lease.options.js';
import {
  createdSpec,
  isLeaseExpired,
  leaseDurationSeconds,
  newLease,
  observeLease,
  readLeaseRecord,
  releasedSpec,
  renewedSpec,
  takenOverSpec,
  withSpec,
  type LeaseObject,
  type LeaseObservation,
  type LeaseRecord,
  type LeaseSpecFields,
} from './lease-record.js';
import { describeThrown } from '../../tenancy.messages.js';
import type { KubernetesLeaseOptions, TenancyCoordinator } from '../tenancy-coordinator.js';

/**
 * The three Lease calls the coordinator makes: structurally `CoordinationV1Api` of
 * `@kubernetes/client-node` 1.x and 2.x (object-parameter style). Typed here so the
 * optional peer never appears in our declarations.
 */
export interface LeaseApi {
  readNamespacedLease(param: { name: string; namespace: string }): Promise<LeaseObject>;
  createNamespacedLease(param: { namespace: string; body: LeaseObject }): Promise<LeaseObject>;
  replaceNamespacedLease(param: { name: string; namespace: string; body: LeaseObject }): Promise<LeaseObject>;
}

/** The part of `KubeConfig` the coordinator uses. */
export interface KubeConfigLike {
  loadFromCluster(): void;
  loadFromFile(path: string): void;
  makeApiClient(apiClientType: never): unknown;
}

/** The part of the `@kubernetes/client-node` module the coordinator uses. */
export interface KubernetesClientModule {
  KubeConfig: new () => KubeConfigLike;
  CoordinationV1Api: unknown;
}

/** Seams for tests and unusual setups. */
export interface KubernetesLeaseDependencies {
  /** A ready Lease API client; nothing is imported or loaded then. */
  readonly api?: LeaseApi;
  /** A loaded `KubeConfig` (for example `loadFromOptions(...)`); the `kubeconfig` option is then not read. */
  readonly kubeConfig?: KubeConfigLike;
  /** Loads `@kubernetes/client-node`. Default: a dynamic `import()`. */
  readonly importClient?: () => Promise<KubernetesClientModule>;
  /** Wall clock (ms) for the times written to the Lease. Default `Date.now`. */
  readonly now?: () => number;
  /**
   * Monotonic clock (ms) for expiry judgement, so a wall-clock step cannot make a live
   * Lease look expired. Default `performance.now`, or `now` when only that is given.
   */
  readonly monotonic?: () => number;
  /** Random numbers in [0, 1) for the default identity. Default `Math.random`. */
  readonly random?: () => number;
}

type AttemptGuard = () => void;

// A value, not a literal import in a signature: the peer is optional and loaded on first use.
const importKubernetesClient = (): Promise<KubernetesClientModule> => import('@kubernetes/client-node');

/**
 * Leadership through a `coordination.k8s.io/v1` Lease, the way client-go's
 * leaderelection does it: the holder renews `spec.renewTime`; others take over once
 * they have seen the Lease unchanged for its `leaseDurationSeconds` on their own
 * clock; every write carries the `resourceVersion` that was read, so of two
 * replicas racing for an expired Lease exactly one wins (the other gets 409).
 *
 * Each attempt (read plus write) is bounded by {@link attemptTimeout}; a hung request
 * counts as a failure instead of stalling the caller past its renew deadline.
 *
 * `@kubernetes/client-node` (an optional peer) is imported at the first attempt.
 * RBAC: `get`, `create`, `update` on `leases` in the namespace.
 */
export class KubernetesLeaseCoordinator implements TenancyCoordinator {
  /** Holder identity written to the Lease. */
  readonly identity: string;
  readonly retryPeriod: number;
  readonly renewDeadline: number;
  /** How long the Lease is valid without renewal (ms; whole seconds, rounded up, on the wire). */
  readonly leaseDuration: number;
  readonly leaseName: string;
  readonly namespace: string;
  /**
   * Bound on one attempt (ms): `min(retryPeriod, (leaseDuration - renewDeadline) / 2)`.
   * A renew that succeeds late still leaves others waiting longer than our deadline.
   */
  readonly attemptTimeout: number;

  private readonly options: ResolvedKubernetesLeaseOptions;
  private readonly wireDuration: number;
  private readonly now: () => number;
  private readonly monotonic: () => number;
  private client?: Promise<LeaseApi>;
  private observation?: LeaseObservation;

  constructor(
    options: KubernetesLeaseOptions,
    private readonly deps: KubernetesLeaseDependencies = {},
  ) {
    this.options = resolveKubernetesLeaseOptions(options, { random: deps.random });
    this.identity = this.options.identity;
    this.retryPeriod = this.options.retryPeriod;
    this.renewDeadline = this.options.renewDeadline;
    this.leaseDuration = this.options.leaseDuration;
    this.leaseName = this.options.leaseName;
    this.namespace = this.options.namespace;
    this.attemptTimeout = Math.min(this.retryPeriod, (this.leaseDuration - this.renewDeadline) / 2);
    this.wireDuration = leaseDurationSeconds(this.leaseDuration);
    this.now = deps.now ?? Date.now;
    this.monotonic = deps.monotonic ?? deps.now ?? (() => performance.now());
  }

  /**
   * One attempt to lead. Creates the Lease when it is missing, renews it when we
   * already hold it, takes it over when it has expired (or has no holder).
   *
   * @returns true when we hold the Lease now; false when another replica holds it or
   *   won a race for it (409 Conflict / AlreadyExists).
   * @throws on any other failure: transport errors, other HTTP statuses, a timeout,
   *   or a missing `@kubernetes/client-node`.
   */
  async acquire(): Promise<boolean> {
    const api = await this.api();
    return this.attempt('acquire', async (guard) => {
      const current = await this.send(guard, 'read', () => api.readNamespacedLease(this.ref()), [404]);
      if (typeof current === 'number') {
        const spec = createdSpec(this.identity, this.wireDuration, this.now());
        const body = newLease(this.leaseName, this.namespace, spec);
        const create = () => api.createNamespacedLease({ namespace: this.namespace, body });
        // 409 AlreadyExists: another replica created it since our read, and holds it.
        const created = await this.send(guard, 'create', create, [409]);
        if (typeof created === 'number') return false;
        this.observe(created);
        return true;
      }
      const record = this.observe(current);
      if (record.holderIdentity === this.identity) {
        return this.replace(api, guard, current, renewedSpec(current.spec, this.wireDuration, this.now()));
      }
      if (!this.observation || !isLeaseExpired(this.observation, this.monotonic(), this.leaseDuration)) return false;
      return this.replace(api, guard, current, takenOverSpec(current.spec, this.identity, this.wireDuration, this.now()));
    });
  }

  /**
   * One attempt to extend our leadership: a new `renewTime` on the Lease we hold.
   *
   * @returns false when the Lease is missing, held by another replica, or changed
   *   since we read it (409).
   * @throws on transport errors, other HTTP statuses and timeouts (the caller counts
   *   a throw as a failed renewal).
   */
  async renew(): Promise<boolean> {
    const api = await this.api();
    return this.attempt('renew', async (guard) => {
      const current = await this.send(guard, 'read', () => api.readNamespacedLease(this.ref()), [404]);
      if (typeof current === 'number') return false;
      if (this.observe(current).holderIdentity !== this.identity) return false;
      return this.replace(api, guard, current, renewedSpec(current.spec, this.wireDuration, this.now()));
    });
  }

  /**
   * Gives the Lease up when we hold it: no holder, a one-second duration, so a
   * standby takes over at its next attempt. Returns quietly when the Lease is
   * missing, held by another replica, or changed under us.
   *
   * @throws on transport errors, other HTTP statuses and timeouts.
   */
  async release(): Promise<void> {
    const api = await this.api();
    await this.attempt('release', async (guard) => {
      const current = await this.send(guard, 'read', () => api.readNamespacedLease(this.ref()), [404]);
      if (typeof current === 'number') return;
      if (this.observe(current).holderIdentity !== this.identity) return;
      await this.replace(api, guard, current, releasedSpec(current.spec, this.now()));
    });
  }

  /** `namespace/name` of the Lease, for messages. */
  get leaseRef(): string {
    return `${this.namespace}/${this.leaseName}`;
  }

  private ref(): { name: string; namespace: string } {
    return { name: this.leaseName, namespace: this.namespace };
  }

  /** Writes `spec` over the Lease that was read; false when someone wrote in between. */
  private async replace(api: LeaseApi, guard: AttemptGuard, current: LeaseObject, spec: LeaseSpecFields): Promise<boolean> {
    const body = withSpec(current, spec);
    const replaced = await this.send(
      guard,
      'replace',
      () => api.replaceNamespacedLease({ ...this.ref(), body }),
      // 409: our resourceVersion is stale; 404: deleted since we read it. Either way we lost.
      [404, 409],
    );
    if (typeof replaced === 'number') return false;
    this.observe(replaced);
    return true;
  }

  private observe(lease: LeaseObject): LeaseRecord {
    this.observation = observeLease(this.observation, readLeaseRecord(lease), this.monotonic());
    return this.observation.record;
  }

  /**
   * Sends one request. A status listed in `tolerated` comes back as that number;
   * any other failure throws an Error naming the operation, the Lease and the status.
   */
  private async send(
    guard: AttemptGuard,
    operation: string,
    request: () => Promise<LeaseObject>,
    tolerated: readonly number[],
  ): Promise<LeaseObject | number> {
    guard();
    try {
      return await request();
    } catch (error) {
      const status = httpStatusOf(error);
      if (status !== undefined && tolerated.includes(status)) return status;
      throw new Error(leaseRequestFailed(operation, this.leaseRef, describeFailure(error)), { cause: error });
    }
  }

  /**
   * Runs one attempt within {@link attemptTimeout}. After the timeout the attempt
   * rejects and its remaining requests are not sent (a late write could otherwise
   * take the Lease while our caller believes the attempt failed).
   */
  private async attempt<T>(operation: string, body: (guard: AttemptGuard) => Promise<T>): Promise<T> {
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    const timeoutError = () => new Error(leaseAttemptTimedOut(operation, this.leaseRef, this.attemptTimeout));
    const run = body(() => {
      if (timedOut) throw timeoutError();
    });
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        timedOut = true;
        reject(timeoutError());
      }, this.attemptTimeout);
    });
    // The abandoned attempt may still settle after the timeout; nobody awaits it then.
    run.catch(() => undefined);
    try {
      return await Promise.race([run, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private api(): Promise<LeaseApi> {
    this.client ??= this.loadClient().catch((error: unknown) => {
      this.client = undefined;
      throw error;
    });
    return this.client;
  }

  private async loadClient(): Promise<LeaseApi> {
    if (this.deps.api) return this.deps.api;
    let k8s: KubernetesClientModule;
    try {
      k8s = await (this.deps.importClient ?? importKubernetesClient)();
    } catch (error) {
      const detail = isPeerMissing(error) ? undefined : describeFailure(error);
      throw new Error(missingKubernetesClient(detail), { cause: error });
    }
    let kubeConfig = this.deps.kubeConfig;
    if (!kubeConfig) {
      kubeConfig = new k8s.KubeConfig();
      if (this.options.kubeconfig === undefined) kubeConfig.loadFromCluster();
      else kubeConfig.loadFromFile(this.options.kubeconfig);
    }
    return kubeConfig.makeApiClient(k8s.CoordinationV1Api as never) as LeaseApi;
  }
}

/** The HTTP status of a failed call: `ApiException#code` in `@kubernetes/client-node`. */
export function httpStatusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  try {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'number' ? code : undefined;
  } catch {
    return undefined; // a revoked proxy or a throwing getter: no status to read
  }
}

/**
 * A one-line reason: `HTTP 409 Conflict: <Status message>` for API errors (whose own
 * message spans lines and carries every response header), the message otherwise.
 */
export function describeFailure(error: unknown): string {
  const status = httpStatusOf(error);
  if (status === undefined) return messageOf(error);
  const body = statusBody((error as { body?: unknown }).body);
  const reason = typeof body?.reason === 'string' && body.reason !== '' ? ` ${body.reason}` : '';
  const message = typeof body?.message === 'string' && body.message !== '' ? `: ${body.message}` : '';
  return `HTTP ${status}${reason}${message}`;
}

function statusBody(body: unknown): { reason?: unknown; message?: unknown } | undefined {
  // client-node 1.x hands error bodies over as text.
  if (typeof body === 'string') {
    try {
      return statusBody(JSON.parse(body));
    } catch {
      return undefined;
    }
  }
  return typeof body === 'object' && body !== null ? body : undefined;
}

function isPeerMissing(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  const message = error instanceof Error ? error.message : '';
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && message.includes('@kubernetes/client-node');
}

/** An Error's message; any other thrown value (or a hostile Error) described without throwing. */
function messageOf(error: unknown): string {
  try {
    if (error instanceof Error && typeof error.message === 'string') return error.message;
  } catch {
    // a throwing getter or a revoked proxy
  }
  return describeThrown(error);
}
