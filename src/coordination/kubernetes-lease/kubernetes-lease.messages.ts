/** Builders of the Kubernetes Lease coordinator's error texts, so tests can assert the exact wording. */

const PREFIX = 'coordination "kubernetes-lease"';

/** The optional peer `@kubernetes/client-node` could not be imported. */
export const missingKubernetesClient = (detail?: string): string =>
  `${PREFIX} needs the optional peer "@kubernetes/client-node"${detail ? ` (loading it failed: ${detail})` : ''}`;

/** Rule texts of the Lease options; the option resolver adds the field and the value. */
export const LEASE_RULES = Object.freeze({
  leaseName: 'must be a DNS subdomain name (lowercase, at most 253 characters)',
  namespace: 'must be a DNS label (lowercase, at most 63 characters)',
  kubeconfig: 'must be a non-empty file path',
  identity: 'must be a non-empty string',
});

/** A timing option that must be shorter than another one. */
export const mustBeBelow = (longer: string): string => `must be below ${longer}`;

/** The value shown for two timings in the wrong order, e.g. `20000 ≥ 15000`. */
export const timingOrderShown = (shorterMs: number, longerMs: number): string => `${shorterMs} ≥ ${longerMs}`;

/** A Lease API call failed. */
export const leaseRequestFailed = (operation: string, lease: string, detail: string): string =>
  `${PREFIX}: ${operation} of Lease ${lease} failed: ${detail}`;

/** A Lease attempt did not finish in time. */
export const leaseAttemptTimedOut = (operation: string, lease: string, timeoutMs: number): string =>
  `${PREFIX}: ${operation} of Lease ${lease} timed out after ${timeoutMs} ms`;
