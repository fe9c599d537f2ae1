import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TenancyConfigurationError } from '../../../../src/tenancy.errors.js';
import { invalidOption } from '../../../../src/tenancy.messages.js';
import {
  KUBERNETES_LEASE_DEFAULTS,
  defaultIdentity,
  type KubernetesLeaseEnvironment,
  readPodNamespace,
  resolveKubernetesLeaseOptions,
} from '../../../../src/coordination/kubernetes-lease/kubernetes-lease.options.js';
import { KubernetesLeaseCoordinator } from '../../../../src/coordination/kubernetes-lease/kubernetes-lease.coordinator.js';

const base = { type: 'kubernetes-lease', leaseName: 'tenancy-leader' } as const;
const outsidePod = { podNamespace: () => undefined, hostname: 'pod-a', random: () => 0 };

/** The text of one invalid Lease option, as the option resolver words it. */
const invalidLeaseOption = (field: string, value: unknown, rule: string) =>
  invalidOption(`coordination.${field}`, typeof value === 'string' ? JSON.stringify(value) : String(value), rule);
const leaseTimingOrder = (shorter: string, shorterMs: number, longer: string, longerMs: number) =>
  invalidOption(`coordination.${shorter}`, `${shorterMs} ≥ ${longerMs}`, `must be below ${longer}`);

/** What resolveKubernetesLeaseOptions threw; fails the test when it did not throw a TenancyConfigurationError. */
function leaseError(options: unknown, environment: KubernetesLeaseEnvironment = outsidePod): TenancyConfigurationError {
  let thrown: unknown;
  try {
    resolveKubernetesLeaseOptions(options as never, environment);
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(TenancyConfigurationError);
  return thrown as TenancyConfigurationError;
}

describe('resolveKubernetesLeaseOptions', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('applies the client-go defaults', () => {
    expect(resolveKubernetesLeaseOptions(base, outsidePod)).toEqual({
      leaseName: 'tenancy-leader',
      namespace: 'default',
      leaseDuration: 15_000,
      renewDeadline: 10_000,
      retryPeriod: 2_000,
      identity: 'pod-a-000000',
    });
    expect(KUBERNETES_LEASE_DEFAULTS).toEqual({ leaseDuration: 15_000, renewDeadline: 10_000, retryPeriod: 2_000 });
  });

  it('gives an explicit undefined the default, and freezes the result', () => {
    const resolved = resolveKubernetesLeaseOptions(
      { ...base, leaseDuration: undefined, renewDeadline: undefined, namespace: undefined },
      outsidePod,
    );
    expect(resolved).toMatchObject({ leaseDuration: 15_000, renewDeadline: 10_000, namespace: 'default' });
    expect(Object.isFrozen(resolved)).toBe(true);
  });

  it('keeps explicit values', () => {
    expect(
      resolveKubernetesLeaseOptions(
        { ...base, namespace: 'ops', leaseDuration: 30_000, renewDeadline: 20_000, retryPeriod: 5_000, kubeconfig: '/k', identity: 'me' },
        outsidePod,
      ),
    ).toEqual({
      leaseName: 'tenancy-leader',
      namespace: 'ops',
      leaseDuration: 30_000,
      renewDeadline: 20_000,
      retryPeriod: 5_000,
      kubeconfig: '/k',
      identity: 'me',
    });
  });

  it("takes the pod's namespace from the service-account file when there is one", () => {
    expect(resolveKubernetesLeaseOptions(base, { ...outsidePod, podNamespace: () => 'tenants' }).namespace).toBe('tenants');
    dir = mkdtempSync(join(tmpdir(), 'lease-ns-'));
    const file = join(dir, 'namespace');
    writeFileSync(file, 'from-file\n');
    expect(readPodNamespace(file)).toBe('from-file');
    expect(readPodNamespace(join(dir, 'missing'))).toBeUndefined();
    writeFileSync(file, '  \n');
    expect(readPodNamespace(file)).toBeUndefined();
  });

  it('refuses renewDeadline >= leaseDuration, naming both fields and values', () => {
    expect(leaseError({ ...base, leaseDuration: 10_000 }).message).toBe(
      leaseTimingOrder('renewDeadline', 10_000, 'leaseDuration', 10_000),
    );
    expect(leaseError({ ...base, leaseDuration: 300, renewDeadline: 400, retryPeriod: 50 }).message).toBe(
      'TenancyModule option "coordination.renewDeadline" must be below leaseDuration (got 400 ≥ 300)',
    );
  });

  it('refuses retryPeriod >= renewDeadline, naming both fields and values', () => {
    expect(leaseError({ ...base, retryPeriod: 10_000 }).message).toBe(
      leaseTimingOrder('retryPeriod', 10_000, 'renewDeadline', 10_000),
    );
  });

  it('names every bad field at once, not only the first', () => {
    const error = leaseError({ ...base, leaseName: 'Bad_Name', namespace: 'a.b', retryPeriod: 0, renewDeadline: 20_000, identity: '' });
    expect(error.message).toBe(
      [
        invalidLeaseOption('leaseName', 'Bad_Name', 'must be a DNS subdomain name (lowercase, at most 253 characters)'),
        invalidLeaseOption('namespace', 'a.b', 'must be a DNS label (lowercase, at most 63 characters)'),
        invalidLeaseOption('retryPeriod', 0, 'must be a positive number of milliseconds'),
        leaseTimingOrder('renewDeadline', 20_000, 'leaseDuration', 15_000),
        invalidLeaseOption('identity', '', 'must be a non-empty string'),
      ].join('; '),
    );
  });

  it.each([
    ['leaseDuration', 0],
    ['leaseDuration', -1],
    ['renewDeadline', Number.NaN],
    ['retryPeriod', Number.POSITIVE_INFINITY],
    ['retryPeriod', '2000'],
  ])('refuses %s = %s', (field, value) => {
    expect(leaseError({ ...base, [field]: value }).message).toBe(
      invalidLeaseOption(field, value, 'must be a positive number of milliseconds'),
    );
  });

  it('refuses a timing a Node timer cannot wait', () => {
    expect(leaseError({ ...base, leaseDuration: 2_147_483_648 }).message).toBe(
      invalidLeaseOption('leaseDuration', 2_147_483_648, 'must be at most 2147483647'),
    );
  });

  it.each(['', 'Tenancy', 'a_b', '-a', 'x'.repeat(254)])('refuses leaseName %j', (leaseName) => {
    expect(leaseError({ ...base, leaseName }).message).toBe(
      invalidLeaseOption('leaseName', leaseName, 'must be a DNS subdomain name (lowercase, at most 253 characters)'),
    );
  });

  it('refuses a namespace that is not a DNS label, from options or from the pod', () => {
    expect(leaseError({ ...base, namespace: 'a.b' }).message).toBe(
      invalidLeaseOption('namespace', 'a.b', 'must be a DNS label (lowercase, at most 63 characters)'),
    );
    expect(leaseError(base, { ...outsidePod, podNamespace: () => 'Bad' }).message).toBe(
      'TenancyModule option "coordination.namespace (from /var/run/secrets/kubernetes.io/serviceaccount/namespace)" ' +
        'must be a DNS label (lowercase, at most 63 characters) (got "Bad")',
    );
  });

  it('refuses an empty identity or kubeconfig', () => {
    expect(leaseError({ ...base, identity: ' ' }).message).toBe(invalidLeaseOption('identity', ' ', 'must be a non-empty string'));
    expect(leaseError({ ...base, kubeconfig: '' }).message).toBe(
      invalidLeaseOption('kubeconfig', '', 'must be a non-empty file path'),
    );
  });

  it('the coordinator validates in its constructor, with a TenancyConfigurationError', () => {
    let thrown: unknown;
    try {
      new KubernetesLeaseCoordinator({ ...base, namespace: 'ns', renewDeadline: 20_000 });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TenancyConfigurationError);
    expect((thrown as Error).message).toBe(leaseTimingOrder('renewDeadline', 20_000, 'leaseDuration', 15_000));
  });
});

describe('defaultIdentity', () => {
  it('is HOSTNAME plus six random hex digits', () => {
    expect(defaultIdentity({ hostname: 'pod-a', random: () => 0.5 })).toBe('pod-a-800000');
    expect(defaultIdentity({ hostname: 'pod-a', random: () => 0.999_999_99 })).toBe('pod-a-ffffff');
    expect(defaultIdentity({ hostname: 'pod-a', random: () => 0 })).toBe('pod-a-000000');
  });

  it("falls back to 'tenancy' without a HOSTNAME", () => {
    expect(defaultIdentity({ hostname: undefined, random: () => 0.25 })).toBe('tenancy-400000');
    expect(defaultIdentity({ hostname: '', random: () => 0.25 })).toBe('tenancy-400000');
  });

  it('differs between two coordinators in one process', () => {
    const a = new KubernetesLeaseCoordinator({ ...base, namespace: 'ns' });
    const b = new KubernetesLeaseCoordinator({ ...base, namespace: 'ns' });
    expect(a.identity).toMatch(/-[0-9a-f]{6}$/);
    expect(a.identity).not.toBe(b.identity);
  });
});
