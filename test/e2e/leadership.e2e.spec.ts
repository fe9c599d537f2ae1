import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Injectable } from '@nestjs/common';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OnTenancyEvent, type TenancyEvent, type TenancyEventContext, TenancyPoller } from 'nestjs-tenancy';
import { FakeTenantManager } from 'nestjs-tenancy/testing';
import { FakeKubernetesApi } from '../support/fake-kubernetes-api.js';
import { CapturingLogger, TestApps } from '../support/tenancy-test-app.js';
import { waitFor } from '../support/wait-for.js';

const CONTROLLER = 'ha-controller';
const LEASE = { type: 'kubernetes-lease', leaseName: 'ha-controller-leader', namespace: 'tenancy' } as const;
// Whole seconds on the wire; renewDeadline < leaseDuration so an old leader always
// stops before a standby may take over.
const TIMINGS = { leaseDuration: 2_000, renewDeadline: 1_500, retryPeriod: 300 };

/** Each replica records what it handled, tagged with its name. */
function recorderFor(replica: string, log: Array<{ replica: string; name: string; replay: boolean }>) {
  @Injectable()
  class Recorder {
    @OnTenancyEvent('*', '*')
    handle(event: TenancyEvent, ctx: TenancyEventContext): void {
      log.push({ replica, name: event.resourceName, replay: ctx.replay });
    }
  }
  return Recorder;
}

describe('several replicas with a Kubernetes Lease (e2e)', () => {
  const apps = new TestApps();
  let tenantManager: FakeTenantManager;
  let kube: FakeKubernetesApi;
  let dir: string;
  let kubeconfig: string;
  let handled: Array<{ replica: string; name: string; replay: boolean }>;
  let logs: CapturingLogger;
  let tmPort: number;

  beforeEach(async () => {
    handled = [];
    logs = new CapturingLogger();
    tenantManager = new FakeTenantManager({ controllers: [CONTROLLER] });
    tmPort = Number(new URL(await tenantManager.start()).port);
    kube = new FakeKubernetesApi();
    const kubeUrl = await kube.start();
    dir = mkdtempSync(join(tmpdir(), 'tenancy-ha-'));
    kubeconfig = join(dir, 'config');
    writeFileSync(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        `clusters: [{ name: fake, cluster: { server: "${kubeUrl}", insecure-skip-tls-verify: true } }]`,
        `users: [{ name: fake, user: { token: ${kube.token} } }]`,
        'contexts: [{ name: fake, context: { cluster: fake, user: fake } }]',
        'current-context: fake',
        '',
      ].join('\n'),
    );
  });
  afterEach(async () => {
    await apps.closeAll();
    await tenantManager.stop();
    await kube.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A replica: its requests to the Tenant Manager carry its name (URL user info → Authorization). */
  async function replica(name: string) {
    const { app, poller } = await apps.start(
      {
        url: `http://${name}@127.0.0.1:${tmPort}`,
        controllerName: CONTROLLER,
        coordination: { ...LEASE, ...TIMINGS, kubeconfig, identity: name },
      },
      [recorderFor(name, handled)],
      { logs },
    );
    return { name, app, poller };
  }
  const requestsBy = (name: string) =>
    tenantManager.requests.filter(
      (r) => r.headers.authorization === `Basic ${Buffer.from(`${name}:`).toString('base64')}`,
    );
  const leaders = <R extends { poller: TenancyPoller }>(replicas: R[]) => replicas.filter((r) => r.poller.getStatus().leader);

  it('exactly one replica leads; the others stand by (alive, not ready) and send nothing', async () => {
    tenantManager.createOrg('acme');
    tenantManager.createProject('acme', 'web');
    const replicas = [await replica('pod-a'), await replica('pod-b'), await replica('pod-c')];
    await waitFor(() => leaders(replicas).length === 1, { message: 'a leader' });
    const [leader] = leaders(replicas);
    await leader.poller.whenIdle();
    const standbys = replicas.filter((r) => r !== leader);
    // Requests are attributable: the leader's carry its name.
    expect(requestsBy(leader.name).filter((r) => r.path === '/v1/status').length).toBeGreaterThanOrEqual(4);
    for (const standby of standbys) {
      expect(standby.poller.getStatus()).toMatchObject({ phase: 'standby', ready: false, alive: true, leader: false });
      expect(requestsBy(standby.name)).toEqual([]);
    }
    expect(leader.poller.getStatus()).toMatchObject({ ready: true, leader: true, identity: leader.name });
    expect(handled.map((h) => `${h.replica}:${h.name}`).sort()).toEqual([`${leader.name}:acme`, `${leader.name}:web`]);
    expect(kube.lease('tenancy', LEASE.leaseName)?.spec.holderIdentity).toBe(leader.name);
    expect(leaders(replicas)).toHaveLength(1);
  });

  it('closing the leader releases the lease: a standby takes over at once and replays', async () => {
    tenantManager.createOrg('acme');
    const replicas = [await replica('pod-a'), await replica('pod-b')];
    await waitFor(() => leaders(replicas).length === 1);
    const [first] = leaders(replicas);
    const second = replicas.find((r) => r !== first)!;
    await first.poller.whenIdle();
    const closedAt = Date.now();
    await first.app.close();
    expect(first.poller.getStatus().leader).toBe(false);
    // Released: no need to wait for the 2 s lease to expire.
    await waitFor(() => second.poller.getStatus().leader, { timeout: 1_900, interval: 5 });
    expect(Date.now() - closedAt).toBeLessThan(TIMINGS.leaseDuration);
    await second.poller.whenIdle();
    expect(handled.filter((h) => h.replica === second.name)).toEqual([{ replica: second.name, name: 'acme', replay: true }]);
    tenantManager.createOrg('later');
    await waitFor(() => handled.some((h) => h.replica === second.name && h.name === 'later'));
  });

  it('a leader whose renewals fail stops dispatching before another replica can acquire', async () => {
    const replicas = [await replica('pod-a'), await replica('pod-b')];
    await waitFor(() => leaders(replicas).length === 1);
    const [old] = leaders(replicas);
    const next = replicas.find((r) => r !== old)!;
    await old.poller.whenIdle();
    // The API server now refuses every write from the old leader.
    kube.failNext(1_000_000, { status: 500, match: (r) => r.method === 'PUT' && r.holderIdentity === old.name });
    await waitFor(() => next.poller.getStatus().leader, { timeout: 10_000, message: 'takeover' });
    const lost = logs.lines.find((l) => l.message.includes('lost leadership') && l.fields?.identity === old.name);
    const won = logs.lines.find((l) => l.message.includes('became the leader') && l.fields?.identity === next.name);
    expect(lost).toBeDefined();
    expect(won).toBeDefined();
    expect(lost!.at).toBeLessThanOrEqual(won!.at);
    expect(old.poller.getStatus()).toMatchObject({ phase: 'standby', leader: false, ready: false });
    // Not one request to the Tenant Manager from the old leader once the new one
    // leads. (Measured from the new leader's takeover, not the old one's stand-down:
    // the fake stamps a request when it arrives, and on a loaded machine a poll sent
    // just before the stand-down can arrive just after it.)
    expect(requestsBy(old.name).length).toBeGreaterThan(0);
    const lateRequests = requestsBy(old.name).filter((r) => r.at > lost!.at);
    // A poll sent in the same timer phase as the loss can arrive a moment after the
    // "lost" line (it left before; the loss aborts it): at most that one, never a write.
    expect(lateRequests.filter((r) => r.method !== 'GET')).toEqual([]);
    expect(lateRequests.length).toBeLessThanOrEqual(1);
    const settledAt = Date.now();
    tenantManager.createOrg('after-failover');
    await waitFor(() => handled.some((h) => h.name === 'after-failover'));
    expect(requestsBy(old.name).filter((r) => r.at >= settledAt)).toEqual([]);
    expect(handled.filter((h) => h.name === 'after-failover').map((h) => h.replica)).toEqual([next.name]);
  });

  it('a renew answered with another holder is an immediate loss: nothing leaves this replica afterwards', async () => {
    const only = await replica('pod-a');
    await waitFor(() => only.poller.getStatus().leader);
    await only.poller.whenIdle();
    // Another holder wrote the Lease (say, an operator forced a failover) for a long time.
    kube.setLease(LEASE.namespace, LEASE.leaseName, { holderIdentity: 'intruder', leaseDurationSeconds: 3_600 });
    await waitFor(() => !only.poller.getStatus().leader, { timeout: 5_000 });
    const lost = logs.lines.find((l) => l.message.includes('lost leadership'));
    expect(lost?.message).toContain('the renewal was refused');
    expect(only.poller.getStatus()).toMatchObject({ phase: 'standby', ready: false });
    tenantManager.createOrg('while-standing-by');
    // The next acquire attempts (every retryPeriod) see the intruder and stand by.
    const seen = kube.requests.length;
    await waitFor(() => kube.requests.length >= seen + 2);
    // A poll already on the wire when the renewal was refused may arrive a moment after
    // the "lost" line (the loss aborts it): at most that one, and never a status write.
    const late = requestsBy('pod-a').filter((r) => r.at > lost!.at);
    expect(late.filter((r) => r.method !== 'GET')).toEqual([]);
    expect(late.length).toBeLessThanOrEqual(1);
    expect(handled.map((h) => h.name)).not.toContain('while-standing-by');
  });

  it('a renew answered 404 is an immediate loss; a re-won leadership replays afresh and goes on', async () => {
    const only = await replica('pod-a');
    await waitFor(() => only.poller.getStatus().leader);
    await only.poller.whenIdle();
    kube.deleteLease(LEASE.namespace, LEASE.leaseName);
    await waitFor(() => logs.lines.some((l) => l.message.includes('lost leadership')), { timeout: 5_000 });
    expect(logs.lines.find((l) => l.message.includes('lost leadership'))?.message).toContain('the renewal was refused');
    // The Lease is gone, so the next acquire creates it again: a new run replays from scratch.
    await waitFor(() => logs.lines.filter((l) => l.message.includes('became the leader')).length === 2, { timeout: 5_000 });
    await only.poller.whenReady();
    tenantManager.createOrg('after-rewin');
    await waitFor(() => handled.some((h) => h.name === 'after-rewin' && !h.replay));
    expect(logs.lines.filter((l) => l.message.includes('replay handled'))).toHaveLength(2);
  });

  it('under random Kubernetes API failures there is never more than one leader', async () => {
    let seed = Number(process.env.CHAOS_SEED ?? 7);
    kube.failRandomly(0.2, () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    });
    const replicas = [await replica('pod-a'), await replica('pod-b'), await replica('pod-c')];
    let samples = 0;
    let sawLeader = 0;
    const started = Date.now();
    await waitFor(
      () => {
        const count = leaders(replicas).length;
        expect(count).toBeLessThanOrEqual(1);
        samples += 1;
        if (count === 1) sawLeader += 1;
        return Date.now() - started > 6_000;
      },
      { timeout: 15_000, interval: 5 },
    );
    expect(samples).toBeGreaterThan(100);
    expect(sawLeader).toBeGreaterThan(0);
  }, 30_000);
});
