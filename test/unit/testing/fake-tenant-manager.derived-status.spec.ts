import { describe, expect, it } from 'vitest';
import type { FakeTenantManager, ResourceStatusDetail } from 'nestjs-tenancy/testing';
import { call, statusBody, useFakes } from './fake-harness.js';

describe('FakeTenantManager derived status', () => {
  const startFake = useFakes();

  /** Reads the status through REST and checks the programmatic view agrees. */
  async function projectStatus(fake: FakeTenantManager): Promise<Pick<ResourceStatusDetail, 'statusIndicator' | 'message'>> {
    const res = await call(fake, 'GET', '/v1/projects/web/status?org=acme');
    expect(res.status).toBe(200);
    expect(res.json).toEqual(fake.derivedStatus('project', 'web', 'acme'));
    const { statusIndicator, message } = (res.json as { projectStatus: ResourceStatusDetail }).projectStatus;
    return { statusIndicator, message };
  }

  async function put(fake: FakeTenantManager, controller: string, id: string, status: string, message = '') {
    expect((await call(fake, 'PUT', '/v1/status', statusBody(controller, id, status, message))).status).toBe(200);
  }

  async function remove(fake: FakeTenantManager, controller: string, id: string) {
    const body = { controller, resourceType: 'project', resourceId: id };
    expect((await call(fake, 'DELETE', '/v1/status', body)).status).toBe(200);
  }

  it('follows a project through create and delete across two registered controllers', async () => {
    const fake = await startFake({ controllers: ['c1', 'c2'] });
    fake.createOrg('acme');
    const { id } = fake.createProject('acme', 'web');

    expect(await projectStatus(fake)).toEqual({
      statusIndicator: 'STATUS_INDICATION_IN_PROGRESS',
      message: 'waiting for: c1, c2',
    });
    await put(fake, 'c1', id, 'in_progress');
    expect(await projectStatus(fake)).toEqual({
      statusIndicator: 'STATUS_INDICATION_IN_PROGRESS',
      message: 'waiting for: c2; in progress: c1',
    });
    await put(fake, 'c2', id, 'in_progress');
    await put(fake, 'c1', id, 'completed');
    expect(await projectStatus(fake)).toEqual({
      statusIndicator: 'STATUS_INDICATION_IN_PROGRESS',
      message: 'in progress: c2',
    });
    await put(fake, 'c2', id, 'error', 'quota exceeded');
    expect(await projectStatus(fake)).toEqual({ statusIndicator: 'STATUS_INDICATION_ERROR', message: 'quota exceeded' });
    await put(fake, 'c2', id, 'completed');
    expect(await projectStatus(fake)).toEqual({ statusIndicator: 'STATUS_INDICATION_IDLE', message: '' });

    fake.deleteProject('acme', 'web');
    expect(await projectStatus(fake)).toEqual({
      statusIndicator: 'STATUS_INDICATION_IN_PROGRESS',
      message: 'deleting, waiting for: c1, c2',
    });
    await remove(fake, 'c1', id);
    expect(await projectStatus(fake)).toEqual({
      statusIndicator: 'STATUS_INDICATION_IN_PROGRESS',
      message: 'deleting, waiting for: c2',
    });
    await put(fake, 'c2', id, 'error', 'cannot drop database');
    expect(await projectStatus(fake)).toEqual({
      statusIndicator: 'STATUS_INDICATION_ERROR',
      message: 'cannot drop database',
    });
    await remove(fake, 'c2', id);
    expect(await projectStatus(fake)).toEqual({ statusIndicator: 'STATUS_INDICATION_DELETED', message: '' });
  });

  it('ignores rows of unregistered controllers', async () => {
    const fake = await startFake({ controllers: ['c1'] });
    fake.createOrg('acme');
    const { id } = fake.createProject('acme', 'web');
    await put(fake, 'c1', id, 'completed');
    await put(fake, 'stranger', id, 'error', 'not mine');
    expect(await projectStatus(fake)).toEqual({ statusIndicator: 'STATUS_INDICATION_IDLE', message: '' });
    expect(fake.statusOf('stranger', 'project', id)?.status).toBe('error');
  });

  it('is idle (deleted) with no registered controllers', async () => {
    const fake = await startFake();
    fake.createOrg('acme');
    const { id } = fake.createProject('acme', 'web');
    await put(fake, 'c1', id, 'in_progress');
    expect(await projectStatus(fake)).toEqual({ statusIndicator: 'STATUS_INDICATION_IDLE', message: '' });
    fake.deleteProject('acme', 'web');
    expect(await projectStatus(fake)).toEqual({ statusIndicator: 'STATUS_INDICATION_DELETED', message: '' });
  });

  it('derives org and project status over the controllers registered for each type', async () => {
    const fake = await startFake({ controllers: { org: ['org-ctl'], project: ['proj-ctl'] } });
    const org = fake.createOrg('acme');
    fake.createProject('acme', 'web');
    expect(fake.derivedStatus('org', 'acme')?.orgStatus).toMatchObject({
      statusIndicator: 'STATUS_INDICATION_IN_PROGRESS',
      message: 'waiting for: org-ctl',
      uID: org.id,
    });
    expect(await projectStatus(fake)).toEqual({
      statusIndicator: 'STATUS_INDICATION_IN_PROGRESS',
      message: 'waiting for: proj-ctl',
    });
    // A project-type row for the org's id does not count for the org.
    await put(fake, 'org-ctl', org.id, 'completed');
    expect(fake.derivedStatus('org', 'acme')?.orgStatus.statusIndicator).toBe('STATUS_INDICATION_IN_PROGRESS');
    await call(fake, 'PUT', '/v1/status', statusBody('org-ctl', org.id, 'completed', '', 'org'));
    const res = await call(fake, 'GET', '/v1/orgs/acme/status');
    expect(res.json).toEqual(fake.derivedStatus('org', 'acme'));
    expect((res.json as { orgStatus: ResourceStatusDetail }).orgStatus.statusIndicator).toBe('STATUS_INDICATION_IDLE');
  });

  it('moves timeStamp to the latest registered row update', async () => {
    const fake = await startFake({ controllers: ['c1'] });
    fake.createOrg('acme');
    const { id } = fake.createProject('acme', 'web');
    await put(fake, 'c1', id, 'completed');
    const row = fake.statusOf('c1', 'project', id)!;
    expect(fake.derivedStatus('project', 'web', 'acme')?.projectStatus.timeStamp).toBe(row.updatedAt);
  });

  it('returns undefined for absent resources and throws for an ambiguous name', async () => {
    const fake = await startFake();
    expect(fake.derivedStatus('org', 'nope')).toBeUndefined();
    expect(fake.derivedStatus('project', 'nope')).toBeUndefined();
    fake.createOrg('a');
    fake.createOrg('b');
    fake.createProject('a', 'web');
    fake.createProject('b', 'web');
    expect(() => fake.derivedStatus('project', 'web')).toThrow(/ambiguous/);
    expect(fake.derivedStatus('project', 'web', 'b')?.projectStatus.uID).toBe(fake.project('b', 'web')?.id);
  });
});
