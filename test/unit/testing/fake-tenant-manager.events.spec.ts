import { describe, expect, it } from 'vitest';
import type { WireEvent } from 'nestjs-tenancy/testing';
import { FakeMessages } from '../../../src/testing/fake-tenant-manager.messages.js';
import { call, errorBody, MICROS_ISO, useFakes } from './fake-harness.js';

interface Page {
  events: WireEvent[];
  lastEventId: number;
}

const EVENT_KEYS = [
  'id',
  'eventType',
  'resourceType',
  'resourceId',
  'resourceName',
  'orgId',
  'orgName',
  'folderId',
  'createdAt',
];

describe('FakeTenantManager GET /v1/events', () => {
  const startFake = useFakes();

  describe('replay', () => {
    it('synthesises created orgs, created projects, deleted projects, deleted orgs, all with id 0', async () => {
      const fake = await startFake();
      // `zeta` first: "oldest first" means creation order, not name order.
      const zeta = fake.createOrg('zeta');
      const alpha = fake.createOrg('alpha');
      const keep = fake.createProject('zeta', 'keep');
      fake.createProject('zeta', 'drop');
      fake.createProject('alpha', 'inner');
      fake.deleteProject('zeta', 'drop');
      fake.deleteOrg('alpha');
      fake.createProject('zeta', 'late');

      const before = Date.now();
      const res = await call(fake, 'GET', '/v1/events?controller=c1&replay=true');
      const after = Date.now();

      expect(res.status).toBe(200);
      const page = res.json as Page;
      expect(page.lastEventId).toBe(9);
      expect(page.events.map((e) => `${e.eventType} ${e.resourceType} ${e.resourceName}`)).toEqual([
        'created org zeta',
        'created project keep',
        'created project late',
        'deleted project drop',
        'deleted project inner',
        'deleted org alpha',
      ]);
      expect(page.events.every((e) => e.id === 0)).toBe(true);
      expect(new Set(page.events.map((e) => e.createdAt)).size).toBe(1);
      const createdAt = page.events[0]!.createdAt;
      expect(createdAt).toMatch(MICROS_ISO);
      expect(Date.parse(createdAt)).toBeGreaterThanOrEqual(before);
      expect(Date.parse(createdAt)).toBeLessThanOrEqual(after);
      expect(page.events[0]).toEqual({
        id: 0,
        eventType: 'created',
        resourceType: 'org',
        resourceId: zeta.id,
        resourceName: 'zeta',
        orgId: null,
        orgName: null,
        folderId: null,
        createdAt,
      });
      expect(page.events[1]).toEqual({
        id: 0,
        eventType: 'created',
        resourceType: 'project',
        resourceId: keep.id,
        resourceName: 'keep',
        orgId: zeta.id,
        orgName: 'zeta',
        folderId: null,
        createdAt,
      });
      expect(page.events[5]!.resourceId).toBe(alpha.id);
    });

    it('answers an empty snapshot with lastEventId 0 on an empty log', async () => {
      const fake = await startFake();
      const res = await call(fake, 'GET', '/v1/events?controller=c1&replay=true');
      expect(res.json).toEqual({ events: [], lastEventId: 0 });
    });

    it('ignores after and limit when replay=true', async () => {
      const fake = await startFake();
      fake.seed(1, 2);
      const res = await call(fake, 'GET', '/v1/events?controller=c1&replay=true&after=2&limit=1');
      expect((res.json as Page).events).toHaveLength(3);
      expect((res.json as Page).lastEventId).toBe(3);
    });
  });

  describe('incremental', () => {
    it('pages events with id > after, ascending, at most limit', async () => {
      const fake = await startFake();
      fake.seed(1, 4); // ids 1..5

      const first = (await call(fake, 'GET', '/v1/events?controller=c1&after=0&limit=2')).json as Page;
      expect(first.events.map((e) => e.id)).toEqual([1, 2]);
      expect(first.lastEventId).toBe(2);
      const second = (await call(fake, 'GET', '/v1/events?controller=c1&after=2&limit=2')).json as Page;
      expect(second.events.map((e) => e.id)).toEqual([3, 4]);
      expect(second.lastEventId).toBe(4);
      const third = (await call(fake, 'GET', '/v1/events?controller=c1&after=4&limit=2')).json as Page;
      expect(third.events.map((e) => e.id)).toEqual([5]);
      expect(third.lastEventId).toBe(5);
    });

    it('sends each event in the wire shape, keys in order, with the real timestamp', async () => {
      const fake = await startFake();
      const org = fake.createOrg('acme');
      const project = fake.createProject('acme', 'web');
      const page = (await call(fake, 'GET', '/v1/events?controller=c1')).json as Page;
      expect(page.events.map((e) => Object.keys(e))).toEqual([EVENT_KEYS, EVENT_KEYS]);
      expect(page.events[1]).toEqual({
        id: 2,
        eventType: 'created',
        resourceType: 'project',
        resourceId: project.id,
        resourceName: 'web',
        orgId: org.id,
        orgName: 'acme',
        folderId: null,
        createdAt: fake.events[1]!.createdAt,
      });
      expect(page.events[1]!.createdAt).toMatch(MICROS_ISO);
      expect(page.events[0]!.orgId).toBeNull();
      expect(page.events[0]!.orgName).toBeNull();
    });

    it('answers lastEventId = after for an empty page, even past the end', async () => {
      const fake = await startFake();
      fake.seed(1, 0);
      expect((await call(fake, 'GET', '/v1/events?controller=c1&after=1')).json).toEqual({ events: [], lastEventId: 1 });
      expect((await call(fake, 'GET', '/v1/events?controller=c1&after=100')).json).toEqual({
        events: [],
        lastEventId: 100,
      });
    });

    it('defaults to after=0 and limit=100 (also for empty values)', async () => {
      const fake = await startFake();
      fake.seed(15, 9); // 150 events
      const page = (await call(fake, 'GET', '/v1/events?controller=c1')).json as Page;
      expect(page.events).toHaveLength(100);
      expect(page.events[0]!.id).toBe(1);
      expect(page.lastEventId).toBe(100);
      const empty = (await call(fake, 'GET', '/v1/events?controller=c1&after=&limit=')).json as Page;
      expect(empty.events).toHaveLength(100);
      expect((await call(fake, 'GET', '/v1/events?controller=c1&limit=1000')).json).toMatchObject({ lastEventId: 150 });
    });

    it.each([['0'], ['1001'], ['abc'], ['-1'], ['1.5'], [' 5']])('rejects limit=%j with 400', async (limit) => {
      const fake = await startFake();
      const res = await call(fake, 'GET', `/v1/events?controller=c1&limit=${encodeURIComponent(limit)}`);
      expect(res.status).toBe(400);
      expect(res.json).toEqual(errorBody(FakeMessages.invalidLimit(limit)));
    });

    it.each([['-1'], ['x'], ['1.5'], ['1e3']])('rejects after=%j with 400', async (after) => {
      const fake = await startFake();
      const res = await call(fake, 'GET', `/v1/events?controller=c1&after=${after}`);
      expect(res.status).toBe(400);
      expect(res.json).toEqual(errorBody(FakeMessages.invalidAfter(after)));
    });

    it('continues from lastEventId across pruning gaps', async () => {
      const fake = await startFake();
      fake.seed(1, 2);
      expect(fake.pruneEvents(0)).toBe(3);
      fake.createOrg('late');
      const page = (await call(fake, 'GET', '/v1/events?controller=c1&after=0')).json as Page;
      expect(page.events.map((e) => [e.id, e.resourceName])).toEqual([[4, 'late']]);
      expect(page.lastEventId).toBe(4);
    });
  });

  it.each([
    ['/v1/events'],
    ['/v1/events?replay=true'],
    ['/v1/events?controller=&after=0'],
    ['/v1/events?controller=&replay=true'],
  ])('answers %s with 400 "controller query parameter required"', async (path) => {
    const fake = await startFake();
    const res = await call(fake, 'GET', path);
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ error: 'controller query parameter required' });
    expect(res.headers.get('content-type')).toBe('application/json');
  });

  it('rejects other methods on /v1/events with 405', async () => {
    const fake = await startFake();
    const res = await call(fake, 'POST', '/v1/events?controller=c1', {});
    expect(res.status).toBe(405);
    expect(res.json).toEqual(errorBody(FakeMessages.methodNotAllowed('POST')));
  });
});
