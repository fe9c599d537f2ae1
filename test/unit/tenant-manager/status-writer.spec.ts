import { Logger } from '@nestjs/common';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { StatusWriter } from '../../../src/tenant-manager/status-writer.js';
import { TenantManagerRequestError } from '../../../src/tenancy.errors.js';
import type { TenantManagerClient } from '../../../src/tenant-manager/tenant-manager.client.js';
import { resolveTenancyOptions } from '../../../src/tenancy-options.resolver.js';
import { TenancyLogger } from '../../../src/telemetry/tenancy-logger.js';
import { TenancyTelemetry } from '../../../src/telemetry/tenancy.telemetry.js';
import { waitFor } from '../../support/wait-for.js';

/** A client whose calls are recorded and answered by the test. */
class ScriptedClient {
  readonly calls: string[] = [];
  private readonly pending: Array<{ call: string; resolve: () => void; reject: (e: Error) => void }> = [];
  /** Calls answered automatically: true = succeed, false = fail; undefined = wait for the test. */
  auto: boolean | undefined = true;

  putStatus(resourceType: string, resourceId: string, status: string, message: string): Promise<void> {
    return this.answer(`PUT ${resourceType}/${resourceId} ${status}${message ? ` "${message}"` : ''}`);
  }
  deleteStatus(resourceType: string, resourceId: string): Promise<void> {
    return this.answer(`DELETE ${resourceType}/${resourceId}`);
  }
  settleNext(ok: boolean): void {
    const next = this.pending.shift();
    if (!next) throw new Error('no pending call');
    if (ok) next.resolve();
    else next.reject(new Error(`refused ${next.call}`));
  }
  get waiting(): number {
    return this.pending.length;
  }
  private answer(call: string): Promise<void> {
    this.calls.push(call);
    if (this.auto === true) return Promise.resolve();
    if (this.auto === false) return Promise.reject(new Error(`refused ${call}`));
    return new Promise((resolve, reject) => this.pending.push({ call, resolve, reject }));
  }
}

const options = (overrides: Record<string, unknown> = {}) =>
  resolveTenancyOptions({ url: 'http://127.0.0.1:1', controllerName: 'c', initialBackoff: 5, maxBackoff: 20, ...overrides });

describe('StatusWriter', () => {
  // Failed writes are logged by design; keep the test output readable.
  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(['log', 'error', 'warn', 'debug', 'verbose', 'fatal']));
  const reporters: StatusWriter[] = [];
  const telemetry = new Map<StatusWriter, TenancyTelemetry>();
  const writes = (reporter: StatusWriter) => telemetry.get(reporter)!.counters().statusWrites;
  const make = (client: ScriptedClient, overrides?: Record<string, unknown>) => {
    const resolved = options(overrides);
    const reporter = new StatusWriter(
      client as unknown as TenantManagerClient,
      resolved,
      new TenancyTelemetry(resolved, new TenancyLogger(resolved)),
      new TenancyLogger(resolved),
    );
    telemetry.set(reporter, (reporter as unknown as { telemetry: TenancyTelemetry }).telemetry);
    reporters.push(reporter);
    return reporter;
  };
  afterEach(async () => {
    for (const reporter of reporters.splice(0)) await reporter.close(Date.now());
  });

  it('sends a write and resolves true when it lands', async () => {
    const client = new ScriptedClient();
    const reporter = make(client);
    await expect(reporter.report('project', 'p1', { kind: 'put', status: 'completed', message: '' })).resolves.toBe(true);
    expect(client.calls).toEqual(['PUT project/p1 completed']);
    expect(reporter.pending).toBe(0);
    expect(writes(reporter)).toEqual({ ok: 1, failed: 0 });
  });

  it('retries a failed write in the background until it lands, and never rejects', async () => {
    const client = new ScriptedClient();
    client.auto = false;
    const reporter = make(client);
    await expect(reporter.report('project', 'p1', { kind: 'put', status: 'completed', message: '' })).resolves.toBe(false);
    expect(reporter.pending).toBe(1);
    await waitFor(() => client.calls.length >= 3);
    client.auto = true;
    await reporter.whenIdle();
    expect(new Set(client.calls)).toEqual(new Set(['PUT project/p1 completed']));
    expect(writes(reporter).ok).toBe(1);
    expect(writes(reporter).failed).toBe(client.calls.length - 1);
  });

  it('a newer state supersedes a failed older one waiting for its retry', async () => {
    const client = new ScriptedClient();
    client.auto = false;
    const reporter = make(client, { initialBackoff: 60_000, maxBackoff: 60_000 });
    await reporter.report('project', 'p1', { kind: 'put', status: 'completed', message: '' });
    client.auto = true;
    await expect(reporter.report('project', 'p1', { kind: 'delete' })).resolves.toBe(true);
    await reporter.whenIdle();
    expect(client.calls).toEqual(['PUT project/p1 completed', 'DELETE project/p1']);
  });

  it('keeps one request per resource in flight; only the newest waiting state is sent after it', async () => {
    const client = new ScriptedClient();
    client.auto = undefined;
    const reporter = make(client);
    const first = reporter.report('project', 'p1', { kind: 'put', status: 'in_progress', message: '' });
    const second = reporter.report('project', 'p1', { kind: 'put', status: 'error', message: 'boom' });
    const third = reporter.report('project', 'p1', { kind: 'put', status: 'completed', message: '' });
    const other = reporter.report('org', 'o1', { kind: 'put', status: 'completed', message: '' });
    expect(client.calls).toEqual(['PUT project/p1 in_progress', 'PUT org/o1 completed']);
    await expect(second).resolves.toBe(false); // superseded before it was sent
    client.settleNext(true);
    client.settleNext(true);
    await expect(first).resolves.toBe(true);
    await expect(other).resolves.toBe(true);
    await waitFor(() => client.waiting === 1);
    client.settleNext(true);
    await expect(third).resolves.toBe(true);
    expect(client.calls).toEqual(['PUT project/p1 in_progress', 'PUT org/o1 completed', 'PUT project/p1 completed']);
  });

  it('never coalesces away an in_progress that was not sent yet: the outcome follows it', async () => {
    const client = new ScriptedClient();
    client.auto = undefined;
    const reporter = make(client, { concurrency: 1 });
    void reporter.report('org', 'o1', { kind: 'put', status: 'completed', message: '' });
    // o1 holds the only request slot: p1's writes wait.
    const started = reporter.report('project', 'p1', { kind: 'put', status: 'in_progress', message: '' });
    const failed = reporter.report('project', 'p1', { kind: 'put', status: 'error', message: 'boom' });
    const done = reporter.report('project', 'p1', { kind: 'put', status: 'completed', message: '' });
    await expect(failed).resolves.toBe(false); // the outcome behind in_progress is still coalesced
    client.settleNext(true);
    await waitFor(() => client.waiting === 1);
    client.settleNext(true);
    await expect(started).resolves.toBe(true);
    await waitFor(() => client.waiting === 1);
    client.settleNext(true);
    await expect(done).resolves.toBe(true);
    expect(client.calls).toEqual(['PUT org/o1 completed', 'PUT project/p1 in_progress', 'PUT project/p1 completed']);
  });

  it('says when too many resources wait, and when there is room again', async () => {
    const client = new ScriptedClient();
    client.auto = undefined;
    const reporter = make(client, { concurrency: 1 });
    for (let i = 0; i < 1_024; i += 1) reporter.post('org', `o${i}`, { kind: 'delete' });
    expect(reporter.congested).toBe(true);
    let roomy = false;
    const room = reporter.whenRoom().then(() => (roomy = true));
    await Promise.resolve();
    expect(roomy).toBe(false);
    client.settleNext(true);
    await room;
    expect(reporter.congested).toBe(false);
    client.auto = true;
    client.settleNext(true);
    await reporter.whenIdle();
    expect(client.calls.length).toBe(1_024);
  });

  it('releaseRoomWaiters(): callers held back by a congested writer go at once, and nobody is held back after', async () => {
    const client = new ScriptedClient();
    client.auto = undefined;
    const reporter = make(client, { concurrency: 1 });
    for (let i = 0; i < 1_024; i += 1) reporter.post('org', `o${i}`, { kind: 'delete' });
    let released = false;
    const held = reporter.whenRoom().then(() => (released = true));
    await Promise.resolve();
    expect(released).toBe(false);
    // Nothing landed: the backlog is as large as before, yet the waiter goes.
    reporter.releaseRoomWaiters();
    await held;
    expect(reporter.pending).toBe(1_024);
    expect(reporter.congested).toBe(false);
    reporter.post('org', 'one-more', { kind: 'delete' });
    expect(reporter.congested).toBe(false);
    // The writes themselves still go out: only the hold-back is lifted.
    client.auto = true;
    client.settleNext(true);
    await reporter.whenIdle();
    expect(client.calls.length).toBe(1_025);
  });

  it('an older write never lands after a newer one, even when the older fails while the newer waits', async () => {
    const client = new ScriptedClient();
    client.auto = undefined;
    const reporter = make(client);
    void reporter.report('project', 'p1', { kind: 'put', status: 'completed', message: '' });
    const newer = reporter.report('project', 'p1', { kind: 'delete' });
    client.settleNext(false); // the older fails: it must not be retried over the newer
    await waitFor(() => client.waiting === 1);
    client.settleNext(true);
    await expect(newer).resolves.toBe(true);
    await reporter.whenIdle();
    expect(client.calls).toEqual(['PUT project/p1 completed', 'DELETE project/p1']);
  });

  it('caps long messages well under the 64 KiB body limit', async () => {
    const client = new ScriptedClient();
    const reporter = make(client);
    await reporter.report('project', 'p1', { kind: 'put', status: 'error', message: 'x'.repeat(100_000) });
    const sent = client.calls[0].length;
    expect(sent).toBeLessThan(9_000);
    expect(client.calls[0].endsWith('…"')).toBe(true);
  });

  it('close() gives waiting retries one last attempt now and reports what was left unsent', async () => {
    const client = new ScriptedClient();
    client.auto = false;
    const reporter = make(client, { initialBackoff: 60_000, maxBackoff: 60_000 });
    await reporter.report('project', 'p1', { kind: 'put', status: 'completed', message: '' });
    await reporter.report('project', 'p2', { kind: 'delete' });
    client.auto = true;
    await expect(reporter.close(Date.now() + 1_000)).resolves.toBe(0);
    expect(client.calls).toEqual([
      'PUT project/p1 completed',
      'DELETE project/p2',
      'PUT project/p1 completed',
      'DELETE project/p2',
    ]);
  });

  it('close() stops retrying writes that still fail', async () => {
    const client = new ScriptedClient();
    client.auto = false;
    const reporter = make(client, { initialBackoff: 60_000, maxBackoff: 60_000 });
    await reporter.report('project', 'p1', { kind: 'put', status: 'completed', message: '' });
    await expect(reporter.close(Date.now() + 1_000)).resolves.toBe(0);
    expect(client.calls).toHaveLength(2);
    expect(reporter.pending).toBe(0);
  });
});

/** A status port whose calls wait for the test, seeing the abort signal. */
class HeldClient {
  readonly calls: Array<{ call: string; signal?: AbortSignal; at: number; settle: (error?: Error) => void }> = [];
  putStatus(resourceType: string, resourceId: string, status: string, _message: string, signal?: AbortSignal): Promise<void> {
    return this.hold(`PUT ${resourceType}/${resourceId} ${status}`, signal);
  }
  deleteStatus(resourceType: string, resourceId: string, signal?: AbortSignal): Promise<void> {
    return this.hold(`DELETE ${resourceType}/${resourceId}`, signal);
  }
  private hold(call: string, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
      this.calls.push({ call, signal, at: Date.now(), settle: (error) => (error ? reject(error) : resolve()) });
    });
  }
}

describe('StatusWriter: the end of a run and a struggling endpoint', () => {
  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(['log', 'error', 'warn', 'debug', 'verbose', 'fatal']));
  const make = (client: HeldClient, overrides: Record<string, unknown> = {}) => {
    const resolved = options(overrides);
    return new StatusWriter(client as unknown as TenantManagerClient, resolved, new TenancyTelemetry(resolved, new TenancyLogger(resolved)), new TenancyLogger(resolved));
  };
  const put = { kind: 'put', status: 'completed', message: '' } as const;

  it('close(): nothing is sent after it resolves, not even a newer write that waited behind one in flight', async () => {
    const client = new HeldClient();
    const writer = make(client);
    void writer.report('project', 'p1', { kind: 'put', status: 'in_progress', message: '' });
    const newer = writer.report('project', 'p1', put);
    await expect(writer.close(Date.now() + 50)).resolves.toBe(1);
    await expect(newer).resolves.toBe(false);
    expect(client.calls.map((c) => c.call)).toEqual(['PUT project/p1 in_progress']);
    expect(client.calls[0].signal?.aborted).toBe(true);
    await expect(writer.report('project', 'p2', put)).resolves.toBe(false);
    expect(client.calls).toHaveLength(1);
    expect(writer.pending).toBe(0);
  });

  it('abandon(): drops waiting writes, aborts those in flight, refuses new ones, and reports none of it as a failure', async () => {
    const client = new HeldClient();
    const writer = make(client);
    const first = writer.report('org', 'o1', put);
    void writer.report('org', 'o1', { kind: 'delete' });
    writer.abandon('leadership lost');
    await expect(first).resolves.toBe(false);
    expect(client.calls[0].signal?.aborted).toBe(true);
    await expect(writer.report('org', 'o2', put)).resolves.toBe(false);
    expect(client.calls.map((c) => c.call)).toEqual(['PUT org/o1 completed']);
    await writer.whenIdle();
    expect((writer as unknown as { telemetry: TenancyTelemetry }).telemetry.counters().statusWrites).toEqual({ ok: 0, failed: 0 });
  });

  it('keeps at most `concurrency` writes in flight; the others wait their turn', async () => {
    const client = new HeldClient();
    const writer = make(client, { concurrency: 2 });
    for (const id of ['a', 'b', 'c', 'd', 'e']) void writer.report('project', id, put);
    expect(client.calls.map((c) => c.call)).toEqual(['PUT project/a completed', 'PUT project/b completed']);
    client.calls[0].settle();
    await waitFor(() => client.calls.length === 3);
    expect(client.calls[2].call).toBe('PUT project/c completed');
    for (let i = 1; i < 5; i += 1) {
      await waitFor(() => client.calls.length > i);
      client.calls[i].settle();
    }
    await writer.whenIdle();
    expect(client.calls).toHaveLength(5);
    writer.abandon();
  });

  it("waits the server's Retry-After (capped by maxBackoff) before retrying a write", async () => {
    const client = new HeldClient();
    const writer = make(client, { initialBackoff: 1, maxBackoff: 10_000 });
    void writer.report('project', 'p1', put);
    client.calls[0].settle(new TenantManagerRequestError('HTTP 503', 503, { retryAfter: 400 }));
    await waitFor(() => client.calls.length === 2, { timeout: 5_000 });
    expect(client.calls[1].at - client.calls[0].at).toBeGreaterThanOrEqual(350);
    client.calls[1].settle();
    await writer.whenIdle();
    // A huge Retry-After is capped.
    const capped = make(client, { initialBackoff: 1, maxBackoff: 30 });
    void capped.report('project', 'p2', put);
    client.calls[2].settle(new TenantManagerRequestError('HTTP 429', 429, { retryAfter: 3_600_000 }));
    await waitFor(() => client.calls.length === 4, { timeout: 5_000 });
    client.calls[3].settle();
    await capped.whenIdle();
  });
});
