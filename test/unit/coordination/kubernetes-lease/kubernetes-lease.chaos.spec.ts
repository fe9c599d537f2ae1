import { CoordinationV1Api } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KubernetesLeaseCoordinator } from '../../../../src/coordination/kubernetes-lease/kubernetes-lease.coordinator.js';
import { FakeKubernetesApi, kubeConfigFor } from '../../../support/fake-kubernetes-api.js';
import { StepScheduler, seededRandom } from '../step-scheduler.js';

const NS = 'tenancy';
const NAME = 'tenancy-leader';
const TIMING = { leaseDuration: 3_000, renewDeadline: 2_000, retryPeriod: 500 };
const ROUNDS = 600;

interface Replica {
  readonly id: string;
  readonly coordinator: KubernetesLeaseCoordinator;
  /** Simulated time of the last successful acquire/renew; undefined after a release. */
  lastSuccess?: number;
  /** Skips rounds before this one (a GC pause, a partition). */
  pausedUntil: number;
}

/**
 * Three replicas, 20% of API calls failing, pauses, releases, and every interleaving
 * of their calls that a seeded scheduler picks. A replica "believes it leads" while
 * its last successful acquire/renew is less than renewDeadline old (what the
 * leadership loop does); at no simulated instant may two believe it, and a believer
 * must be the Lease's holder on the server.
 */
describe('KubernetesLeaseCoordinator under chaos', () => {
  let fake: FakeKubernetesApi;

  beforeEach(async () => {
    fake = new FakeKubernetesApi();
    await fake.start();
  });

  afterEach(async () => {
    await fake.stop();
  });

  it.each([1, 2, 3])('never lets two replicas lead at once (seed %i)', async (seed) => {
    const random = seededRandom(seed);
    fake.failRandomly(0.2, seededRandom(seed * 7_919));
    const scheduler = new StepScheduler(seededRandom(seed * 104_729));
    const api = kubeConfigFor(fake.url).makeApiClient(CoordinationV1Api);
    let now = Date.UTC(2025, 0, 1);
    const replicas: Replica[] = ['r0', 'r1', 'r2'].map((id) => ({
      id,
      coordinator: new KubernetesLeaseCoordinator(
        { type: 'kubernetes-lease', leaseName: NAME, namespace: NS, identity: id, ...TIMING },
        { api: scheduler.gate(id, api), now: () => now },
      ),
      pausedUntil: 0,
    }));
    const believes = (replica: Replica) =>
      replica.lastSuccess !== undefined && now - replica.lastSuccess < TIMING.renewDeadline;

    let leaderRounds = 0;
    let handovers = 0;
    let previousLeader: string | undefined;
    for (let round = 0; round < ROUNDS; round += 1) {
      now += Math.floor(random() * 700); // around retryPeriod, sometimes two steps at once
      const operations = new Map<string, () => Promise<boolean>>();
      for (const replica of replicas) {
        if (round < replica.pausedUntil) continue;
        if (random() < 0.04) {
          replica.pausedUntil = round + 1 + Math.floor(random() * 12);
          continue;
        }
        if (believes(replica) && random() < 0.03) {
          // Graceful stop: the replica stops leading before it gives the Lease up.
          replica.lastSuccess = undefined;
          operations.set(replica.id, () => replica.coordinator.release().then(() => false));
          continue;
        }
        operations.set(replica.id, () => (believes(replica) ? replica.coordinator.renew() : replica.coordinator.acquire()));
      }

      const results = await scheduler.run(operations);
      for (const replica of replicas) {
        const result = results.get(replica.id);
        if (result?.status === 'fulfilled' && result.value) replica.lastSuccess = now;
      }

      const leaders = replicas.filter(believes).map((replica) => replica.id);
      expect(leaders.length, `round ${round} at +${now - Date.UTC(2025, 0, 1)} ms: ${leaders.join(', ')} all lead`).toBeLessThanOrEqual(1);
      if (leaders[0] !== undefined) {
        expect(fake.lease(NS, NAME)?.spec.holderIdentity, `round ${round}: the leader holds the Lease`).toBe(leaders[0]);
        leaderRounds += 1;
        if (previousLeader !== undefined && previousLeader !== leaders[0]) handovers += 1;
        previousLeader = leaders[0];
      }
    }

    // The run must have been eventful, or the assertions above prove nothing.
    expect(fake.injectedFailures).toBeGreaterThan(ROUNDS / 5);
    expect(fake.requests.filter((request) => request.status === 409).length).toBeGreaterThan(0);
    expect(handovers).toBeGreaterThanOrEqual(5);
    expect(leaderRounds).toBeGreaterThan(ROUNDS / 2);
  });
});
