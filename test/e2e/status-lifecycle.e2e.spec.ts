import { Injectable } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { OnTenancyEvent, TenancyEvent, type TenancyEventContext, TenancyHandlerError } from 'nestjs-tenancy';
import type { FakeTenantManager } from 'nestjs-tenancy/testing';
import { useFakeTenantManager } from '../support/fake-tenant-manager.harness.js';
import { waitFor } from '../support/wait-for.js';

const CONTROLLER = 'lifecycle-controller';

/** Records every call; fails the resources named in `failing`. */
@Injectable()
class ProjectHandler {
  readonly calls: Array<{ event: TenancyEvent; ctx: TenancyEventContext }> = [];
  readonly failing = new Set<string>();

  @OnTenancyEvent('project', 'created')
  @OnTenancyEvent('project', 'deleted')
  handle(event: TenancyEvent, ctx: TenancyEventContext): void {
    this.calls.push({ event, ctx });
    if (this.failing.has(event.resourceName)) throw new Error(`cannot provision ${event.resourceName}`);
  }
}

const statusBodies = (fake: FakeTenantManager, resourceId: string) =>
  fake.requests
    .filter((r) => r.path === '/v1/status' && (r.body as { resourceId?: string })?.resourceId === resourceId)
    .map((r) => ({ method: r.method, body: r.body }));

describe('status lifecycle (e2e)', () => {
  const tm = useFakeTenantManager(CONTROLLER);
  const { apps } = tm;

  it('created: PUT in_progress, run the handler, PUT completed', async () => {
    tm.fake.createOrg('acme');
    const project = tm.fake.createProject('acme', 'web');
    const { app, poller } = await apps.start({ url: tm.url, controllerName: CONTROLLER }, [ProjectHandler]);
    await poller.whenReady();
    await poller.whenIdle();

    const handler = app.get(ProjectHandler);
    expect(handler.calls).toHaveLength(1);
    expect(handler.calls[0].event).toBeInstanceOf(TenancyEvent);
    expect(handler.calls[0].event).toMatchObject({ id: 0, resourceId: project.id, resourceName: 'web', orgName: 'acme' });
    expect(handler.calls[0].ctx).toMatchObject({ replay: true, attempt: 1 });
    expect(handler.calls[0].ctx.signal).toBeInstanceOf(AbortSignal);
    expect(statusBodies(tm.fake, project.id)).toEqual([
      {
        method: 'PUT',
        body: { controller: CONTROLLER, resourceType: 'project', resourceId: project.id, status: 'in_progress', message: '' },
      },
      {
        method: 'PUT',
        body: { controller: CONTROLLER, resourceType: 'project', resourceId: project.id, status: 'completed', message: '' },
      },
    ]);
    expect(tm.fake.statusOf(CONTROLLER, 'project', project.id)?.status).toBe('completed');
  });

  it('deleted: PUT in_progress, run the handler, DELETE the status row', async () => {
    tm.fake.createOrg('acme');
    const { app, poller } = await apps.start({ url: tm.url, controllerName: CONTROLLER }, [ProjectHandler]);
    await poller.whenReady();
    const project = tm.fake.createProject('acme', 'web');
    await waitFor(() => tm.fake.statusOf(CONTROLLER, 'project', project.id)?.status === 'completed');
    tm.fake.deleteProject('acme', 'web');
    await waitFor(() => app.get(ProjectHandler).calls.some((c) => c.event.eventType === 'deleted'));
    await poller.whenIdle();

    expect(statusBodies(tm.fake, project.id).slice(2)).toEqual([
      {
        method: 'PUT',
        body: { controller: CONTROLLER, resourceType: 'project', resourceId: project.id, status: 'in_progress', message: '' },
      },
      { method: 'DELETE', body: { controller: CONTROLLER, resourceType: 'project', resourceId: project.id } },
    ]);
    expect(tm.fake.statusOf(CONTROLLER, 'project', project.id)).toBeUndefined();
    const deleted = app.get(ProjectHandler).calls.find((c) => c.event.eventType === 'deleted')!;
    expect(deleted.ctx.replay).toBe(false);
    expect(deleted.event.id).toBeGreaterThan(0);
  });

  it('created failure: PUT error with "Class#method: text", then retried until it succeeds', async () => {
    tm.fake.createOrg('acme');
    const project = tm.fake.createProject('acme', 'web');
    const errors: string[] = [];
    const reported: unknown[] = [];
    // Configured before start: the replay must already see the failure.
    const handler = new ProjectHandler();
    handler.failing.add('web');
    const { poller } = await apps.start(
      {
        url: tm.url,
        controllerName: CONTROLLER,
        onError: (error, message) => {
          reported.push(error);
          errors.push(message);
        },
      },
      [{ provide: ProjectHandler, useValue: handler }],
    );
    await waitFor(() => tm.fake.statusOf(CONTROLLER, 'project', project.id)?.status === 'error');
    expect(tm.fake.statusOf(CONTROLLER, 'project', project.id)?.message).toBe('ProjectHandler#handle: cannot provision web');
    // onError gets a typed error naming the failed handlers and whether it was terminal.
    // The status write and the onError call are not ordered: wait for the report too.
    await waitFor(() => reported.length > 0, { message: 'onError to report the failed attempt' });
    expect(reported[0]).toBeInstanceOf(TenancyHandlerError);
    expect(reported[0]).toMatchObject({ handlers: ['ProjectHandler#handle'], terminal: false });
    expect(errors.some((m) => m.includes('ProjectHandler#handle: cannot provision web') && m.includes('attempt 1'))).toBe(
      true,
    );

    handler.failing.delete('web');
    await waitFor(() => tm.fake.statusOf(CONTROLLER, 'project', project.id)?.status === 'completed');
    const attempts = handler.calls.map((c) => c.ctx.attempt);
    expect(attempts[0]).toBe(1);
    expect(attempts.at(-1)).toBe(attempts.length);
    await poller.whenIdle();
  });

  it('deleted failure: PUT error (the row stays so the delete is replayed)', async () => {
    tm.fake.createOrg('acme');
    const project = tm.fake.createProject('acme', 'web');
    const { app, poller } = await apps.start(
      { url: tm.url, controllerName: CONTROLLER, maxAttempts: 1 },
      [ProjectHandler],
    );
    await poller.whenIdle();
    app.get(ProjectHandler).failing.add('web');
    tm.fake.deleteProject('acme', 'web');
    await waitFor(() => tm.fake.statusOf(CONTROLLER, 'project', project.id)?.status === 'error');
    await poller.whenIdle();
    expect(tm.fake.statusOf(CONTROLLER, 'project', project.id)?.message).toBe('ProjectHandler#handle: cannot provision web');
    expect(statusBodies(tm.fake, project.id).some((r) => r.method === 'DELETE')).toBe(false);
    expect(poller.getStatus().parkedEvents.map((e) => e.resourceName)).toEqual(['web']);
  });

  it('an org event gets no status calls when no handler follows orgs', async () => {
    const org = tm.fake.createOrg('acme');
    const { poller } = await apps.start({ url: tm.url, controllerName: CONTROLLER }, [ProjectHandler]);
    await poller.whenReady();
    await poller.whenIdle();
    expect(statusBodies(tm.fake, org.id)).toEqual([]);
  });

  it('a followed type gets the full lifecycle even for an event type no handler matches', async () => {
    @Injectable()
    class CreateOnly {
      @OnTenancyEvent('project', 'created')
      handle(): void {}
    }
    tm.fake.createOrg('acme');
    const project = tm.fake.createProject('acme', 'web');
    const { poller } = await apps.start({ url: tm.url, controllerName: CONTROLLER }, [CreateOnly]);
    await poller.whenIdle();
    tm.fake.deleteProject('acme', 'web');
    await waitFor(() => statusBodies(tm.fake, project.id).some((r) => r.method === 'DELETE'));
    expect(tm.fake.statusOf(CONTROLLER, 'project', project.id)).toBeUndefined();
  });

  it('sends X-Internal-Token on every controller-facing request when configured', async () => {
    await tm.replace({ internalToken: 's3cret' });
    tm.fake.createOrg('acme');
    const project = tm.fake.createProject('acme', 'web');
    const { poller } = await apps.start(
      { url: tm.url, controllerName: CONTROLLER, internalToken: 's3cret' },
      [ProjectHandler],
    );
    await waitFor(() => tm.fake.statusOf(CONTROLLER, 'project', project.id)?.status === 'completed');
    await poller.whenIdle();
    const internal = tm.fake.requests.filter((r) => r.path.startsWith('/v1/events') || r.path === '/v1/status');
    expect(internal.length).toBeGreaterThanOrEqual(3);
    expect(internal.every((r) => r.headers['x-internal-token'] === 's3cret' && r.status === 200)).toBe(true);
  });

  it('a wrong token is a failed request reported through onError, and nothing is handled', async () => {
    await tm.replace({ internalToken: 's3cret' });
    tm.fake.createOrg('acme');
    tm.fake.createProject('acme', 'web');
    const errors: string[] = [];
    const { app, poller } = await apps.start(
      { url: tm.url, controllerName: CONTROLLER, internalToken: 'wrong', onError: (_e, m) => errors.push(m) },
      [ProjectHandler],
    );
    await waitFor(() => errors.length >= 2);
    expect(errors[0]).toContain('HTTP 401 unauthorized');
    expect(poller.isReady()).toBe(false);
    expect(app.get(ProjectHandler).calls).toEqual([]);
  });
});
