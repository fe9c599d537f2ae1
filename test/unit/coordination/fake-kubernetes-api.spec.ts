import { CoordinationV1Api, type V1Lease } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeKubernetesApi, kubeConfigFor } from '../../support/fake-kubernetes-api.js';

// The fake is only useful if it answers the way the API server does; these drive it
// with the real @kubernetes/client-node client.

const NS = 'tenancy';
const leaseBody = (name: string, spec: V1Lease['spec'], resourceVersion?: string): V1Lease => ({
  apiVersion: 'coordination.k8s.io/v1',
  kind: 'Lease',
  metadata: { name, namespace: NS, ...(resourceVersion === undefined ? {} : { resourceVersion }) },
  spec,
});

/** The rejection of `promise` (fails the test when it resolves). */
async function rejection(promise: Promise<unknown>): Promise<{ code?: number; body?: unknown; message: string }> {
  const outcome = await promise.then(
    () => undefined,
    (error: unknown) => error as { code?: number; body?: unknown; message: string },
  );
  if (outcome === undefined) throw new Error('expected a rejection');
  return outcome;
}

const statusOf = (error: { body?: unknown }) => JSON.parse(String(error.body)) as Record<string, unknown>;

describe('FakeKubernetesApi', () => {
  let fake: FakeKubernetesApi;
  let api: CoordinationV1Api;

  beforeEach(async () => {
    fake = new FakeKubernetesApi();
    api = kubeConfigFor(await fake.start()).makeApiClient(CoordinationV1Api);
  });

  afterEach(async () => {
    await fake.stop();
  });

  it('answers a missing Lease with 404 and a NotFound Status', async () => {
    const error = await rejection(api.readNamespacedLease({ name: 'missing', namespace: NS }));
    expect(error.code).toBe(404);
    expect(statusOf(error)).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      reason: 'NotFound',
      code: 404,
      message: 'leases.coordination.k8s.io "missing" not found',
    });
  });

  it('creates, then refuses a second create with 409 AlreadyExists', async () => {
    const created = await api.createNamespacedLease({ namespace: NS, body: leaseBody('l', { holderIdentity: 'a' }) });
    expect(created.metadata?.resourceVersion).toBe('1');
    expect(created.spec?.holderIdentity).toBe('a');
    const error = await rejection(api.createNamespacedLease({ namespace: NS, body: leaseBody('l', { holderIdentity: 'b' }) }));
    expect(error.code).toBe(409);
    expect(statusOf(error)).toMatchObject({ reason: 'AlreadyExists', code: 409 });
    expect(fake.lease(NS, 'l')?.spec.holderIdentity).toBe('a');
  });

  it('bumps resourceVersion on every write and refuses a stale one with 409 Conflict', async () => {
    fake.setLease(NS, 'l', { holderIdentity: 'a' });
    const read = await api.readNamespacedLease({ name: 'l', namespace: NS });
    const version = read.metadata?.resourceVersion ?? '';
    const replaced = await api.replaceNamespacedLease({ name: 'l', namespace: NS, body: leaseBody('l', { holderIdentity: 'b' }, version) });
    expect(Number(replaced.metadata?.resourceVersion)).toBeGreaterThan(Number(version));

    const error = await rejection(
      api.replaceNamespacedLease({ name: 'l', namespace: NS, body: leaseBody('l', { holderIdentity: 'c' }, version) }),
    );
    expect(error.code).toBe(409);
    expect(statusOf(error)).toMatchObject({ reason: 'Conflict', code: 409, status: 'Failure' });
    expect(fake.lease(NS, 'l')?.spec.holderIdentity).toBe('b');
  });

  it('answers a replace of a missing Lease with 404', async () => {
    const error = await rejection(api.replaceNamespacedLease({ name: 'l', namespace: NS, body: leaseBody('l', {}, '3') }));
    expect(error.code).toBe(404);
  });

  it('refuses times without six fraction digits, as the API server does (a plain Date is not enough)', async () => {
    const error = await rejection(
      api.createNamespacedLease({ namespace: NS, body: leaseBody('l', { holderIdentity: 'a', renewTime: new Date() }) }),
    );
    expect(error.code).toBe(400);
    expect(statusOf(error).message).toMatch(/spec\.renewTime: parsing time "\d{4}-.*\.\d{3}Z"/);
  });

  it('refuses a wrong bearer token with 401', async () => {
    const stranger = kubeConfigFor(fake.url, 'wrong').makeApiClient(CoordinationV1Api);
    const error = await rejection(stranger.readNamespacedLease({ name: 'l', namespace: NS }));
    expect(error.code).toBe(401);
  });

  it('fails the next matching requests with the given status, and records every request', async () => {
    fake.setLease(NS, 'l', { holderIdentity: 'a' });
    fake.failNext(1, { status: 503, match: (request) => request.method === 'PUT' && request.holderIdentity === 'b' });
    const read = await api.readNamespacedLease({ name: 'l', namespace: NS });
    const body = leaseBody('l', { holderIdentity: 'b' }, read.metadata?.resourceVersion);
    expect((await rejection(api.replaceNamespacedLease({ name: 'l', namespace: NS, body }))).code).toBe(503);
    await api.replaceNamespacedLease({ name: 'l', namespace: NS, body });
    expect(fake.requests.map(({ method, holderIdentity, status }) => ({ method, holderIdentity, status }))).toEqual([
      { method: 'GET', status: 200 },
      { method: 'PUT', holderIdentity: 'b', status: 503 },
      { method: 'PUT', holderIdentity: 'b', status: 200 },
    ]);
    expect(fake.requests[0]?.path).toBe(`/apis/coordination.k8s.io/v1/namespaces/${NS}/leases/l`);
    expect(fake.injectedFailures).toBe(1);
  });

  it('fails at a seeded random rate with 500 InternalError', async () => {
    fake.setLease(NS, 'l', {});
    const draws = [0.1, 0.9, 0.19, 0.2];
    fake.failRandomly(0.2, () => draws.shift() ?? 1);
    const codes: number[] = [];
    for (let i = 0; i < 4; i += 1) {
      codes.push(
        await api.readNamespacedLease({ name: 'l', namespace: NS }).then(
          () => 200,
          (error: { code: number }) => error.code,
        ),
      );
    }
    expect(codes).toEqual([500, 200, 500, 200]);
  });

  it('never answers a stalled request, and stop() closes it', async () => {
    fake.stallNext(1);
    const stalled = rejection(api.readNamespacedLease({ name: 'l', namespace: NS }));
    await expect.poll(() => fake.requests.length, { timeout: 5_000 }).toBe(1);
    await fake.stop();
    expect((await stalled).message).toMatch(/socket hang up|ECONNRESET|closed/i);
  });
});
