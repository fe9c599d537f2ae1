import { Injectable } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
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

  it('closes promptly when idle and leaves no timers or sockets behind', async () => {
    const baseline = countHandles();
    tm.fake.createOrg('acme');
    const { app, poller } = await apps.start(
      { url: tm.url, controllerName: CONTROLLER, pollInterval: 60_000 },
      [Holder],
    );
    await poller.whenReady();
    await poller.whenIdle();
    expect(countHandles().TCPSocketWrap ?? 0).toBeGreaterThan(baseline.TCPSocketWrap ?? 0);
    // The poll timer (60 s) is pending now, so "back to baseline" below can fail.
    await waitFor(() => (countHandles().Timeout ?? 0) > (baseline.Timeout ?? 0), { message: 'a pending poll timer' });
    const started = Date.now();
    await app.close();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(poller.getStatus().phase).toBe('stopped');
    expect(poller.isReady()).toBe(false);
    // The keep-alive agent is destroyed and the poll timer cleared.
    await waitFor(() => {
      const now = countHandles();
      return (now.TCPSocketWrap ?? 0) <= (baseline.TCPSocketWrap ?? 0) && (now.Timeout ?? 0) <= (baseline.Timeout ?? 0);
    }, { message: `handles back to baseline ${JSON.stringify(baseline)} (now ${JSON.stringify(countHandles())})` });
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
});

function countHandles(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}
