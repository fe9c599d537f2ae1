/**
 * Decides which replica of a controller is active. Only the leader replays, polls,
 * dispatches and writes status; the others stand by (alive, not ready).
 *
 * The library calls `acquire()` every `retryPeriod` while standing by and `renew()`
 * every `retryPeriod` while leading. A renewal answered `false` (the lease is gone or
 * held by another replica), renewals that keep throwing for `renewDeadline` (measured
 * on a monotonic clock), or the `onLost` callback make the replica stop at once: no
 * handler start, fetch or status write leaves it afterwards, and it stands by again. Implementations must make `renewDeadline`
 * shorter than the time another replica needs to take over, so two leaders never
 * overlap. `release()` is called on graceful shutdown so a standby takes over fast.
 */
export interface TenancyCoordinator {
  /** This replica's identity, for logs and status. */
  readonly identity: string;
  /** Between acquire/renew attempts (ms); must be below renewDeadline. Default 2000. */
  readonly retryPeriod?: number;
  /** Leadership is given up when renewals fail for this long (ms). Default 10000. */
  readonly renewDeadline?: number;
  /** One attempt to become leader (or confirm we already are). True when we lead. */
  acquire(): Promise<boolean>;
  /**
   * One attempt to extend our leadership. `false` means the leadership is gone (lost
   * at once); throw for a transient failure (retried until `renewDeadline`).
   */
  renew(): Promise<boolean>;
  /** Gives leadership up (graceful shutdown). Must not throw for "not the leader". */
  release(): Promise<void>;
  /** Registers a callback for a loss the coordinator detects by itself (e.g. a dropped session). */
  onLost?(callback: () => void): void;
}

/** Options of the built-in Kubernetes Lease coordinator (`coordination.k8s.io/v1`). */
export interface KubernetesLeaseOptions {
  readonly type: 'kubernetes-lease';
  /** Name of the Lease object. */
  readonly leaseName: string;
  /** Namespace of the Lease. Default: the pod's namespace (service-account file), else `default`. */
  readonly namespace?: string;
  /** How long a lease is valid without renewal (ms). Default 15000. */
  readonly leaseDuration?: number;
  /** Give up leadership when renewals fail this long (ms); must be below leaseDuration. Default 10000. */
  readonly renewDeadline?: number;
  /** Between attempts (ms); must be below renewDeadline. Default 2000. */
  readonly retryPeriod?: number;
  /** Path to a kubeconfig file. Default: in-cluster config. */
  readonly kubeconfig?: string;
  /** Holder identity. Default: `HOSTNAME` (the pod name) plus a random suffix. */
  readonly identity?: string;
}

/**
 * How replicas coordinate: the Kubernetes Lease, or your own coordinator. Checked
 * with every other option at init: a bad field fails `app.init()` with a
 * TenancyConfigurationError naming it (`coordination.renewDeadline`, …).
 */
export type TenancyCoordinationOptions = KubernetesLeaseOptions | TenancyCoordinator;
