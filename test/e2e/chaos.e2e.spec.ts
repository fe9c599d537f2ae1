import { Injectable } from '@nestjs/common';
import { afterEach, describe, expect, it } from 'vitest';
import { OnTenancyEvent, type TenancyEvent, type TenancyEventContext } from 'nestjs-tenancy';
import { FakeTenantManager } from 'nestjs-tenancy/testing';
import { TestApps } from '../support/tenancy-test-app.js';
import { seededRandom } from '../support/seeded-random.js';
import { waitFor } from '../support/wait-for.js';

const CONTROLLER = 'chaos-controller';


describe('chaos (e2e)', () => {
  const apps = new TestApps();
  let fake: FakeTenantManager | undefined;
  afterEach(async () => {
    await apps.closeAll();
    await fake?.stop();
  });

  it('converges under random request and handler failures, keeping per-org order', async () => {
    const seed = Number(process.env.CHAOS_SEED ?? Date.now() % 100_000);
    const random = seededRandom(seed);
    fake = new FakeTenantManager({ controllers: [CONTROLLER] });
    const url = await fake.start();

    const stats = { attempts: 0, handlerFailures: 0 };
    const handled = new Set<string>(); // `${eventType}:${resourceId}` that succeeded at least once
    const incrementalIdsByOrg = new Map<string, number[]>();

    @Injectable()
    class Flaky {
      @OnTenancyEvent('*', '*')
      async handle(event: TenancyEvent, ctx: TenancyEventContext): Promise<void> {
        stats.attempts += 1;
        const key = event.orgId ?? event.resourceId;
        if (!ctx.replay) {
          const ids = incrementalIdsByOrg.get(key) ?? [];
          ids.push(event.id);
          incrementalIdsByOrg.set(key, ids);
        }
        await new Promise((resolve) => setTimeout(resolve, random() * 3));
        if (random() < 0.1) {
          stats.handlerFailures += 1;
          throw new Error('random handler failure');
        }
        handled.add(`${event.eventType}:${event.resourceId}`);
      }
    }

    // Half the tenants exist before the controller starts (replay), half arrive while it runs.
    const orgs = Array.from({ length: 30 }, (_, i) => `org-${i}`);
    for (const org of orgs.slice(0, 15)) {
      fake.createOrg(org);
      for (let p = 0; p < 4; p += 1) fake.createProject(org, `${org}-p${p}`);
    }
    // ~15% of all requests fail: 500s everywhere, malformed bodies on event fetches.
    fake.failRandomly(0.1, { status: 500 }, random);
    fake.failNext(1_000_000, {
      status: 200,
      body: '{"events": [ this is not json',
      match: (r) => r.path === '/v1/events' && random() < 0.05,
    });

    const { poller } = await apps.start(
      { url, controllerName: CONTROLLER, pollInterval: 20, initialBackoff: 5, maxBackoff: 50, concurrency: 6 },
      [Flaky],
    );
    for (const org of orgs.slice(15)) {
      fake.createOrg(org);
      for (let p = 0; p < 4; p += 1) fake.createProject(org, `${org}-p${p}`);
    }
    await waitFor(() => poller.isReady(), { timeout: 10_000, message: 'replay under chaos' });
    // Deletions while running: one project in every third org, and five whole orgs.
    for (let i = 0; i < 30; i += 3) fake.deleteProject(orgs[i], `${orgs[i]}-p1`);
    for (const org of ['org-1', 'org-8', 'org-16', 'org-22', 'org-29']) fake.deleteOrg(org);

    const live = () => {
      const ids: Array<{ type: string; id: string }> = [];
      for (const org of orgs) {
        const o = fake!.org(org);
        if (o && !o.deletedAt) ids.push({ type: 'org', id: o.id });
        for (let p = 0; p < 4; p += 1) {
          const project = fake!.project(org, `${org}-p${p}`);
          if (project && !project.deletedAt) ids.push({ type: 'project', id: project.id });
        }
      }
      return ids;
    };
    const deleted = fake.events.filter((e) => e.eventType === 'deleted').map((e) => e.resourceId);
    const converged = () => {
      const rows = new Map(fake!.statusRows(CONTROLLER).map((r) => [r.resourceId, r.status]));
      return live().every((r) => rows.get(r.id) === 'completed') && deleted.every((id) => !rows.has(id));
    };
    await waitFor(converged, { timeout: 60_000, interval: 50, message: `convergence (seed ${seed})` });

    // Every created resource was handled at least once, every deletion too.
    for (const event of fake.events) expect(handled.has(`${event.eventType}:${event.resourceId}`)).toBe(true);
    // Per-org order held: incremental ids (retries repeat an id) never go backwards within an org.
    for (const ids of incrementalIdsByOrg.values()) {
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
    }
    const failedRequests = fake.requests.filter((r) => r.status !== 200).length;
    console.log(
      `chaos seed ${seed}: ${fake.events.length} events, ${stats.attempts} handler attempts, ` +
        `${stats.handlerFailures} handler failures, ${fake.requestCount} requests (${failedRequests} failed or malformed ≥), ` +
        `${live().length} live resources completed, ${deleted.length} deleted with no row`,
    );
    expect(stats.handlerFailures).toBeGreaterThan(0);
    expect(failedRequests).toBeGreaterThan(0);
    fake.failRandomly(0);
    fake.clearFaults();
    await poller.whenIdle();
  }, 90_000);
});
