/** Builders of the Kubernetes Lease coordinator's error texts, so tests can assert the exact wording. */

const PREFIX = 'coordination "kubernetes-lease"';

/** The optional peer `@kubernetes/client-node` could not be imported. */
export const missingKubernetesClient = (detail?: string): string =>
  `${PREFIX} needs the optional peer "@kubernetes/client-node"${detail ? ` (loading it failed: ${detail})` : ''}`;

/** An option has a value outside its rule. */
export const invalidLeaseOption = (field: string, value: unknown, rule: string): string =>
  `${PREFIX}: option "${field}" ${rule} (got ${shown(value)})`;

/** Two timing options are in the wrong order. */
export const leaseTimingOrder = (shorter: string, shorterMs: number, longer: string, longerMs: number): string =>
  `${PREFIX}: option "${shorter}" (${shorterMs} ms) must be less than "${longer}" (${longerMs} ms)`;

/** A Lease API call failed. */
export const leaseRequestFailed = (operation: string, lease: string, detail: string): string =>
  `${PREFIX}: ${operation} of Lease ${lease} failed: ${detail}`;

/** A Lease attempt did not finish in time. */
export const leaseAttemptTimedOut = (operation: string, lease: string, timeoutMs: number): string =>
  `${PREFIX}: ${operation} of Lease ${lease} timed out after ${timeoutMs} ms`;

function shown(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}
