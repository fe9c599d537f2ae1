import { readFileSync } from 'node:fs';
import { invalidLeaseOption, leaseTimingOrder } from './kubernetes-lease.messages.js';
import type { KubernetesLeaseOptions } from '../tenancy-coordinator.js';

/** Defaults of the Kubernetes Lease coordinator (ms), the same as client-go's leader election. */
export const KUBERNETES_LEASE_DEFAULTS = Object.freeze({
  leaseDuration: 15_000,
  renewDeadline: 10_000,
  retryPeriod: 2_000,
});

/** Where a pod finds its own namespace (mounted with the service-account token). */
export const SERVICE_ACCOUNT_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

/** Kubernetes Lease options with every default applied and every rule checked. */
export interface ResolvedKubernetesLeaseOptions {
  readonly leaseName: string;
  readonly namespace: string;
  readonly leaseDuration: number;
  readonly renewDeadline: number;
  readonly retryPeriod: number;
  readonly kubeconfig?: string;
  readonly identity: string;
}

/** Where the defaults come from; injectable for tests. */
export interface KubernetesLeaseEnvironment {
  /** Random numbers in [0, 1) for the identity suffix. Default `Math.random`. */
  readonly random?: () => number;
  /** The pod name. Default `process.env.HOSTNAME`. */
  readonly hostname?: string;
  /** The service-account namespace, or undefined outside a pod. Default: reads {@link SERVICE_ACCOUNT_NAMESPACE_FILE}. */
  readonly podNamespace?: () => string | undefined;
}

// Lease names are DNS subdomains, namespaces DNS labels: refuse bad ones at startup,
// not at the first API call.
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * Applies defaults field by field (`??`, so an explicit `undefined` still gets the
 * default) and checks the rules. Throws an Error naming the field and its value.
 */
export function resolveKubernetesLeaseOptions(
  options: KubernetesLeaseOptions,
  environment: KubernetesLeaseEnvironment = {},
): ResolvedKubernetesLeaseOptions {
  const leaseName = options.leaseName;
  if (typeof leaseName !== 'string' || leaseName.length > 253 || !DNS_SUBDOMAIN.test(leaseName)) {
    throw new Error(invalidLeaseOption('leaseName', leaseName, 'must be a DNS subdomain name (lowercase, at most 253 characters)'));
  }
  if (options.namespace !== undefined) checkNamespace(options.namespace, 'namespace');

  const leaseDuration = positiveMs('leaseDuration', options.leaseDuration ?? KUBERNETES_LEASE_DEFAULTS.leaseDuration);
  const renewDeadline = positiveMs('renewDeadline', options.renewDeadline ?? KUBERNETES_LEASE_DEFAULTS.renewDeadline);
  const retryPeriod = positiveMs('retryPeriod', options.retryPeriod ?? KUBERNETES_LEASE_DEFAULTS.retryPeriod);
  if (renewDeadline >= leaseDuration) {
    throw new Error(leaseTimingOrder('renewDeadline', renewDeadline, 'leaseDuration', leaseDuration));
  }
  if (retryPeriod >= renewDeadline) {
    throw new Error(leaseTimingOrder('retryPeriod', retryPeriod, 'renewDeadline', renewDeadline));
  }

  if (options.kubeconfig !== undefined && (typeof options.kubeconfig !== 'string' || options.kubeconfig === '')) {
    throw new Error(invalidLeaseOption('kubeconfig', options.kubeconfig, 'must be a non-empty file path'));
  }
  if (options.identity !== undefined && (typeof options.identity !== 'string' || options.identity.trim() === '')) {
    throw new Error(invalidLeaseOption('identity', options.identity, 'must be a non-empty string'));
  }

  const namespace = options.namespace ?? podNamespace(environment) ?? 'default';
  const identity = options.identity ?? defaultIdentity(environment);
  return Object.freeze({
    leaseName,
    namespace,
    leaseDuration,
    renewDeadline,
    retryPeriod,
    ...(options.kubeconfig === undefined ? {} : { kubeconfig: options.kubeconfig }),
    identity,
  });
}

/** `HOSTNAME` (the pod name) plus six random hex digits, so two processes in one pod differ. */
export function defaultIdentity(environment: KubernetesLeaseEnvironment = {}): string {
  const random = environment.random ?? Math.random;
  const hostname = 'hostname' in environment ? environment.hostname : process.env.HOSTNAME;
  const suffix = Math.floor(random() * 0x1000000)
    .toString(16)
    .padStart(6, '0');
  return `${hostname || 'tenancy'}-${suffix}`;
}

/** The pod's namespace from the service-account mount, or undefined outside a pod. */
export function readPodNamespace(file = SERVICE_ACCOUNT_NAMESPACE_FILE): string | undefined {
  try {
    const namespace = readFileSync(file, 'utf8').trim();
    return namespace === '' ? undefined : namespace;
  } catch {
    return undefined;
  }
}

function podNamespace(environment: KubernetesLeaseEnvironment): string | undefined {
  const namespace = (environment.podNamespace ?? readPodNamespace)();
  if (namespace !== undefined) checkNamespace(namespace, `namespace (from ${SERVICE_ACCOUNT_NAMESPACE_FILE})`);
  return namespace;
}

function checkNamespace(namespace: unknown, field: string): void {
  if (typeof namespace !== 'string' || namespace.length > 63 || !DNS_LABEL.test(namespace)) {
    throw new Error(invalidLeaseOption(field, namespace, 'must be a DNS label (lowercase, at most 63 characters)'));
  }
}

function positiveMs(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new Error(invalidLeaseOption(field, value, 'must be a positive number of milliseconds'));
  }
  return value;
}
