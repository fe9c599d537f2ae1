import { Injectable } from '@nestjs/common';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { OnTenancyEvent, type TenancyEvent } from 'nestjs-tenancy';
import type { MatchableRequest } from 'nestjs-tenancy/testing';
import { useFakeTenantManager } from '../support/fake-tenant-manager.harness.js';
import { OrgCreatedRecorder } from '../support/org-created.recorder.js';
import { waitFor } from '../support/wait-for.js';

const CONTROLLER = 'in-progress-after-controller';
const ORGS = 40;

@Injectable()
class GatedHandler {
  readonly started: string[] = [];
  release?: () => void;
  private readonly gate = new Promise<void>((resolve) => (this.release = resolve));
  @OnTenancyEvent('org', 'created')
  async handle(event: TenancyEvent): Promise<void> {
    this.started.push(event.resourceName);
    await this.gate;
  }
}

@Injectable()
class HungHandler {
  started = 0;
  // Ignores ctx.signal and never settles.
  @OnTenancyEvent('org', 'created')
  handle(): Promise<void> {
    this.started += 1;
    return new Promise<void>(() => undefined);
  }
}

// A delay no other timer of the module uses, to pick out the in_progress timer.
const HUNG_IN_PROGRESS_AFTER = 3_456_789;

/** Tracks the timers armed with `delay` that neither fired nor were cleared. */
function trackTimers(delay: number): Set<NodeJS.Timeout> {
  const armed = new Set<NodeJS.Timeout>();
  const realSet = globalThis.setTimeout;
  const realClear = globalThis.clearTimeout;
  vi.spyOn(globalThis, 'setTimeout').mockImplementation(((fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    if (ms !== delay) return realSet(fn, ms, ...args);
    const handle: NodeJS.Timeout = realSet(
      (...a: unknown[]) => {
        armed.delete(handle);
        fn(...a);
      },
      ms,
      ...args,
    );
    armed.add(handle);
    return handle;
  }) as typeof setTimeout);
  vi.spyOn(globalThis, 'clearTimeout').mockImplementation(((handle?: NodeJS.Timeout) => {
    if (handle) armed.delete(handle);
    realClear(handle);
  }) as typeof clearTimeout);
  return armed;
}

const statusWrites = (requests: readonly MatchableRequest[]) =>
  requests.filter((r) => r.path === '/v1/status').map((r) => `${r.method} ${(r.body as { status?: string }).status ?? ''}`);

describe('status writes per event (e2e)', () => {
  const tm = useFakeTenantManager(CONTROLLER);

  it('default: in_progress then completed for every event, 2 status writes per event', async () => {
    for (let i = 0; i < ORGS; i += 1) tm.fake.createOrg(`org-${i}`);
    const { app, poller } = await tm.apps.start({ url: tm.url, controllerName: CONTROLLER }, [OrgCreatedRecorder]);
    await poller.whenReady();
    await poller.whenIdle();
    expect(app.get(OrgCreatedRecorder).handled).toHaveLength(ORGS);
    const writes = statusWrites(tm.fake.requests);
    expect(writes.length).toBe(2 * ORGS);
    expect(writes.filter((w) => w === 'PUT in_progress').length).toBe(ORGS);
    expect(writes.filter((w) => w === 'PUT completed').length).toBe(ORGS);
  });

  it('inProgressAfter: a handler done sooner costs one status write per event', async () => {
    for (let i = 0; i < ORGS; i += 1) tm.fake.createOrg(`org-${i}`);
    const { app, poller } = await tm.apps.start(
      { url: tm.url, controllerName: CONTROLLER, inProgressAfter: 60_000 },
      [OrgCreatedRecorder],
    );
    await poller.whenReady();
    await poller.whenIdle();
    expect(app.get(OrgCreatedRecorder).handled).toHaveLength(ORGS);
    expect(statusWrites(tm.fake.requests)).toEqual(Array.from({ length: ORGS }, () => 'PUT completed'));
  });

  it('inProgressAfter: a handler still running after it gets in_progress, then completed', async () => {
    const org = tm.fake.createOrg('slow');
    const { poller, app } = await tm.apps.start(
      { url: tm.url, controllerName: CONTROLLER, inProgressAfter: 20 },
      [GatedHandler],
    );
    const handler = app.get(GatedHandler);
    await waitFor(() => tm.fake.statusOf(CONTROLLER, 'org', org.id)?.status === 'in_progress', {
      message: 'in_progress once the handler ran past inProgressAfter',
    });
    expect(handler.started).toEqual(['slow']);
    handler.release?.();
    await poller.whenIdle();
    expect(tm.fake.statusOf(CONTROLLER, 'org', org.id)?.status).toBe('completed');
    expect(statusWrites(tm.fake.requests)).toEqual(['PUT in_progress', 'PUT completed']);
  });

  describe('a hung handler', () => {
    afterEach(() => vi.restoreAllMocks());

    it('inProgressAfter: stop() with a handler that ignores its abort leaves no in_progress timer armed', async () => {
      const armed = trackTimers(HUNG_IN_PROGRESS_AFTER);
      tm.fake.createOrg('hung');
      const { app, poller } = await tm.apps.start(
        { url: tm.url, controllerName: CONTROLLER, inProgressAfter: HUNG_IN_PROGRESS_AFTER, shutdownTimeout: 200 },
        [HungHandler],
      );
      await waitFor(() => app.get(HungHandler).started === 1, { message: 'the handler started' });
      expect(armed.size).toBe(1);
      await poller.stop();
      const left = armed.size;
      // Never keep the worker alive for an hour, whatever the outcome.
      for (const handle of armed) clearTimeout(handle);
      expect(left).toBe(0);
    });
  });
});
