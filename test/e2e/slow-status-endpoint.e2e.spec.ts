import { Injectable } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { OnTenancyEvent, type TenancyEvent } from 'nestjs-tenancy';
import type { MatchableRequest } from 'nestjs-tenancy/testing';
import { useFakeTenantManager } from '../support/fake-tenant-manager.harness.js';
import { OrgCreatedRecorder } from '../support/org-created.recorder.js';
import { waitFor } from '../support/wait-for.js';

const CONTROLLER = 'slow-status-controller';
const ORGS = 30;
const CONCURRENCY = 4;

const isStatus = (r: MatchableRequest) => r.path === '/v1/status';

// With concurrency 1 the status writer holds attempts back once max(1024, 64 × 1) resources wait.
const BACKLOG = 1_024;
const PAST_BACKLOG = 1_200;

@Injectable()
class CountingHandler {
  readonly handled = new Set<string>();
  @OnTenancyEvent('org', 'created')
  handle(event: TenancyEvent): void {
    this.handled.add(event.resourceId);
  }
}

@Injectable()
class RefusingHandler {
  calls = 0;
  @OnTenancyEvent('org', 'created')
  handle(): void {
    this.calls += 1;
    throw new Error('refused by the handler');
  }
}

describe('a slow status endpoint (e2e)', () => {
  const tm = useFakeTenantManager(CONTROLLER);

  it('slows status writes only: handling continues, polls go on at pollInterval, writes coalesce per resource and drain on recovery', async () => {
    const { poller, app } = await tm.apps.start(
      { url: tm.url, controllerName: CONTROLLER, concurrency: CONCURRENCY, pollInterval: 50 },
      [OrgCreatedRecorder],
    );
    const recorder = app.get(OrgCreatedRecorder);
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
      // Nominally 0.5 s; held behind the 2 s status calls, ten polls would take 20 s.
      { timeout: 10_000, message: 'polls continue at pollInterval' },
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

  it('stop() while the status writer is congested: the held-back attempts end at once, well within shutdownTimeout, and no handler is reported running', async () => {
    tm.fake.seed(PAST_BACKLOG, 0);
    tm.fake.failNext(Number.MAX_SAFE_INTEGER, { status: 503, match: isStatus });
    const shutdownTimeout = 10_000;
    const { app, poller, logs } = await tm.apps.start(
      { url: tm.url, controllerName: CONTROLLER, concurrency: 1, maxBackoff: 2_000, shutdownTimeout },
      [CountingHandler],
    );
    const handler = app.get(CountingHandler);
    await waitFor(() => handler.handled.size >= BACKLOG, { timeout: 20_000, message: 'handled up to the backlog bound' });
    await waitFor(() => poller.getStatus().statusWritesPending >= BACKLOG, { timeout: 5_000, message: 'the writer congested' });
    // The handler is synchronous: no handler runs, only status writes are out.
    const started = Date.now();
    await poller.stop();
    const elapsed = Date.now() - started;
    expect(logs.lines.filter((line) => /still running/.test(line.message))).toEqual([]);
    expect(elapsed).toBeLessThan(shutdownTimeout);
  }, 60_000);

  it('failing handlers during a status outage: waiting status writes stay within the backlog bound too, and retries go on after it', async () => {
    tm.fake.seed(PAST_BACKLOG, 0);
    tm.fake.failNext(Number.MAX_SAFE_INTEGER, { status: 503, match: isStatus });
    const { app, poller } = await tm.apps.start(
      { url: tm.url, controllerName: CONTROLLER, concurrency: 1, maxBackoff: 200 },
      [RefusingHandler],
    );
    const handler = app.get(RefusingHandler);
    let most = 0;
    const watch = () => (most = Math.max(most, poller.getStatus().statusWritesPending));
    await waitFor(() => watch() >= BACKLOG, { timeout: 20_000, interval: 5, message: 'the writer congested' });
    // Then watch while the writer retries a couple of thousand times: without the bound the
    // failing events run on and pass it at once.
    const requestsAtBound = tm.fake.requestCount;
    await waitFor(() => watch() > BACKLOG + 1 || tm.fake.requestCount >= requestsAtBound + 2_000, {
      timeout: 20_000,
      interval: 5,
      message: 'the bound passed, or the writer retried for a while at it',
    });
    most = Math.max(most, poller.getStatus().statusWritesPending);
    // Concurrency 1: at most the one attempt that found the writer congested goes past the bound.
    expect(most).toBeLessThanOrEqual(BACKLOG + 1);
    // No deadlock: once status writes land, the held-back failures count and are retried.
    tm.fake.clearFaults();
    await waitFor(() => handler.calls >= PAST_BACKLOG + 1, { timeout: 30_000, message: 'events retried after the outage' });
  }, 60_000);
});
