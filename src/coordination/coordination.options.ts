import { checkDuration, problem, type OptionProblem } from '../common/option-problem.js';
import { describeValue } from '../tenancy.messages.js';
import { KUBERNETES_LEASE_KEYS, kubernetesLeaseProblems, timingOrderProblems } from './kubernetes-lease/kubernetes-lease.options.js';
import type { KubernetesLeaseOptions } from './tenancy-coordinator.js';

/** Timings the election uses when a custom coordinator does not set them (ms). */
export const COORDINATOR_DEFAULTS = Object.freeze({
  retryPeriod: 2_000,
  renewDeadline: 10_000,
});

const FIELD = 'coordination';
const COORDINATOR_METHODS = ['acquire', 'renew', 'release'] as const;

/**
 * Every rule the `coordination` option breaks, as problems for the option resolver:
 * the Kubernetes Lease config field by field, or a custom coordinator's shape and
 * timings. Unknown Lease keys are the resolver's to report (see {@link KUBERNETES_LEASE_KEYS}).
 */
export function coordinationProblems(value: unknown): OptionProblem[] {
  if (value === undefined) return [];
  if (value === null || typeof value !== 'object') {
    return [problem(FIELD, value, 'must be a Kubernetes Lease config or a TenancyCoordinator')];
  }
  const option = value as Record<string, unknown>;
  if ('type' in option) {
    if (option.type !== 'kubernetes-lease') {
      return [problem(`${FIELD}.type`, option.type, 'has an unknown type (supported: "kubernetes-lease")')];
    }
    return kubernetesLeaseProblems(option as unknown as KubernetesLeaseOptions, `${FIELD}.`);
  }
  return customCoordinatorProblems(option);
}

function customCoordinatorProblems(option: Record<string, unknown>): OptionProblem[] {
  const missing = COORDINATOR_METHODS.filter((m) => typeof option[m] !== 'function');
  if (missing.length > 0 || typeof option.identity !== 'string') {
    const absent = [...missing.map((m) => `${m}()`), ...(typeof option.identity === 'string' ? [] : ['identity'])];
    return [
      {
        field: FIELD,
        shown: `an object without ${absent.join(', ')}`,
        rule: 'must implement TenancyCoordinator (identity, acquire, renew, release)',
      },
    ];
  }
  const problems: OptionProblem[] = [];
  if (option.identity.trim() === '') problems.push(problem(`${FIELD}.identity`, option.identity, 'must be a non-empty string'));
  if (option.onLost !== undefined && typeof option.onLost !== 'function') {
    problems.push({ field: `${FIELD}.onLost`, shown: describeValue(option.onLost), rule: 'must be a function' });
  }
  const timings = {
    retryPeriod: option.retryPeriod ?? COORDINATOR_DEFAULTS.retryPeriod,
    renewDeadline: option.renewDeadline ?? COORDINATOR_DEFAULTS.renewDeadline,
  };
  const invalid = new Set<string>();
  for (const [name, timing] of Object.entries(timings)) {
    const found = checkDuration(`${FIELD}.${name}`, timing);
    if (found) {
      problems.push(found);
      invalid.add(name);
    }
  }
  problems.push(...timingOrderProblems(timings as { retryPeriod: number; renewDeadline: number }, invalid, `${FIELD}.`));
  return problems;
}

/** The Lease config's keys, when `value` is one: for the resolver's unknown-key check. */
export function leaseKeysOf(value: unknown): { readonly options: object; readonly known: Record<string, true> } | undefined {
  if (value === null || typeof value !== 'object' || (value as { type?: unknown }).type !== 'kubernetes-lease') return undefined;
  return { options: value, known: KUBERNETES_LEASE_KEYS };
}
