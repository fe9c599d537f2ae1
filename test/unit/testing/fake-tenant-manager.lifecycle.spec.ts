import { get } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeTenantManager, type WireEvent } from 'nestjs-tenancy/testing';
import { FakeMessages } from '../../../src/testing/fake-tenant-manager.messages.js';
import { waitFor } from '../../support/wait-for.js';
import { call, httpCall, statusBody, useFakes, useKeepAliveAgent } from './fake-harness.js';

const ID = '0b0e8f5e-4d0e-4a59-9a2f-1b2c3d4e5f60';

describe('FakeTenantManager lifecycle', () => {
  const startFake = useFakes();
  const keepAliveAgent = useKeepAliveAgent();
  const unmanaged: FakeTenantManager[] = [];
  afterEach(async () => {
    await Promise.all(unmanaged.splice(0).map((fake) => fake.stop()));
  });
  const track = (fake: FakeTenantManager): FakeTenantManager => {
    unmanaged.push(fake);
    return fake;
  };

  it('starts on a free loopback port and resolves to its base URL', async () => {
    const fake = track(new FakeTenantManager());
    expect(() => fake.url).toThrow(FakeMessages.notStarted());
    const url = await fake.start();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(fake.url).toBe(url);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });

  it('refuses a second start while running', async () => {
    const fake = await startFake();
    await expect(fake.start()).rejects.toThrow(FakeMessages.alreadyStarted());
  });

  it('rejects start when the port is taken, and can start afterwards', async () => {
    const first = await startFake();
    const port = Number(new URL(first.url).port);
    const second = track(new FakeTenantManager());
    await expect(second.start(port)).rejects.toThrow(/EADDRINUSE/);
    expect(() => second.url).toThrow(FakeMessages.notStarted());
    expect(await second.start()).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('stops idempotently, closing idle keep-alive sockets at once', async () => {
    const fake = track(new FakeTenantManager());
    await fake.start();
    const agent = keepAliveAgent();
    expect((await httpCall(fake, agent, 'GET', '/healthz')).status).toBe(200);
    const startedAt = Date.now();
    await Promise.all([fake.stop(), fake.stop()]);
    // Without closeAllConnections this waits for the 5 s keep-alive timeout.
    expect(Date.now() - startedAt).toBeLessThan(2000);
    await fake.stop();
    expect(() => fake.url).toThrow(FakeMessages.notStarted());
  });

  it('keeps its state across stop() and start()', async () => {
    const fake = track(new FakeTenantManager());
    await fake.start();
    fake.createOrg('acme');
    await call(fake, 'PUT', '/v1/status', statusBody('c1', ID, 'completed'));
    await fake.stop();
    await fake.start();
    const replay = await call(fake, 'GET', '/v1/events?controller=c1&replay=true');
    expect(replay.json).toMatchObject({ lastEventId: 1, events: [{ resourceName: 'acme' }] });
    expect(fake.statusOf('c1', 'project', ID)?.status).toBe('completed');
  });

  it('counts TCP connections since start; keep-alive reuses one', async () => {
    const fake = await startFake();
    const agent = keepAliveAgent();
    for (let i = 0; i < 5; i++) {
      expect((await httpCall(fake, agent, 'GET', '/v1/events?controller=c1')).status).toBe(200);
      expect((await httpCall(fake, agent, 'PUT', '/v1/status', JSON.stringify(statusBody('c1', ID, 'completed')))).status).toBe(200);
      const del = JSON.stringify({ controller: 'c1', resourceType: 'project', resourceId: ID });
      expect((await httpCall(fake, agent, 'DELETE', '/v1/status', del)).status).toBe(200);
    }
    expect(fake.connections).toBe(1);
    expect(fake.requestCount).toBe(15);
    await new Promise<void>((resolve, reject) => {
      get(`${fake.url}/healthz`, { agent: false }, (res) => res.resume().on('end', resolve)).on('error', reject);
    });
    expect(fake.connections).toBe(2);
  });

  it('drops in-flight requests on stop', async () => {
    const fake = track(new FakeTenantManager());
    await fake.start();
    fake.delay(10_000);
    const pending = fetch(`${fake.url}/healthz`);
    await waitFor(() => fake.requestCount === 1);
    await fake.stop();
    await expect(pending).rejects.toThrow();
  });

  describe('request log', () => {
    it('records method, path, query, headers, parsed body, status and time', async () => {
      const fake = await startFake();
      const before = Date.now();
      await call(fake, 'PUT', '/v1/status', statusBody('c1', ID, 'completed'), { 'x-trace': 't-1' });
      await call(fake, 'GET', '/v1/events?controller=c1&after=5&limit=7');
      await call(fake, 'PUT', '/v1/orgs/acme', 'not json', { 'content-type': 'text/plain' });
      await call(fake, 'GET', '/v1/events');
      const [put, page, raw, bad] = fake.requests;
      expect(fake.requests).toHaveLength(4);
      expect(put).toMatchObject({
        method: 'PUT',
        path: '/v1/status',
        query: {},
        body: statusBody('c1', ID, 'completed'),
        status: 200,
      });
      expect(put!.headers['x-trace']).toBe('t-1');
      expect(put!.at).toBeGreaterThanOrEqual(before);
      expect(put!.at).toBeLessThanOrEqual(Date.now());
      expect(page).toMatchObject({ method: 'GET', query: { controller: 'c1', after: '5', limit: '7' }, body: undefined });
      expect(raw).toMatchObject({ body: 'not json', status: 400 });
      expect(bad).toMatchObject({ path: '/v1/events', status: 400 });
    });

    it('clearRequests empties the log while requestCount keeps counting', async () => {
      const fake = await startFake();
      await call(fake, 'GET', '/healthz');
      fake.clearRequests();
      expect(fake.requests).toEqual([]);
      await call(fake, 'GET', '/healthz');
      expect(fake.requests.map((r) => r.path)).toEqual(['/healthz']);
      expect(fake.requestCount).toBe(2);
    });

    it('records nothing with recordRequests: false, the most recent N with a number', async () => {
      const off = await startFake({ recordRequests: false });
      await call(off, 'GET', '/healthz');
      expect(off.requests).toEqual([]);
      expect(off.requestCount).toBe(1);

      const capped = await startFake({ recordRequests: 3 });
      for (let i = 0; i < 8; i++) await call(capped, 'GET', `/v1/events?controller=c${i}`);
      expect(capped.requests.map((r) => r.query['controller'])).toEqual(['c5', 'c6', 'c7']);
      expect(() => new FakeTenantManager({ recordRequests: -1 })).toThrow(RangeError);
    });

    it('logs one line per request when asked', async () => {
      const lines: string[] = [];
      const fake = await startFake({ logRequests: (line) => lines.push(line) });
      await call(fake, 'GET', '/v1/events?controller=c1');
      fake.failNext(1);
      await call(fake, 'DELETE', '/v1/status', {});
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatch(/^GET \/v1\/events\?controller=c1 200 \d+\.\dms$/);
      expect(lines[1]).toMatch(/^DELETE \/v1\/status 500 \d+\.\dms \(injected\)$/);
    });
  });

  describe('seed', () => {
    it('creates orgs each followed by its projects', async () => {
      const fake = await startFake();
      fake.seed(2, 2, 'bench');
      expect(fake.events.map((e: WireEvent) => `${e.id}:${e.resourceType}:${e.resourceName}`)).toEqual([
        '1:org:bench-1',
        '2:project:bench-1-p1',
        '3:project:bench-1-p2',
        '4:org:bench-2',
        '5:project:bench-2-p1',
        '6:project:bench-2-p2',
      ]);
      expect(fake.project('bench-2', 'bench-2-p1')?.orgName).toBe('bench-2');
    });

    it('seeds 100,000 events and serves them by replay and pages', async () => {
      const fake = await startFake({ recordRequests: false });
      fake.seed(10_000, 9);
      expect(fake.lastEventId).toBe(100_000);
      const replay = await call(fake, 'GET', '/v1/events?controller=c1&replay=true');
      const body = replay.json as { events: WireEvent[]; lastEventId: number };
      expect(body.events).toHaveLength(100_000);
      expect(body.lastEventId).toBe(100_000);
      // Replay lists every org before any project.
      expect(body.events[9_999]).toMatchObject({ resourceType: 'org', resourceName: 'seed-10000' });
      expect(body.events[10_000]).toMatchObject({ resourceType: 'project', resourceName: 'seed-1-p1', orgName: 'seed-1' });
      const page = (await call(fake, 'GET', '/v1/events?controller=c1&after=99990&limit=1000')).json as {
        events: WireEvent[];
      };
      expect(page.events.map((e) => e.id)).toEqual([99_991, 99_992, 99_993, 99_994, 99_995, 99_996, 99_997, 99_998, 99_999, 100_000]);
    });
  });
});

