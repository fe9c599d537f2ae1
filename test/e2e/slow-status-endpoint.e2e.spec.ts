import { Injectable } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { OnTenancyEvent, type TenancyEvent } from 'nestjs-tenancy';
import type { MatchableRequest } from 'nestjs-tenancy/testing';
import { useFakeTenantManager } from '../support/fake-tenant-manager.harness.js';
import { waitFor } from '../support/wait-for.js';

const CONTROLLER = 'slow-status-controller';
const ORGS = 30;
const CONCURRENCY = 4;

@Injectable()
class Recorder {
  readonly handled: string[] = [];
  @OnTenancyEvent('org', 'created')
  handle(event: TenancyEvent): void {
    this.handled.push(event.resourceName);
  }
}

const isStatus = (r: MatchableRequest) => r.path === '/v1/status';

describe('a slow status endpoint (e2e)', () => {
  const tm = useFakeTenantManager(CONTROLLER);

  it('slows status writes only: handling continues, polls go on at pollInterval, writes coalesce per resource and drain on recovery', async () => {
    const { poller, app } = await tm.apps.start(
      { url: tm.url, controllerName: CONTROLLER, concurrency: CONCURRENCY, pollInterval: 50 },
      [Recorder],
    );
    const recorder = app.get(Recorder);
    await poller.whenReady();
    // Every status call now takes 2 s, then fails.
    tm.fake.delay(2_000, isStatus);
    tm.fake.failNext(Number.MAX_SAFE_INTEGER, { status: 503, match: isStatus });
    const outageStarted = Date.now();
    const orgs = Array.from({ length: ORGS }, (_, i) => tm.fake.createOrg(`org-${i}`));
    // At handler speed: far below one 2 s status round trip per event.
    await waitFor(() => recorder.handled.length === ORGS, { timeout: 1_900, message: 'handling is not held up by status writes' });
    const pollsBefore = tm.fake.requests.filter((r) => r.path === '/v1/events' && r.at >= outageStarted).length;
    await waitFor(
      () => tm.fake.requests.filter((r) => r.path === '/v1/events' && r.at >= outageStarted).length >= pollsBefore + 10,
      { timeout: 10 * 50 * 5, message: 'polls continue at pollInterval' },
    );
    // A slow status endpoint gets at most `concurrency` requests at once, never one per event.
    const statusRequests = () => tm.fake.requests.filter((r) => r.path === '/v1/status' && r.at >= outageStarted);
    expect(statusRequests().length).toBeLessThanOrEqual(CONCURRENCY);
    expect(poller.getStatus().statusWritesPending).toBe(ORGS);
    tm.fake.clearFaults();
    await waitFor(() => orgs.every((org) => tm.fake.statusOf(CONTROLLER, 'org', org.id)?.status === 'completed'), {
      timeout: 15_000,
      message: 'status writes drain once the endpoint recovers',
    });
    await poller.whenIdle();
    expect(poller.getStatus().statusWritesPending).toBe(0);
    // Coalesced (latest wins): the rows end "completed", and no resource got a pile of writes.
    const perResource = new Map<string, number>();
    for (const r of statusRequests()) {
      const id = (r.body as { resourceId: string }).resourceId;
      perResource.set(id, (perResource.get(id) ?? 0) + 1);
    }
    expect(Math.max(...perResource.values())).toBeLessThanOrEqual(4);
  }, 30_000);
});
