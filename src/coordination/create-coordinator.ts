import { KubernetesLeaseCoordinator } from './kubernetes-lease/kubernetes-lease.coordinator.js';
import type { TenancyCoordinationOptions, TenancyCoordinator } from './tenancy-coordinator.js';

/** The coordinator an option names: the built-in Kubernetes Lease, or the user's own. */
export function createCoordinator(option: TenancyCoordinationOptions): TenancyCoordinator {
  if ('type' in option && option.type === 'kubernetes-lease') return new KubernetesLeaseCoordinator(option);
  return option as TenancyCoordinator;
}
