import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoordinationV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  KubernetesLeaseCoordinator,
  describeFailure,
  type KubeConfigLike,
  type KubernetesClientModule,
  type KubernetesLeaseDependencies,
  type LeaseApi,
} from '../../../../src/coordination/kubernetes-lease/kubernetes-lease.coordinator.js';
import {
  leaseAttemptTimedOut,
  leaseRequestFailed,
  missingKubernetesClient,
} from '../../../../src/coordination/kubernetes-lease/kubernetes-lease.messages.js';
import type { KubernetesLeaseOptions } from '../../../../src/coordination/tenancy-coordinator.js';
import { FakeKubernetesApi, kubeConfigFor, type FakeLeaseSpec } from '../../../support/fake-kubernetes-api.js';
import { waitFor } from '../../../support/wait-for.js';

const NS = 'tenancy';
const NAME = 'tenancy-leader';
const REF = `${NS}/${NAME}`;
const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);
const AT_T0 = '2025-01-01T12:00:00.000000Z';
// Whole seconds, so the wire duration (3 s) equals the configured one. The attempt
// timeout, min(retryPeriod, (leaseDuration - renewDeadline) / 2), is then 500 ms.
const TIMING = { leaseDuration: 3_000, renewDeadline: 2_000, retryPeriod: 500 };

/** A settable clock shared by the coordinators of one test. */
class FakeClock {
  t = T0;
  readonly now = () => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

/** The real client against the fake, with hooks that run after a call returned (another replica writing in between). */
function hookedApi(url: string, hooks: { afterRead?: () => void | Promise<void> } = {}): LeaseApi {
  const api: LeaseApi = kubeConfigFor(url).makeApiClient(CoordinationV1Api);
  return {
    readNamespacedLease: async (param) => {
      try {
        return await api.readNamespacedLease(param);
      } finally {
        await hooks.afterRead?.();
      }
    },
    createNamespacedLease: (param) => api.createNamespacedLease(param),
    replaceNamespacedLease: (param) => api.replaceNamespacedLease(param),
  };
}

describe('KubernetesLeaseCoordinator', () => {
  let fake: FakeKubernetesApi;
  let url: string;
  let clock: FakeClock;
  let dir: string | undefined;

  beforeEach(async () => {
    fake = new FakeKubernetesApi();
    url = await fake.start();
    clock = new FakeClock();
  });

  afterEach(async () => {
    await fake.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  const coordinator = (
    identity: string,
    options: Partial<KubernetesLeaseOptions> = {},
    deps: KubernetesLeaseDependencies = {},
  ): KubernetesLeaseCoordinator =>
    new KubernetesLeaseCoordinator(
      { type: 'kubernetes-lease', leaseName: NAME, namespace: NS, identity, ...TIMING, ...options },
      { kubeConfig: kubeConfigFor(url), now: clock.now, ...deps },
    );

  const stored = () => fake.lease(NS, NAME);
  const setLease = (spec: FakeLeaseSpec) => fake.setLease(NS, NAME, spec);
  const writes = () => fake.requests.filter((request) => request.method !== 'GET');

  describe('acquire', () => {
    it('creates a missing Lease with us as holder', async () => {
      expect(await coordinator('pod-a').acquire()).toBe(true);
      expect(stored()?.spec).toEqual({
        holderIdentity: 'pod-a',
        leaseDurationSeconds: 3,
        acquireTime: AT_T0,
        renewTime: AT_T0,
        leaseTransitions: 0,
      });
      expect(fake.requests.map(({ method, path, status }) => `${method} ${path} ${status}`)).toEqual([
        `GET /apis/coordination.k8s.io/v1/namespaces/${NS}/leases/${NAME} 404`,
        `POST /apis/coordination.k8s.io/v1/namespaces/${NS}/leases 201`,
      ]);
    });

    it('writes leaseDurationSeconds as whole seconds, rounded up', async () => {
      await coordinator('pod-a', { leaseDuration: 1_500, renewDeadline: 1_000, retryPeriod: 200 }).acquire();
      expect(stored()?.spec.leaseDurationSeconds).toBe(2);
    });

    it('renews when we already hold the Lease, sending the resourceVersion it read', async () => {
      const a = coordinator('pod-a');
      await a.acquire();
      const version = stored()?.metadata.resourceVersion;
      clock.advance(1_234);
      expect(await a.acquire()).toBe(true);
      expect(stored()?.spec).toMatchObject({
        holderIdentity: 'pod-a',
        acquireTime: AT_T0,
        renewTime: '2025-01-01T12:00:01.234000Z',
        leaseTransitions: 0,
      });
      expect(writes().at(-1)).toMatchObject({ method: 'PUT', resourceVersion: version, status: 200 });
    });

    it('cannot take the Lease while its holder keeps renewing', async () => {
      const a = coordinator('pod-a');
      const b = coordinator('pod-b');
      expect(await a.acquire()).toBe(true);
      for (let step = 0; step < 10; step += 1) {
        clock.advance(1_000); // 10 s in all, far past leaseDuration, but renewed every second
        expect(await a.renew()).toBe(true);
        expect(await b.acquire()).toBe(false);
      }
      expect(stored()?.spec.holderIdentity).toBe('pod-a');
    });

    it('takes over once it has seen the Lease unchanged for leaseDuration (by its own clock)', async () => {
      const a = coordinator('pod-a');
      const b = coordinator('pod-b');
      await a.acquire();
      expect(await b.acquire()).toBe(false); // first seen: counts as observed now
      clock.advance(2_999);
      expect(await b.acquire()).toBe(false);
      clock.advance(1);
      expect(await b.acquire()).toBe(true);
      expect(stored()?.spec).toMatchObject({
        holderIdentity: 'pod-b',
        acquireTime: '2025-01-01T12:00:03.000000Z',
        renewTime: '2025-01-01T12:00:03.000000Z',
        leaseTransitions: 1,
      });
    });

    it('judges expiry on a monotonic clock: a wall-clock step of a minute does not make a live Lease look expired', async () => {
      const steady = new FakeClock();
      const a = coordinator('pod-a', {}, { monotonic: steady.now });
      const b = coordinator('pod-b', {}, { monotonic: steady.now });
      await a.acquire();
      expect(await b.acquire()).toBe(false);
      clock.advance(60_000); // NTP steps the wall clock a minute ahead
      expect(await b.acquire()).toBe(false);
      steady.advance(TIMING.leaseDuration);
      expect(await b.acquire()).toBe(true);
    });

    it("restarts the wait whenever the holder renews", async () => {
      const a = coordinator('pod-a');
      const b = coordinator('pod-b');
      await a.acquire();
      expect(await b.acquire()).toBe(false);
      clock.advance(2_000);
      await a.renew();
      expect(await b.acquire()).toBe(false); // changed: observed anew at T0 + 2 s
      clock.advance(2_999);
      expect(await b.acquire()).toBe(false);
      clock.advance(1);
      expect(await b.acquire()).toBe(true);
    });

    it("ignores renewTime (another pod's clock): a stale or future renewTime neither shortens nor stretches the wait", async () => {
      const b = coordinator('pod-b');
      setLease({ holderIdentity: 'pod-x', leaseDurationSeconds: 3, renewTime: '2001-01-01T00:00:00.000000Z' });
      expect(await b.acquire()).toBe(false);
      setLease({ holderIdentity: 'pod-x', leaseDurationSeconds: 3, renewTime: '2099-01-01T00:00:00.000000Z' });
      expect(await b.acquire()).toBe(false);
      clock.advance(3_000);
      expect(await b.acquire()).toBe(true);
    });

    it("judges expiry by the Lease's own leaseDurationSeconds, else by its own leaseDuration", async () => {
      const b = coordinator('pod-b');
      setLease({ holderIdentity: 'pod-x', leaseDurationSeconds: 10 });
      expect(await b.acquire()).toBe(false);
      clock.advance(9_999);
      expect(await b.acquire()).toBe(false);
      clock.advance(1);
      expect(await b.acquire()).toBe(true);

      setLease({ holderIdentity: 'pod-y' });
      expect(await b.acquire()).toBe(false);
      clock.advance(3_000);
      expect(await b.acquire()).toBe(true);
    });

    it('takes a Lease without holder at once, counting a transition', async () => {
      setLease({ holderIdentity: '', leaseDurationSeconds: 1, leaseTransitions: 4 });
      expect(await coordinator('pod-b').acquire()).toBe(true);
      expect(stored()?.spec).toMatchObject({ holderIdentity: 'pod-b', leaseTransitions: 5, leaseDurationSeconds: 3 });
    });

    it('keeps spec fields it does not manage (preferredHolder) through take-over and renewal', async () => {
      setLease({ holderIdentity: '', preferredHolder: 'pod-c' });
      const b = coordinator('pod-b');
      await b.acquire();
      await b.renew();
      expect(stored()?.spec.preferredHolder).toBe('pod-c');
    });

    it('returns false when another replica creates the Lease between our read and our create (409 AlreadyExists)', async () => {
      const b = coordinator('pod-b', {}, {
        api: hookedApi(url, { afterRead: () => void setLease({ holderIdentity: 'pod-a', leaseDurationSeconds: 3 }) }),
      });
      expect(await b.acquire()).toBe(false);
      expect(writes().map((request) => `${request.method} ${request.status}`)).toEqual(['POST 409']);
      expect(stored()?.spec.holderIdentity).toBe('pod-a');
    });

    it('returns false when another replica takes the expired Lease between our read and our write (409 Conflict)', async () => {
      setLease({ holderIdentity: '' });
      const b = coordinator('pod-b', {}, {
        api: hookedApi(url, { afterRead: () => void setLease({ holderIdentity: 'pod-a', leaseDurationSeconds: 3 }) }),
      });
      expect(await b.acquire()).toBe(false);
      expect(writes().map((request) => `${request.method} ${request.status}`)).toEqual(['PUT 409']);
      expect(stored()?.spec.holderIdentity).toBe('pod-a');
    });

    it('lets exactly one of two racing replicas take an expired Lease (20 rounds)', async () => {
      const a = coordinator('pod-a');
      const b = coordinator('pod-b');
      let conflicts = 0;
      for (let round = 0; round < 20; round += 1) {
        // Even rounds: a released Lease (no holder); odd rounds: a holder that stopped renewing.
        setLease({ holderIdentity: round % 2 === 0 ? '' : `gone-${round}`, leaseDurationSeconds: 3 });
        if (round % 2 === 1) {
          expect([await a.acquire(), await b.acquire()]).toEqual([false, false]);
          clock.advance(3_000);
        }
        const before = fake.requests.length;
        const [wonA, wonB] = await Promise.all([a.acquire(), b.acquire()]);
        expect(Number(wonA) + Number(wonB), `round ${round}`).toBe(1);
        expect(stored()?.spec.holderIdentity).toBe(wonA ? 'pod-a' : 'pod-b');
        const requests = fake.requests.slice(before);
        // One write got through; a loser that wrote at all was refused by resourceVersion.
        expect(requests.filter((request) => request.method === 'PUT' && request.status === 200), `round ${round}`).toHaveLength(1);
        conflicts += requests.filter((request) => request.status === 409).length;
        clock.advance(100);
      }
      // Both replicas read before either writes in practically every round; the race is real.
      expect(conflicts).toBeGreaterThan(0);
    });
  });

  describe('renew', () => {
    it('extends our Lease: a new renewTime, nothing else', async () => {
      const a = coordinator('pod-a');
      await a.acquire();
      clock.advance(500);
      expect(await a.renew()).toBe(true);
      expect(stored()?.spec).toEqual({
        holderIdentity: 'pod-a',
        leaseDurationSeconds: 3,
        acquireTime: AT_T0,
        renewTime: '2025-01-01T12:00:00.500000Z',
        leaseTransitions: 0,
      });
    });

    it('returns false, writing nothing, when another replica holds the Lease', async () => {
      const a = coordinator('pod-a');
      await a.acquire();
      setLease({ holderIdentity: 'pod-b', leaseDurationSeconds: 3 });
      const before = writes().length;
      expect(await a.renew()).toBe(false);
      expect(writes()).toHaveLength(before);
      expect(stored()?.spec.holderIdentity).toBe('pod-b');
    });

    it('returns false when the Lease is gone', async () => {
      expect(await coordinator('pod-a').renew()).toBe(false);
      expect(writes()).toEqual([]);
    });

    it('returns false when the Lease changed between read and write (409 Conflict)', async () => {
      let interfere = false;
      const a = coordinator('pod-a', {}, {
        api: hookedApi(url, {
          afterRead: () => {
            if (interfere) setLease({ holderIdentity: 'pod-b', leaseDurationSeconds: 3 });
          },
        }),
      });
      await a.acquire();
      interfere = true;
      expect(await a.renew()).toBe(false);
      expect(writes().at(-1)).toMatchObject({ method: 'PUT', holderIdentity: 'pod-a', status: 409 });
    });

    it('throws on a 500 from the read or the write, naming the call, the Lease and the status', async () => {
      const a = coordinator('pod-a');
      await a.acquire();
      fake.failNext(1, { match: (request) => request.method === 'GET' });
      await expect(a.renew()).rejects.toThrow(leaseRequestFailed('read', REF, 'HTTP 500 InternalError: injected failure'));
      fake.failNext(1, { status: 503, match: (request) => request.method === 'PUT' });
      await expect(a.renew()).rejects.toThrow(
        leaseRequestFailed('replace', REF, 'HTTP 503 ServiceUnavailable: injected failure'),
      );
      expect(await a.renew()).toBe(true);
    });

    it('keeps the API error as cause', async () => {
      const a = coordinator('pod-a');
      fake.failNext(1);
      const error = await a.renew().then(
        () => undefined,
        (caught: unknown) => caught as Error,
      );
      expect((error?.cause as { code?: number } | undefined)?.code).toBe(500);
    });

    it('throws on a transport error', async () => {
      const a = coordinator('pod-a');
      await a.acquire();
      await fake.stop();
      await expect(a.renew()).rejects.toThrow(/^coordination "kubernetes-lease": read of Lease tenancy\/tenancy-leader failed: .*ECONNREFUSED/);
    });

    it('gives up an attempt after attemptTimeout, and sends no write for it afterwards', async () => {
      let releaseRead: () => void = () => undefined;
      const held = new Promise<void>((resolve) => {
        releaseRead = resolve;
      });
      let hold = false;
      const replace = vi.fn();
      const api = hookedApi(url, { afterRead: () => (hold ? held : undefined) });
      const a = coordinator('pod-a', { leaseDuration: 1_000, renewDeadline: 900, retryPeriod: 100 }, {
        api: { ...api, replaceNamespacedLease: (param) => (replace(), api.replaceNamespacedLease(param)) },
      });
      expect(a.attemptTimeout).toBe(50);
      await a.acquire();
      hold = true;
      await expect(a.renew()).rejects.toThrow(leaseAttemptTimedOut('renew', REF, 50));
      releaseRead();
      await new Promise((resolve) => setImmediate(resolve)); // let the abandoned attempt run on
      expect(replace).not.toHaveBeenCalled();
    });

    it('times out on a request the server never answers', async () => {
      const a = coordinator('pod-a', { leaseDuration: 1_000, renewDeadline: 900, retryPeriod: 100 });
      await a.acquire();
      fake.stallNext(1);
      await expect(a.renew()).rejects.toThrow(leaseAttemptTimedOut('renew', REF, 50));
    });
  });

  describe('acquire errors', () => {
    it('throws on a 500 from read, create or replace (only 409 means "someone else won")', async () => {
      const a = coordinator('pod-a');
      fake.failNext(1, { match: (request) => request.method === 'GET' });
      await expect(a.acquire()).rejects.toThrow(leaseRequestFailed('read', REF, 'HTTP 500 InternalError: injected failure'));
      fake.failNext(1, { match: (request) => request.method === 'POST' });
      await expect(a.acquire()).rejects.toThrow(leaseRequestFailed('create', REF, 'HTTP 500 InternalError: injected failure'));
      setLease({ holderIdentity: '' });
      fake.failNext(1, { match: (request) => request.method === 'PUT' });
      await expect(a.acquire()).rejects.toThrow(leaseRequestFailed('replace', REF, 'HTTP 500 InternalError: injected failure'));
      expect(await a.acquire()).toBe(true);
    });
  });

  describe('release', () => {
    it('clears the holder so another replica acquires at once', async () => {
      const a = coordinator('pod-a');
      const b = coordinator('pod-b');
      await a.acquire();
      expect(await b.acquire()).toBe(false);
      clock.advance(10);
      await a.release();
      expect(stored()?.spec).toEqual({
        holderIdentity: '',
        leaseDurationSeconds: 1,
        acquireTime: '2025-01-01T12:00:00.010000Z',
        renewTime: '2025-01-01T12:00:00.010000Z',
        leaseTransitions: 0,
      });
      expect(await b.acquire()).toBe(true); // no clock advance
      expect(stored()?.spec).toMatchObject({ holderIdentity: 'pod-b', leaseTransitions: 1 });
      expect(await a.renew()).toBe(false);
    });

    it('returns quietly, writing nothing, when the Lease is missing or held by another', async () => {
      const a = coordinator('pod-a');
      await expect(a.release()).resolves.toBeUndefined();
      setLease({ holderIdentity: 'pod-b' });
      await expect(a.release()).resolves.toBeUndefined();
      expect(writes()).toEqual([]);
      expect(stored()?.spec.holderIdentity).toBe('pod-b');
    });

    it('returns quietly when the Lease changed between read and write', async () => {
      let interfere = false;
      const a = coordinator('pod-a', {}, {
        api: hookedApi(url, {
          afterRead: () => {
            if (interfere) setLease({ holderIdentity: 'pod-b' });
          },
        }),
      });
      await a.acquire();
      interfere = true;
      await expect(a.release()).resolves.toBeUndefined();
      expect(stored()?.spec.holderIdentity).toBe('pod-b');
    });

    it('throws on transport and server errors', async () => {
      const a = coordinator('pod-a');
      await a.acquire();
      fake.failNext(1);
      await expect(a.release()).rejects.toThrow(leaseRequestFailed('read', REF, 'HTTP 500 InternalError: injected failure'));
    });
  });

  it('counts leaseTransitions once per change of holder, not per renewal', async () => {
    const a = coordinator('pod-a');
    const b = coordinator('pod-b');
    await a.acquire();
    await a.renew();
    await a.release();
    await b.acquire();
    await b.renew();
    await b.release();
    await a.acquire();
    await a.acquire();
    expect(stored()?.spec.leaseTransitions).toBe(2);
  });

  it('sends times as RFC3339 with microseconds (the fake refuses anything else, as the API server does)', async () => {
    const a = coordinator('pod-a', {}, { now: () => Date.UTC(2025, 5, 6, 7, 8, 9, 123) });
    await a.acquire();
    await a.renew();
    expect(stored()?.spec.renewTime).toBe('2025-06-06T07:08:09.123000Z');
    expect(fake.requests.every((request) => request.status < 400 || request.status === 404)).toBe(true);
  });

  it('with the real clock: another replica takes over no sooner than leaseDuration after it first saw the Lease', async () => {
    const timing = { leaseDuration: 1_000, renewDeadline: 600, retryPeriod: 200 };
    const a = coordinator('pod-a', timing, { now: Date.now });
    const b = coordinator('pod-b', timing, { now: Date.now });
    expect(await a.acquire()).toBe(true);
    const firstSeen = Date.now();
    expect(await b.acquire()).toBe(false);
    await waitFor(() => b.acquire(), { timeout: 5_000, interval: 50, message: 'pod-b never took over' });
    expect(Date.now() - firstSeen).toBeGreaterThanOrEqual(1_000);
    expect(stored()?.spec.holderIdentity).toBe('pod-b');
  });

  describe('loading @kubernetes/client-node', () => {
    it('imports the client at the first attempt, once', async () => {
      const importClient = vi.fn(() => import('@kubernetes/client-node'));
      const a = coordinator('pod-a', {}, { importClient });
      expect(importClient).not.toHaveBeenCalled();
      await a.acquire();
      await a.renew();
      expect(importClient).toHaveBeenCalledTimes(1);
    });

    it('loads the kubeconfig file named by the option', async () => {
      dir = mkdtempSync(join(tmpdir(), 'kubeconfig-'));
      const file = join(dir, 'config');
      writeFileSync(
        file,
        [
          'apiVersion: v1',
          'kind: Config',
          'clusters: [{ name: fake, cluster: { server: "' + url + '", insecure-skip-tls-verify: true } }]',
          'users: [{ name: fake, user: { token: ' + fake.token + ' } }]',
          'contexts: [{ name: fake, context: { cluster: fake, user: fake } }]',
          'current-context: fake',
          '',
        ].join('\n'),
      );
      const a = new KubernetesLeaseCoordinator({ type: 'kubernetes-lease', leaseName: NAME, namespace: NS, identity: 'pod-a', kubeconfig: file });
      expect(await a.acquire()).toBe(true);
      expect(stored()?.spec.holderIdentity).toBe('pod-a');
    });

    it('uses the in-cluster config without a kubeconfig option', async () => {
      const calls: string[] = [];
      const realApi = kubeConfigFor(url).makeApiClient(CoordinationV1Api);
      class MarkerApi {}
      const module: KubernetesClientModule = {
        KubeConfig: class {
          loadFromCluster() {
            calls.push('loadFromCluster');
          }
          loadFromFile(path: string) {
            calls.push(`loadFromFile ${path}`);
          }
          makeApiClient(type: never) {
            calls.push(type === (MarkerApi as never) ? 'makeApiClient(CoordinationV1Api)' : 'makeApiClient(?)');
            return realApi;
          }
        },
        CoordinationV1Api: MarkerApi,
      };
      const a = new KubernetesLeaseCoordinator(
        { type: 'kubernetes-lease', leaseName: NAME, namespace: NS, identity: 'pod-a' },
        { importClient: async () => module },
      );
      expect(await a.acquire()).toBe(true);
      expect(calls).toEqual(['loadFromCluster', 'makeApiClient(CoordinationV1Api)']);
    });

    it('says the optional peer is missing when it cannot be found, and tries again next time', async () => {
      const notFound = Object.assign(
        new Error("Cannot find package '@kubernetes/client-node' imported from /app/dist/coordination/kubernetes-lease.coordinator.js"),
        { code: 'ERR_MODULE_NOT_FOUND' },
      );
      const importClient = vi.fn(() => Promise.reject(notFound));
      const a = coordinator('pod-a', {}, { importClient });
      const error = await a.acquire().then(
        () => undefined,
        (caught: unknown) => caught as Error,
      );
      expect(error?.message).toBe('coordination "kubernetes-lease" needs the optional peer "@kubernetes/client-node"');
      expect(error?.message).toBe(missingKubernetesClient());
      expect(error?.cause).toBe(notFound);
      await expect(a.renew()).rejects.toThrow(missingKubernetesClient());
      expect(importClient).toHaveBeenCalledTimes(2);
    });

    it('adds the reason when the peer is there but fails to load', async () => {
      const a = coordinator('pod-a', {}, { importClient: () => Promise.reject(new SyntaxError('Unexpected token')) });
      await expect(a.acquire()).rejects.toThrow(missingKubernetesClient('Unexpected token'));
    });

    it('accepts the real KubeConfig, module and CoordinationV1Api where it takes their structural types', async () => {
      // Compile-time check as much as a runtime one: the structural types match client-node 1.x.
      const kubeConfig: KubeConfigLike = new KubeConfig();
      const module: KubernetesClientModule = await import('@kubernetes/client-node');
      const api: LeaseApi = kubeConfigFor(url).makeApiClient(CoordinationV1Api);
      expect(typeof kubeConfig.makeApiClient).toBe('function');
      expect(module.CoordinationV1Api).toBe(CoordinationV1Api);
      expect(await coordinator('pod-a', {}, { api }).acquire()).toBe(true);
    });
  });
});

describe('describeFailure', () => {
  it('renders API errors on one line with status, reason and message', () => {
    const body = JSON.stringify({ kind: 'Status', reason: 'Conflict', message: 'the object has been modified', code: 409 });
    expect(describeFailure({ code: 409, body })).toBe('HTTP 409 Conflict: the object has been modified');
    expect(describeFailure({ code: 401, body: undefined })).toBe('HTTP 401');
    expect(describeFailure({ code: 502, body: '<html>bad gateway</html>' })).toBe('HTTP 502');
    expect(describeFailure(new Error('connect ECONNREFUSED 127.0.0.1:1'))).toBe('connect ECONNREFUSED 127.0.0.1:1');
    expect(describeFailure('weird')).toBe('weird');
  });

  it('describes a hostile thrown value without throwing itself', () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    const bareObject = Object.create(null) as object;
    expect(typeof describeFailure(proxy)).toBe('string');
    expect(describeFailure(bareObject)).toBe('{}');
    const badMessage = new Error('x');
    Object.defineProperty(badMessage, 'message', { get: () => { throw new Error('no'); } });
    expect(describeFailure(badMessage)).toContain('cannot be read');
  });
});
