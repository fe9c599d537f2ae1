import { describe, expect, it } from 'vitest';
import type { OrgView, ProjectView } from 'nestjs-tenancy/testing';
import { FakeMessages } from '../../../src/testing/fake-tenant-manager.messages.js';
import { call, errorBody, MILLIS_ISO, useFakes } from './fake-harness.js';

const MARKED_FOR_DELETE = { error: 'Operation not supported. Requested resource is marked for delete.' };

describe('FakeTenantManager public API', () => {
  const startFake = useFakes();

  describe('orgs', () => {
    it('PUT creates an org, logs `created` and answers the org', async () => {
      const fake = await startFake();
      const res = await call(fake, 'PUT', '/v1/orgs/acme', { description: 'Acme Corp' });
      expect(res.status).toBe(200);
      const org = fake.org('acme');
      expect(org).toMatchObject({ name: 'acme', description: 'Acme Corp' });
      expect(res.json).toEqual({
        name: 'acme',
        spec: { description: 'Acme Corp' },
        status: {
          orgStatus: {
            statusIndicator: 'STATUS_INDICATION_IDLE',
            message: '',
            timeStamp: org!.createdAt,
            uID: org!.id,
          },
        },
      });
      expect((res.json as OrgView).status.orgStatus.timeStamp).toMatch(MILLIS_ISO);
      expect(fake.events.map((e) => [e.id, e.eventType, e.resourceType, e.resourceName, e.resourceId])).toEqual([
        [1, 'created', 'org', 'acme', org!.id],
      ]);
    });

    it('PUT without a body creates an org with an empty description', async () => {
      const fake = await startFake();
      expect((await call(fake, 'PUT', '/v1/orgs/acme')).status).toBe(200);
      expect(fake.org('acme')?.description).toBe('');
    });

    it('PUT on an existing org updates the description without an event', async () => {
      const fake = await startFake();
      fake.createOrg('acme', 'old');
      const res = await call(fake, 'PUT', '/v1/orgs/acme', { description: 'new' });
      expect(res.status).toBe(200);
      expect((res.json as OrgView).spec).toEqual({ description: 'new' });
      expect(fake.org('acme')?.description).toBe('new');
      // No description: idempotent, nothing changes.
      expect((await call(fake, 'PUT', '/v1/orgs/acme', {})).status).toBe(200);
      expect(fake.org('acme')?.description).toBe('new');
      expect(fake.lastEventId).toBe(1);
    });

    it('PUT ?update_if_exists=false answers 409 for an existing org and creates a new one', async () => {
      const fake = await startFake();
      fake.createOrg('acme', 'old');
      const conflict = await call(fake, 'PUT', '/v1/orgs/acme?update_if_exists=false', { description: 'new' });
      expect(conflict.status).toBe(409);
      expect(conflict.json).toEqual(errorBody(FakeMessages.orgExists('acme')));
      expect(fake.org('acme')?.description).toBe('old');
      expect((await call(fake, 'PUT', '/v1/orgs/other?update_if_exists=false')).status).toBe(200);
      expect((await call(fake, 'PUT', '/v1/orgs/acme?update_if_exists=true', { description: 'x' })).status).toBe(200);
      const bad = await call(fake, 'PUT', '/v1/orgs/acme?update_if_exists=maybe');
      expect(bad.status).toBe(400);
      expect(bad.json).toEqual(errorBody(FakeMessages.invalidUpdateIfExists('maybe')));
    });

    it('PUT answers 400 for a body that is not a JSON object or a non-string description', async () => {
      const fake = await startFake();
      expect((await call(fake, 'PUT', '/v1/orgs/acme', '{oops')).json).toEqual(errorBody(FakeMessages.invalidJsonBody()));
      expect((await call(fake, 'PUT', '/v1/orgs/acme', { description: 3 })).json).toEqual(
        errorBody(FakeMessages.fieldNotString('description')),
      );
      expect(fake.org('acme')).toBeUndefined();
    });

    it('GET /v1/orgs lists active orgs sorted by name', async () => {
      const fake = await startFake();
      fake.createOrg('zeta');
      fake.createOrg('alpha', 'first');
      fake.createOrg('gone');
      fake.deleteOrg('gone');
      const res = await call(fake, 'GET', '/v1/orgs');
      expect(res.status).toBe(200);
      const orgs = res.json as OrgView[];
      expect(orgs.map((org) => org.name)).toEqual(['alpha', 'zeta']);
      expect(orgs[0]).toMatchObject({ name: 'alpha', spec: { description: 'first' } });
    });

    it('GET /v1/orgs/{name} answers the org, 404 when absent', async () => {
      const fake = await startFake();
      fake.createOrg('acme', 'desc');
      expect((await call(fake, 'GET', '/v1/orgs/acme')).json).toMatchObject({ name: 'acme', spec: { description: 'desc' } });
      const missing = await call(fake, 'GET', '/v1/orgs/nope');
      expect(missing.status).toBe(404);
      expect(missing.json).toEqual(errorBody('org "nope" not found'));
    });

    it('decodes percent-encoded names', async () => {
      const fake = await startFake();
      expect((await call(fake, 'PUT', '/v1/orgs/a%20b')).status).toBe(200);
      expect(fake.org('a b')).toBeDefined();
      expect((await call(fake, 'GET', '/v1/orgs/%E0%A4%A')).status).toBe(400);
    });

    it('DELETE soft-deletes the projects first, then the org', async () => {
      const fake = await startFake();
      const org = fake.createOrg('acme');
      const web = fake.createProject('acme', 'web');
      const api = fake.createProject('acme', 'api');
      fake.createProject('acme', 'old');
      fake.deleteProject('acme', 'old');
      const res = await call(fake, 'DELETE', '/v1/orgs/acme');
      expect(res.status).toBe(200);
      expect((res.json as OrgView).status.orgStatus.statusIndicator).toBe('STATUS_INDICATION_DELETED');
      expect(fake.events.slice(5).map((e) => [e.id, e.eventType, e.resourceType, e.resourceId])).toEqual([
        [6, 'deleted', 'project', web.id],
        [7, 'deleted', 'project', api.id],
        [8, 'deleted', 'org', org.id],
      ]);
      expect(fake.events[6]).toMatchObject({ orgId: org.id, orgName: 'acme' });
      expect(fake.org('acme')?.deletedAt).toMatch(MILLIS_ISO);
      expect(fake.project('acme', 'web')?.deletedAt).toMatch(MILLIS_ISO);
    });

    it('DELETE answers 404 for an absent org', async () => {
      const fake = await startFake();
      const res = await call(fake, 'DELETE', '/v1/orgs/nope');
      expect(res.status).toBe(404);
      expect(res.json).toEqual(errorBody(FakeMessages.orgNotFound('nope')));
    });

    it('PUT and DELETE on a soft-deleted org answer 400 "marked for delete"; GET still shows it', async () => {
      const fake = await startFake();
      fake.createOrg('acme');
      fake.deleteOrg('acme');
      for (const [method, path] of [
        ['PUT', '/v1/orgs/acme'],
        ['PUT', '/v1/orgs/acme?update_if_exists=false'],
        ['DELETE', '/v1/orgs/acme'],
      ] as const) {
        const res = await call(fake, method, path);
        expect(res.status).toBe(400);
        expect(res.json).toEqual(MARKED_FOR_DELETE);
      }
      const got = await call(fake, 'GET', '/v1/orgs/acme');
      expect(got.status).toBe(200);
      expect((got.json as OrgView).status.orgStatus.statusIndicator).toBe('STATUS_INDICATION_DELETED');
      expect(fake.lastEventId).toBe(2);
    });

    it('GET /v1/orgs/{name}/status answers the orgStatus object, also for soft-deleted orgs', async () => {
      const fake = await startFake({ controllers: ['c1'] });
      const org = fake.createOrg('acme');
      const res = await call(fake, 'GET', '/v1/orgs/acme/status');
      expect(res.status).toBe(200);
      expect(res.json).toEqual({
        orgStatus: {
          statusIndicator: 'STATUS_INDICATION_IN_PROGRESS',
          message: 'waiting for: c1',
          timeStamp: org.createdAt,
          uID: org.id,
        },
      });
      fake.deleteOrg('acme');
      expect((await call(fake, 'GET', '/v1/orgs/acme/status')).json).toMatchObject({
        orgStatus: { statusIndicator: 'STATUS_INDICATION_DELETED', message: '' },
      });
      expect((await call(fake, 'GET', '/v1/orgs/nope/status')).status).toBe(404);
    });
  });

  describe('projects', () => {
    it('PUT ?org= creates a project, logs `created` and answers the project', async () => {
      const fake = await startFake();
      const org = fake.createOrg('acme');
      const res = await call(fake, 'PUT', '/v1/projects/web?org=acme', { description: 'Website' });
      expect(res.status).toBe(200);
      const project = fake.project('acme', 'web');
      expect(project).toMatchObject({ name: 'web', orgId: org.id, orgName: 'acme', description: 'Website' });
      expect(res.json).toEqual({
        name: 'web',
        orgName: 'acme',
        spec: { description: 'Website' },
        status: {
          projectStatus: {
            statusIndicator: 'STATUS_INDICATION_IDLE',
            message: '',
            timeStamp: project!.createdAt,
            uID: project!.id,
          },
        },
      });
      expect(fake.events[1]).toMatchObject({
        id: 2,
        eventType: 'created',
        resourceType: 'project',
        resourceId: project!.id,
        resourceName: 'web',
        orgId: org.id,
        orgName: 'acme',
        folderId: null,
      });
    });

    it('PUT on an existing project updates the description without an event', async () => {
      const fake = await startFake();
      fake.createOrg('acme');
      fake.createProject('acme', 'web', 'old');
      const res = await call(fake, 'PUT', '/v1/projects/web?org=acme', { description: 'new' });
      expect(res.status).toBe(200);
      expect((res.json as ProjectView).spec.description).toBe('new');
      expect((await call(fake, 'PUT', '/v1/projects/web?org=acme')).status).toBe(200);
      expect(fake.project('acme', 'web')?.description).toBe('new');
      expect(fake.lastEventId).toBe(2);
      const conflict = await call(fake, 'PUT', '/v1/projects/web?org=acme&update_if_exists=false');
      expect(conflict.status).toBe(409);
      expect(conflict.json).toEqual(errorBody(FakeMessages.projectExists('web', 'acme')));
    });

    it('PUT answers 404 for an unknown org and 400 when no org can be determined', async () => {
      const fake = await startFake();
      const unknown = await call(fake, 'PUT', '/v1/projects/web?org=nope');
      expect(unknown.status).toBe(404);
      expect(unknown.json).toEqual(errorBody(FakeMessages.orgNotFound('nope')));
      const noOrg = await call(fake, 'PUT', '/v1/projects/web');
      expect(noOrg.status).toBe(400);
      expect(noOrg.json).toEqual(errorBody('org query parameter required (no default org configured)'));
      expect(fake.lastEventId).toBe(0);
    });

    it('PUT without ?org creates in the default org (which must exist)', async () => {
      const fake = await startFake({ defaultOrg: 'home' });
      const missing = await call(fake, 'PUT', '/v1/projects/web');
      expect(missing.status).toBe(404);
      expect(missing.json).toEqual(errorBody(FakeMessages.orgNotFound('home')));
      fake.createOrg('home');
      fake.createOrg('other');
      const res = await call(fake, 'PUT', '/v1/projects/web');
      expect(res.status).toBe(200);
      expect(res.json).toMatchObject({ name: 'web', orgName: 'home' });
      expect(fake.project('home', 'web')).toBeDefined();
      // An explicit ?org still wins.
      expect((await call(fake, 'PUT', '/v1/projects/api?org=other')).json).toMatchObject({ orgName: 'other' });
    });

    it('PUT without ?org addresses the one project of that name, in whatever org', async () => {
      const fake = await startFake({ defaultOrg: 'home' });
      fake.createOrg('home');
      fake.createOrg('other');
      fake.createProject('other', 'web', 'old');
      const res = await call(fake, 'PUT', '/v1/projects/web', { description: 'new' });
      expect(res.status).toBe(200);
      expect(res.json).toMatchObject({ orgName: 'other', spec: { description: 'new' } });
      expect(fake.project('home', 'web')).toBeUndefined();
      expect(fake.lastEventId).toBe(3);
    });

    it('answers 409 without ?org when the name exists in several orgs', async () => {
      const fake = await startFake({ defaultOrg: 'a' });
      fake.createOrg('a');
      fake.createOrg('b');
      fake.createProject('b', 'web');
      fake.createProject('a', 'web');
      const ambiguous = errorBody(FakeMessages.projectAmbiguous('web', ['a', 'b']));
      for (const [method, path] of [
        ['GET', '/v1/projects/web'],
        ['GET', '/v1/projects/web/status'],
        ['PUT', '/v1/projects/web'],
        ['DELETE', '/v1/projects/web'],
      ] as const) {
        const res = await call(fake, method, path);
        expect(res.status).toBe(409);
        expect(res.json).toEqual(ambiguous);
      }
      expect((await call(fake, 'GET', '/v1/projects/web?org=b')).json).toMatchObject({ orgName: 'b' });
      expect((await call(fake, 'DELETE', '/v1/projects/web?org=a')).status).toBe(200);
      // A soft-deleted project still holds its name, so the name stays ambiguous.
      expect((await call(fake, 'GET', '/v1/projects/web')).status).toBe(409);
      expect(fake.lastEventId).toBe(5);
    });

    it('GET /v1/projects/{name} finds a unique name without ?org; 404 when absent', async () => {
      const fake = await startFake();
      fake.createOrg('acme');
      fake.createProject('acme', 'web');
      expect((await call(fake, 'GET', '/v1/projects/web')).json).toMatchObject({ name: 'web', orgName: 'acme' });
      const missing = await call(fake, 'GET', '/v1/projects/nope');
      expect(missing.status).toBe(404);
      expect(missing.json).toEqual(errorBody('project "nope" not found'));
      const missingInOrg = await call(fake, 'GET', '/v1/projects/nope?org=acme');
      expect(missingInOrg.json).toEqual(errorBody('project "nope" not found in org "acme"'));
      expect((await call(fake, 'GET', '/v1/projects/web?org=zzz')).json).toEqual(errorBody(FakeMessages.orgNotFound('zzz')));
    });

    it('GET /v1/projects lists active projects by org then name; ?org filters', async () => {
      const fake = await startFake();
      fake.createOrg('b');
      fake.createOrg('a');
      fake.createProject('b', 'x');
      fake.createProject('a', 'z');
      fake.createProject('a', 'y');
      fake.createProject('a', 'gone');
      fake.deleteProject('a', 'gone');
      const all = (await call(fake, 'GET', '/v1/projects')).json as ProjectView[];
      expect(all.map((p) => `${p.orgName}/${p.name}`)).toEqual(['a/y', 'a/z', 'b/x']);
      const inB = (await call(fake, 'GET', '/v1/projects?org=b')).json as ProjectView[];
      expect(inB.map((p) => p.name)).toEqual(['x']);
      expect((await call(fake, 'GET', '/v1/projects?org=nope')).status).toBe(404);
    });

    it('DELETE soft-deletes with one `deleted` event; then PUT and DELETE answer "marked for delete"', async () => {
      const fake = await startFake();
      const org = fake.createOrg('acme');
      const web = fake.createProject('acme', 'web');
      const res = await call(fake, 'DELETE', '/v1/projects/web?org=acme');
      expect(res.status).toBe(200);
      expect((res.json as ProjectView).status.projectStatus.statusIndicator).toBe('STATUS_INDICATION_DELETED');
      expect(fake.events[2]).toMatchObject({
        id: 3,
        eventType: 'deleted',
        resourceType: 'project',
        resourceId: web.id,
        orgId: org.id,
      });
      for (const [method, path] of [
        ['PUT', '/v1/projects/web?org=acme'],
        ['PUT', '/v1/projects/web'],
        ['DELETE', '/v1/projects/web?org=acme'],
        ['DELETE', '/v1/projects/web'],
      ] as const) {
        const again = await call(fake, method, path);
        expect(again.status).toBe(400);
        expect(again.json).toEqual(MARKED_FOR_DELETE);
      }
      expect((await call(fake, 'GET', '/v1/projects/web')).status).toBe(200);
      expect(fake.lastEventId).toBe(3);
      expect((await call(fake, 'DELETE', '/v1/projects/nope?org=acme')).status).toBe(404);
    });

    it('refuses a new project in a soft-deleted org with "marked for delete"', async () => {
      const fake = await startFake();
      fake.createOrg('acme');
      fake.deleteOrg('acme');
      const res = await call(fake, 'PUT', '/v1/projects/web?org=acme');
      expect(res.status).toBe(400);
      expect(res.json).toEqual(MARKED_FOR_DELETE);
      expect(() => fake.createProject('acme', 'web')).toThrow(FakeMessages.markedForDelete());
    });

    it('GET /v1/projects/{name}/status answers the projectStatus object', async () => {
      const fake = await startFake({ controllers: { project: ['p1'] } });
      fake.createOrg('acme');
      const web = fake.createProject('acme', 'web');
      const res = await call(fake, 'GET', '/v1/projects/web/status?org=acme');
      expect(res.status).toBe(200);
      expect(res.json).toEqual({
        projectStatus: {
          statusIndicator: 'STATUS_INDICATION_IN_PROGRESS',
          message: 'waiting for: p1',
          timeStamp: web.createdAt,
          uID: web.id,
        },
      });
      expect((await call(fake, 'GET', '/v1/projects/nope/status')).status).toBe(404);
    });
  });

  it('answers 405 for unsupported methods on public paths', async () => {
    const fake = await startFake();
    for (const [method, path] of [
      ['POST', '/v1/orgs'],
      ['PATCH', '/v1/orgs/acme'],
      ['PUT', '/v1/orgs/acme/status'],
      ['DELETE', '/v1/projects'],
      ['POST', '/v1/projects/web'],
      ['PUT', '/healthz'],
    ] as const) {
      const res = await call(fake, method, path);
      expect(res.status).toBe(405);
      expect(res.json).toEqual(errorBody(FakeMessages.methodNotAllowed(method)));
    }
  });

  describe('programmatic API', () => {
    it('mirrors the REST rules: taken names, unknown names, marked for delete', async () => {
      const fake = await startFake();
      fake.createOrg('acme');
      expect(() => fake.createOrg('acme')).toThrow(FakeMessages.orgExists('acme'));
      fake.createProject('acme', 'web');
      expect(() => fake.createProject('acme', 'web')).toThrow(FakeMessages.projectExists('web', 'acme'));
      expect(() => fake.createProject('nope', 'web')).toThrow(FakeMessages.orgNotFound('nope'));
      expect(() => fake.deleteOrg('nope')).toThrow(FakeMessages.orgNotFound('nope'));
      expect(() => fake.deleteProject('acme', 'nope')).toThrow(FakeMessages.projectNotFound('nope', 'acme'));
      fake.deleteProject('acme', 'web');
      expect(() => fake.deleteProject('acme', 'web')).toThrow(FakeMessages.markedForDelete());
      fake.deleteOrg('acme');
      expect(() => fake.deleteOrg('acme')).toThrow(FakeMessages.markedForDelete());
      expect(() => fake.createOrg('acme')).toThrow(FakeMessages.orgExists('acme'));
      expect(fake.lastEventId).toBe(4);
    });

    it('returns detached snapshots', async () => {
      const fake = await startFake();
      const created = fake.createOrg('acme', 'd');
      (created as { description: string }).description = 'changed';
      expect(fake.org('acme')?.description).toBe('d');
      expect(fake.org('nope')).toBeUndefined();
      expect(fake.project('acme', 'nope')).toBeUndefined();
    });
  });
});
