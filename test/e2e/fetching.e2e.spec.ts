import { createServer } from 'node:net';
import { Injectable } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { OnTenancyEvent, TenancyEvent, type TenancyEventContext } from 'nestjs-tenancy';
import { useFakeTenantManager } from '../support/fake-tenant-manager.harness.js';
import { waitFor } from '../support/wait-for.js';

const CONTROLLER = 'fetch-controller';
const isReplay = (r: { method: string; path: string; query: Record<string, string> }) =>
  r.path === '/v1/events' && r.query.replay === 'true';
const isPoll = (r: { method: string; path: string; query: Record<string, string> }) =>
  r.path === '/v1/events' && r.query.after !== undefined;

@Injectable()
class Recorder {
  readonly events: Array<{ event: TenancyEvent; ctx: TenancyEventContext }> = [];
  @OnTenancyEvent('*', '*')
  record(event: TenancyEvent, ctx: TenancyEventContext): void {
    this.events.push({ event, ctx });
  }
  names(): string[] {
    return this.events.map((e) => `${e.event.eventType}:${e.event.resourceName}`);
  }
}

/** A loopback port nothing listens on (yet). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('replay and polling (e2e)', () => {
  const tm = useFakeTenantManager(CONTROLLER);
  const { apps } = tm;

  it('app.init() does not wait for the Tenant Manager', async () => {
    tm.fake.createOrg('acme');
    tm.fake.delay(1_500, isReplay);
    const started = Date.now();
    const { poller } = await apps.start({ url: tm.url, controllerName: CONTROLLER }, [Recorder]);
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(poller.isReady()).toBe(false);
    await poller.whenReady();
    expect(poller.isReady()).toBe(true);
  });

  it('replays then polls in order: replay ids 0, then incremental events from lastEventId', async () => {
    tm.fake.createOrg('acme');
    tm.fake.createProject('acme', 'web');
    const { app, poller } = await apps.start({ url: tm.url, controllerName: CONTROLLER }, [Recorder]);
    await poller.whenReady();
    // The snapshot stands for ids 1..2: the watermark moves there once it is handled.
    expect(poller.getStatus().fetchCursor).toBe(2);
    await poller.whenIdle();
    expect(poller.getStatus().completedEventId).toBe(2);
    tm.fake.createProject('acme', 'api');
    tm.fake.deleteProject('acme', 'web');
    const recorder = app.get(Recorder);
    await waitFor(() => recorder.events.length === 4);
    await poller.whenIdle();
    expect(recorder.names()).toEqual(['created:acme', 'created:web', 'created:api', 'deleted:web']);
    expect(recorder.events.map((e) => e.event.id)).toEqual([0, 0, 3, 4]);
    expect(recorder.events.map((e) => e.ctx.replay)).toEqual([true, true, false, false]);
    expect(poller.getStatus().completedEventId).toBe(4);
    expect(poller.getStatus().fetchCursor).toBe(4);
    const polls = tm.fake.requests.filter(isPoll);
    expect(polls[0].query).toEqual({ controller: CONTROLLER, after: '2', limit: '100' });
  });

  it('Tenant Manager down at start, then up: replay retried with backoff, then everything handled', async () => {
    await tm.fake.stop();
    const port = await freePort();
    const errors: string[] = [];
    const { app, poller } = await apps.start(
      { url: `http://127.0.0.1:${port}`, controllerName: CONTROLLER, onError: (_e, m) => errors.push(m) },
      [Recorder],
    );
    await waitFor(() => errors.length >= 2, { message: 'replay failures reported' });
    expect(errors[0]).toMatch(/Tenant Manager replay failed: .*ECONNREFUSED/);
    expect(poller.isReady()).toBe(false);

    await tm.replace({ port });
    tm.fake.createOrg('late');
    await poller.whenReady();
    await poller.whenIdle();
    expect(app.get(Recorder).names()).toEqual(['created:late']);
  });

  it('a failing poll (500) is reported and loses nothing', async () => {
    const errors: string[] = [];
    const { app, poller } = await apps.start(
      { url: tm.url, controllerName: CONTROLLER, onError: (_e, m) => errors.push(m) },
      [Recorder],
    );
    await poller.whenReady();
    tm.fake.failNext(3, { status: 500, match: isPoll });
    tm.fake.createOrg('acme');
    tm.fake.createProject('acme', 'web');
    const recorder = app.get(Recorder);
    await waitFor(() => recorder.events.length === 2);
    expect(recorder.names()).toEqual(['created:acme', 'created:web']);
    expect(errors.filter((m) => m.includes('Tenant Manager poll failed') && m.includes('HTTP 500'))).toHaveLength(3);
  });

  it.each([
    ['not JSON', '{"events": ['],
    ['no events array', '{"lastEventId": 3}'],
    ['a bad lastEventId', '{"events": [], "lastEventId": -1}'],
  ])('a replay body that is %s is retried', async (_what, body) => {
    tm.fake.createOrg('acme');
    const errors: string[] = [];
    tm.fake.failNext(2, { status: 200, body, match: isReplay });
    const { app, poller } = await apps.start(
      { url: tm.url, controllerName: CONTROLLER, onError: (_e, m) => errors.push(m) },
      [Recorder],
    );
    await poller.whenReady();
    await poller.whenIdle();
    expect(errors.filter((m) => m.includes('malformed response'))).toHaveLength(2);
    expect(app.get(Recorder).names()).toEqual(['created:acme']);
  });

  it('a malformed poll body leaves the cursor where it was', async () => {
    const errors: string[] = [];
    const { app, poller } = await apps.start(
      { url: tm.url, controllerName: CONTROLLER, onError: (_e, m) => errors.push(m) },
      [Recorder],
    );
    await poller.whenReady();
    tm.fake.failNext(1, { status: 200, body: 'not json at all', match: isPoll });
    tm.fake.createOrg('acme');
    await waitFor(() => app.get(Recorder).events.length === 1);
    expect(errors.some((m) => m.includes('malformed response') && m.includes('not JSON'))).toBe(true);
    await poller.whenIdle(); // the watermark moves once the event's final status is written
    expect(poller.getStatus().completedEventId).toBe(1);
  });

  it('skips events of unknown types without crashing, and moves the cursor past them', async () => {
    const { app, poller, logs } = await apps.start({ url: tm.url, controllerName: CONTROLLER }, [Recorder]);
    await poller.whenReady();
    const folder = {
      id: 1,
      eventType: 'created',
      resourceType: 'folder',
      resourceId: '5f0c6a39-1d5c-4c63-9d53-0c3a2a1b2c3d',
      resourceName: 'f',
      orgId: null,
      orgName: null,
      folderId: null,
      createdAt: new Date().toISOString(),
    };
    tm.fake.failNext(1, { status: 200, body: JSON.stringify({ events: [folder], lastEventId: 1 }), match: isPoll });
    await waitFor(() => logs.lines.some((l) => l.level === 'warn' && l.message.includes('does not know')));
    // The fake's own log also starts at 1: that event is behind the cursor now, never seen.
    tm.fake.createOrg('behind-cursor');
    tm.fake.createOrg('acme');
    await waitFor(() => app.get(Recorder).events.length === 1);
    await poller.whenIdle();
    expect(app.get(Recorder).names()).toEqual(['created:acme']);
    expect(tm.fake.requests.filter(isPoll).map((r) => r.query.after)).toContain('1');
  });

  it('retries a page with an invalid event, then reports it once more and skips it', async () => {
    const errors: string[] = [];
    const { app, poller } = await apps.start(
      { url: tm.url, controllerName: CONTROLLER, onError: (_e, m) => errors.push(m) },
      [Recorder],
    );
    await poller.whenReady();
    const org = tm.fake.createOrg('acme');
    const corrupt = { ...tm.fake.events[0], resourceId: 'not-a-uuid' };
    tm.fake.failNext(5, { status: 200, body: JSON.stringify({ events: [corrupt], lastEventId: 1 }), match: isPoll });
    tm.fake.createOrg('next');
    await waitFor(() => app.get(Recorder).events.length === 1);
    expect(app.get(Recorder).names()).toEqual(['created:next']);
    expect(errors.filter((m) => m.includes('invalid event') && m.includes('resourceId'))).toHaveLength(4);
    expect(errors.filter((m) => m.includes('skipping event that stayed invalid in 5 fetches'))).toHaveLength(1);
    expect(errors.find((m) => m.includes('skipping'))).toContain('not-a-uuid');
    expect(org.id).not.toBe('not-a-uuid');
  });

  it('a restart replays everything again (handlers must be idempotent)', async () => {
    tm.fake.createOrg('acme');
    tm.fake.createProject('acme', 'web');
    const first = await apps.start({ url: tm.url, controllerName: CONTROLLER }, [Recorder]);
    await first.poller.whenReady();
    await first.poller.whenIdle();
    await apps.closeAll();

    const second = await apps.start({ url: tm.url, controllerName: CONTROLLER }, [Recorder]);
    await second.poller.whenReady();
    await second.poller.whenIdle();
    expect(second.app.get(Recorder).names()).toEqual(['created:acme', 'created:web']);
    expect(second.app.get(Recorder).events.every((e) => e.ctx.replay)).toBe(true);
  });

  it('with autoStart false nothing is fetched until start()', async () => {
    tm.fake.createOrg('acme');
    const { app, poller } = await apps.start({ url: tm.url, controllerName: CONTROLLER, autoStart: false }, [Recorder]);
    expect(poller.getStatus().phase).toBe('idle');
    expect(tm.fake.requests.filter((r) => r.path === '/v1/events')).toEqual([]);
    poller.start();
    await poller.whenReady();
    await poller.whenIdle();
    expect(app.get(Recorder).names()).toEqual(['created:acme']);
  });

  it('drains a full-page backlog at once instead of one page per interval', async () => {
    // 100 orgs × 9 projects = 1,000 incremental events waiting behind an empty replay.
    tm.fake.seed(100, 9);
    expect(tm.fake.lastEventId).toBe(1_000);
    tm.fake.failNext(1, { status: 200, body: '{"events":[],"lastEventId":0}', match: isReplay });
    const { app, poller } = await apps.start(
      { url: tm.url, controllerName: CONTROLLER, pollInterval: 60_000, pollLimit: 100 },
      [Recorder],
    );
    const recorder = app.get(Recorder);
    // With a one-minute interval, finishing at all within the wait proves no page waited
    // for a tick: the reference client would need 10 ticks (10 minutes).
    await waitFor(() => recorder.events.length === 1_000, { timeout: 20_000 });
    await poller.whenIdle();
    const polls = tm.fake.requests.filter(isPoll);
    expect(polls.map((r) => r.query.after)).toEqual(['0', '100', '200', '300', '400', '500', '600', '700', '800', '900', '1000']);
    expect(poller.getStatus().completedEventId).toBe(1_000);
  });
});
