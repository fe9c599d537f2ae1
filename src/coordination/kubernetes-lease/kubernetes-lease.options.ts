import { readFileSync } from 'node:fs';
import { checkDuration, problem, type OptionProblem } from '../../common/option-problem.js';
import { TenancyConfigurationError } from '../../tenancy.errors.js';
import { invalidOption } from '../../tenancy.messages.js';
import { LEASE_RULES, mustBeBelow, timingOrderShown } from './kubernetes-lease.messages.js';
import type { KubernetesLeaseOptions } from '../tenancy-coordinator.js';

/** Defaults of the Kubernetes Lease coordinator (ms), the same as client-go's leader election. */
export const KUBERNETES_LEASE_DEFAULTS = Object.freeze({
  leaseDuration: 15_000,
  renewDeadline: 10_000,
  retryPeriod: 2_000,
});

/** Every key of {@link KubernetesLeaseOptions}; the type check fails when one is missing here. */
export const KUBERNETES_LEASE_KEYS = Object.freeze({
  type: true,
  leaseName: true,
  namespace: true,
  leaseDuration: true,
  renewDeadline: true,
  retryPeriod: true,
  kubeconfig: true,
  identity: true,
} satisfies Record<keyof KubernetesLeaseOptions, true>);

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
 * Every rule the Lease options break, with defaults applied for the timing order;
 * fields are prefixed with `prefix` (the option resolver passes `coordination.`).
 * Unknown keys are the resolver's to report.
 */
export function kubernetesLeaseProblems(options: KubernetesLeaseOptions, prefix = ''): OptionProblem[] {
  const problems: OptionProblem[] = [];
  const field = (name: string) => `${prefix}${name}`;
  const { leaseName, namespace, kubeconfig, identity } = options as unknown as Record<string, unknown>;
  if (typeof leaseName !== 'string' || leaseName.length > 253 || !DNS_SUBDOMAIN.test(leaseName)) {
    problems.push(problem(field('leaseName'), leaseName, LEASE_RULES.leaseName));
  }
  if (namespace !== undefined && !isDnsLabel(namespace)) {
    problems.push(problem(field('namespace'), namespace, LEASE_RULES.namespace));
  }
  const timings = {
    leaseDuration: options.leaseDuration ?? KUBERNETES_LEASE_DEFAULTS.leaseDuration,
    renewDeadline: options.renewDeadline ?? KUBERNETES_LEASE_DEFAULTS.renewDeadline,
    retryPeriod: options.retryPeriod ?? KUBERNETES_LEASE_DEFAULTS.retryPeriod,
  };
  const badTimings = new Set<string>();
  for (const [name, value] of Object.entries(timings)) {
    const found = checkDuration(field(name), value);
    if (found) {
      problems.push(found);
      badTimings.add(name);
    }
  }
  problems.push(...timingOrderProblems(timings, badTimings, prefix));
  if (kubeconfig !== undefined && (typeof kubeconfig !== 'string' || kubeconfig === '')) {
    problems.push(problem(field('kubeconfig'), kubeconfig, LEASE_RULES.kubeconfig));
  }
  if (identity !== undefined && (typeof identity !== 'string' || identity.trim() === '')) {
    problems.push(problem(field('identity'), identity, LEASE_RULES.identity));
  }
  return problems;
}

/**
 * `retryPeriod < renewDeadline < leaseDuration` (the last only when given): a
 * replica must retry before its deadline, and give up before the lease can pass on.
 */
export function timingOrderProblems(
  timings: { leaseDuration?: number; renewDeadline: number; retryPeriod: number },
  invalid: ReadonlySet<string>,
  prefix = '',
): OptionProblem[] {
  const problems: OptionProblem[] = [];
  const order = [
    ['retryPeriod', 'renewDeadline'],
    ['renewDeadline', 'leaseDuration'],
  ] as const;
  for (const [shorter, longer] of order) {
    const short = timings[shorter];
    const long = timings[longer];
    if (long === undefined || invalid.has(shorter) || invalid.has(longer) || short < long) continue;
    problems.push({ field: `${prefix}${shorter}`, shown: timingOrderShown(short, long), rule: mustBeBelow(longer) });
  }
  return problems;
}

/**
 * Applies defaults field by field (`??`, so an explicit `undefined` still gets the
 * default) and checks the rules. Throws a {@link TenancyConfigurationError} naming
 * every bad field and its value. The option resolver has already run the same checks
 * at init; what only this can check is the namespace read from the pod.
 */
export function resolveKubernetesLeaseOptions(
  options: KubernetesLeaseOptions,
  environment: KubernetesLeaseEnvironment = {},
): ResolvedKubernetesLeaseOptions {
  const problems = kubernetesLeaseProblems(options, 'coordination.');
  if (problems.length > 0) {
    throw new TenancyConfigurationError(problems.map((p) => invalidOption(p.field, p.shown, p.rule)).join('; '));
  }
  const namespace = options.namespace ?? podNamespace(environment) ?? 'default';
  const identity = options.identity ?? defaultIdentity(environment);
  return Object.freeze({
    leaseName: options.leaseName,
    namespace,
    leaseDuration: options.leaseDuration ?? KUBERNETES_LEASE_DEFAULTS.leaseDuration,
    renewDeadline: options.renewDeadline ?? KUBERNETES_LEASE_DEFAULTS.renewDeadline,
    retryPeriod: options.retryPeriod ?? KUBERNETES_LEASE_DEFAULTS.retryPeriod,
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
  if (namespace !== undefined && !isDnsLabel(namespace)) {
    throw new TenancyConfigurationError(
      invalidOption(`coordination.namespace (from ${SERVICE_ACCOUNT_NAMESPACE_FILE})`, JSON.stringify(namespace), LEASE_RULES.namespace),
    );
  }
  return namespace;
}

function isDnsLabel(namespace: unknown): boolean {
  return typeof namespace === 'string' && namespace.length <= 63 && DNS_LABEL.test(namespace);
}
