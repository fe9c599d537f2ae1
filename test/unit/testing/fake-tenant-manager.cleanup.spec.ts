import { describe, expect, it } from 'vitest';
import { FakeTenantManager, type WireEvent } from 'nestjs-tenancy/testing';
import { waitFor } from '../../support/wait-for.js';
import { call, statusBody, useFakes } from './fake-harness.js';

interface Page {
  events: WireEvent[];
  lastEventId: number;
}

describe('FakeTenantManager background work', () => {
  const startFake = useFakes();

  describe('hard delete (runCleanup)', () => {
    it('waits for registered rows: projects first, then the org once it has no projects', async () => {
      const fake = await startFake({ controllers: ['c1'] });
      const org = fake.createOrg('acme');
      const web = fake.createProject('acme', 'web');
      const api = fake.createProject('acme', 'api');
      for (const [id, type] of [
        [web.id, 'project'],
        [api.id, 'project'],
        [org.id, 'org'],
      ]) {
        await call(fake, 'PUT', '/v1/status', statusBody('c1', id!, 'completed', '', type));
      }
      await call(fake, 'PUT', '/v1/status', statusBody('stranger', web.id, 'completed'));
      fake.deleteOrg('acme');

      expect(fake.runCleanup()).toEqual({ projects: 0, orgs: 0 });

      await call(fake, 'DELETE', '/v1/status', { controller: 'c1', resourceType: 'project', resourceId: web.id });
      // The org's row is gone too, but `api` still blocks the org.
      await call(fake, 'DELETE', '/v1/status', { controller: 'c1', resourceType: 'org', resourceId: org.id });
      expect(fake.runCleanup()).toEqual({ projects: 1, orgs: 0 });
      expect(fake.project('acme', 'web')).toBeUndefined();
      expect(fake.project('acme', 'api')?.deletedAt).toBeDefined();
      expect(fake.org('acme')?.deletedAt).toBeDefined();
      // The unregistered controller's row went with the project.
      expect(fake.statusRows('stranger')).toEqual([]);

      await call(fake, 'DELETE', '/v1/status', { controller: 'c1', resourceType: 'project', resourceId: api.id });
      expect(fake.runCleanup()).toEqual({ projects: 1, orgs: 1 });
      expect(fake.org('acme')).toBeUndefined();
      expect(fake.statusRows()).toEqual([]);
      expect(((await call(fake, 'GET', '/v1/events?controller=c1&replay=true')).json as Page).events).toEqual([]);
      expect((await call(fake, 'GET', '/v1/orgs/acme')).status).toBe(404);

      // The name is free again.
      const again = fake.createOrg('acme');
      expect(again.id).not.toBe(org.id);
      expect(fake.runCleanup()).toEqual({ projects: 0, orgs: 0 });
    });

    it('hard-deletes at once when no controller is registered, and never touches active resources', async () => {
      const fake = await startFake();
      fake.createOrg('keep');
      fake.createProject('keep', 'live');
      fake.createProject('keep', 'dead');
      fake.createOrg('gone');
      fake.createProject('gone', 'web');
      await call(fake, 'PUT', '/v1/status', statusBody('c1', fake.project('keep', 'dead')!.id, 'completed'));
      fake.deleteProject('keep', 'dead');
      fake.deleteOrg('gone');

      expect(fake.runCleanup()).toEqual({ projects: 2, orgs: 1 });
      expect(fake.project('keep', 'dead')).toBeUndefined();
      expect(fake.project('keep', 'live')?.deletedAt).toBeUndefined();
      expect(fake.org('gone')).toBeUndefined();
      expect(fake.statusRows()).toEqual([]);
      // The freed project name can be created again and is not ambiguous.
      fake.createProject('keep', 'dead');
      expect((await call(fake, 'GET', '/v1/projects/dead')).status).toBe(200);
    });

    it('keeps a deleting org while a registered controller holds its own row', async () => {
      const fake = await startFake({ controllers: { org: ['org-ctl'], project: [] } });
      const org = fake.createOrg('acme');
      await call(fake, 'PUT', '/v1/status', statusBody('org-ctl', org.id, 'completed', '', 'org'));
      fake.deleteOrg('acme');
      expect(fake.runCleanup()).toEqual({ projects: 0, orgs: 0 });
      expect(fake.derivedStatus('org', 'acme')?.orgStatus.message).toBe('deleting, waiting for: org-ctl');
    });

    it('runs periodically with cleanupInterval', async () => {
      const fake = await startFake({ cleanupInterval: 10 });
      fake.createOrg('acme');
      fake.deleteOrg('acme');
      await waitFor(() => fake.org('acme') === undefined, { timeout: 2000, message: 'org hard-deleted by the timer' });
    });
  });

  describe('event pruning', () => {
    it('pruneEvents(0) drops every event but keeps lastEventId', async () => {
      const fake = await startFake();
      fake.seed(1, 2);
      expect(fake.pruneEvents()).toBe(3);
      expect(fake.events).toEqual([]);
      expect(fake.lastEventId).toBe(3);
      const replay = (await call(fake, 'GET', '/v1/events?controller=c1&replay=true')).json as Page;
      expect(replay.lastEventId).toBe(3);
      expect(replay.events).toHaveLength(3);
      expect((await call(fake, 'GET', '/v1/events?controller=c1&after=0')).json).toEqual({ events: [], lastEventId: 0 });
    });

    it('keeps events younger than the given age', async () => {
      const fake = await startFake();
      fake.seed(1, 1);
      expect(fake.pruneEvents(60_000)).toBe(0);
      expect(fake.events.map((e) => e.id)).toEqual([1, 2]);
    });

    it('prunes in the background with eventRetention', async () => {
      const fake = await startFake({ eventRetention: 20 });
      fake.seed(2, 0);
      await waitFor(() => fake.events.length === 0, { timeout: 3000, message: 'events pruned by the timer' });
      expect(fake.lastEventId).toBe(2);
      fake.createOrg('late');
      expect(fake.events.map((e) => e.id)).toEqual([3]);
    });
  });

  it('rejects non-positive periods and empty controller names', () => {
    expect(() => new FakeTenantManager({ cleanupInterval: 0 })).toThrow(RangeError);
    expect(() => new FakeTenantManager({ eventRetention: -5 })).toThrow(/eventRetention/);
    expect(() => new FakeTenantManager({ controllers: [''] })).toThrow(TypeError);
    expect(() => new FakeTenantManager({ controllers: { project: ['ok', ''] } })).toThrow(/controllers\.project/);
  });
});
