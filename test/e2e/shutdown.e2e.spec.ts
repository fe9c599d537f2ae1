import { Injectable } from '@nestjs/common';
import { describe, expect, it, vi } from 'vitest';
import { OnTenancyEvent, type TenancyEvent, type TenancyEventContext } from 'nestjs-tenancy';
import { useFakeTenantManager } from '../support/fake-tenant-manager.harness.js';
import { waitFor } from '../support/wait-for.js';

const CONTROLLER = 'shutdown-controller';

/** Handles created tracking (resource, signal) so tests can hold or release them. */
@Injectable()
class Holder {
  readonly started: Array<{ name: string; signal: AbortSignal }> = [];
  readonly finished: string[] = [];
  mode: 'fast' | 'gated' | 'respects-abort' | 'hangs' = 'fast';
  private openGate!: () => void;
  readonly gate = new Promise<void>((resolve) => (this.openGate = resolve));

  open(): void {
    this.openGate();
  }

  @OnTenancyEvent('org', 'created')
  async handle(event: TenancyEvent, ctx: TenancyEventContext): Promise<void> {
    this.started.push({ name: event.resourceName, signal: ctx.signal });
    if (this.mode === 'respects-abort') {
      await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
      throw ctx.signal.reason;
    }
    if (this.mode === 'hangs') await new Promise(() => {});
    if (this.mode === 'gated') await this.gate;
    this.finished.push(event.resourceName);
  }
}

describe('shutdown (e2e)', () => {
  const tm = useFakeTenantManager(CONTROLLER);
  const { apps } = tm;

  // About the library's own resources, not process-wide handle counts (the test
  // runner's timers and sockets come and go): its connections to the Tenant
  // Manager (seen from the server side) and its poll job (the only 60 s interval).
  it('closes promptly when idle: its connections close and its pending poll timer is cleared', async () => {
    const POLL_INTERVAL = 60_000;
    const pollTimers: NodeJS.Timeout[] = [];
    const cleared = new Set<unknown>();
    // Pass-through (other code passes extra arguments too); only 60 s intervals are noted.
    const realSetInterval = globalThis.setInterval as (
      callback: (...args: unknown[]) => void,
      ms?: number,
      ...args: unknown[]
    ) => NodeJS.Timeout;
    const realClearInterval = globalThis.clearInterval;
    // The poll loop is one interval job per run (named in SchedulerRegistry when there is one).
    vi.spyOn(globalThis, 'setInterval').mockImplementation(((
      callback: (...args: unknown[]) => void,
      ms?: number,
      ...args: unknown[]
    ) => {
      const timer = realSetInterval(callback, ms, ...args);
      if (ms === POLL_INTERVAL) pollTimers.push(timer);
      return timer;
    }) as typeof setInterval);
    vi.spyOn(globalThis, 'clearInterval').mockImplementation(((timer?: NodeJS.Timeout | string | number) => {
      cleared.add(timer);
      realClearInterval(timer);
    }) as typeof clearInterval);
    try {
      tm.fake.createOrg('acme');
      const { app, poller } = await apps.start(
        { url: tm.url, controllerName: CONTROLLER, pollInterval: POLL_INTERVAL },
        [Holder],
      );
      await poller.whenReady();
      await poller.whenIdle();
      await waitFor(() => pollTimers.some((timer) => !cleared.has(timer)), { message: 'a pending 60 s poll timer' });
      expect(tm.fake.openConnections).toBeGreaterThan(0);
      const started = Date.now();
      await app.close();
      // 5x the few milliseconds an idle close takes on a loaded machine, and then some.
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(poller.getStatus().phase).toBe('stopped');
      expect(poller.isReady()).toBe(false);
      expect(pollTimers.filter((timer) => !cleared.has(timer))).toEqual([]);
      // The keep-alive agent is destroyed: the server sees its sockets close.
      await waitFor(() => tm.fake.openConnections === 0, {
        message: `the client's connections to close (open: ${tm.fake.openConnections})`,
      });
    } finally {
      vi.restoreAllMocks();
    }
  });

  it('waits for in-flight handlers, then stops', async () => {
    const { app, poller } = await apps.start(
      { url: tm.url, controllerName: CONTROLLER, shutdownTimeout: 3_000 },
      [Holder],
    );
    await poller.whenReady();
    const holder = app.get(Holder);
    holder.mode = 'gated';
    const org = tm.fake.createOrg('slow');
    await waitFor(() => holder.started.length === 1);
    const closing = app.close();
    // Shutdown is under way (no more polling) while the handler is still running.
    await waitFor(() => poller.getStatus().phase === 'stopping');
    holder.open();
    await closing;
    expect(holder.finished).toEqual(['slow']);
    expect(tm.fake.statusOf(CONTROLLER, 'org', org.id)?.status).toBe('completed');
  });

  it('aborts a handler that outlives shutdownTimeout and leaves its status for the next replay', async () => {
    const { app, poller, logs } = await apps.start(
      { url: tm.url, controllerName: CONTROLLER, shutdownTimeout: 200 },
      [Holder],
    );
    await poller.whenReady();
    const holder = app.get(Holder);
    holder.mode = 'respects-abort';
    const org = tm.fake.createOrg('stuck');
    await waitFor(() => holder.started.length === 1);
    const started = Date.now();
    await app.close();
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(holder.started[0].signal.aborted).toBe(true);
    expect(tm.fake.statusOf(CONTROLLER, 'org', org.id)?.status).toBe('in_progress');
    expect(logs.lines.some((l) => l.message.includes('still running after shutdownTimeout (200 ms)'))).toBe(true);
  });

  it('does not hang on a handler that ignores its abort signal', async () => {
    const { app, poller } = await apps.start(
      { url: tm.url, controllerName: CONTROLLER, shutdownTimeout: 200 },
      [Holder],
    );
    await poller.whenReady();
    const holder = app.get(Holder);
    holder.mode = 'hangs';
    tm.fake.createOrg('forever');
    await waitFor(() => holder.started.length === 1);
    const started = Date.now();
    await app.close();
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(poller.getStatus().phase).toBe('stopped');
  });

  it('poller.stop() alone (the app keeps running) leaves no connection to the Tenant Manager, and start() works again', async () => {
    tm.fake.createOrg('acme');
    const { poller } = await apps.start({ url: tm.url, controllerName: CONTROLLER }, [Holder]);
    await poller.whenIdle();
    expect(tm.fake.openConnections).toBeGreaterThan(0);
    await poller.stop();
    await waitFor(() => tm.fake.openConnections === 0, {
      message: `keep-alive sockets still open after stop(): ${tm.fake.openConnections}`,
    });
    poller.start();
    await poller.whenReady();
    tm.fake.createOrg('after-restart');
    await poller.whenIdle();
    await waitFor(() => tm.fake.statusRows(CONTROLLER).length === 2, { message: 'both orgs have a status row' });
  });
});
