import { Controller, Get, Injectable, type INestApplication } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { Test } from '@nestjs/testing';
import { Registry } from 'prom-client';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  OnTenancyEvent,
  type TenancyEvent,
  TenancyModule,
  TenancyPoller,
  type TenancyPollerPhase,
  TenancyTerminalError,
} from 'nestjs-tenancy';
import { TenancyHealthIndicator } from 'nestjs-tenancy/terminus';
import { useFakeTenantManager } from '../support/fake-tenant-manager.harness.js';
import { CapturingLogger, FAST_TIMINGS } from '../support/tenancy-test-app.js';
import { waitFor } from '../support/wait-for.js';

const CONTROLLER = 'ops-controller';
const isReplay = (r: { path: string; query: Record<string, string> }) =>
  r.path === '/v1/events' && r.query.replay === 'true';
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

/** Resource names whose events fail; set before an app starts, so replay sees it too. */
const failing = new Set<string>();

@Injectable()
class Flaky {
  @OnTenancyEvent('*', '*')
  handle(event: TenancyEvent): void {
    if (failing.has(event.resourceName)) throw new Error(`cannot handle ${event.resourceName}`);
  }
}

@Injectable()
class Terminal {
  @OnTenancyEvent('project', 'created')
  handle(event: TenancyEvent): void {
    if (event.resourceName === 'doomed') throw new TenancyTerminalError(`no quota for ${event.resourceName}`);
  }
}

describe('operability (e2e)', () => {
  const tm = useFakeTenantManager(CONTROLLER);
  const { apps } = tm;

  beforeEach(() => {
    failing.clear();
  });

  it('moves through idle → replaying → polling → stopping → stopped', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    @Injectable()
    class Gated {
      @OnTenancyEvent('org', 'created')
      async handle(): Promise<void> {
        await gate;
      }
    }
    const { app, poller } = await apps.start({ url: tm.url, controllerName: CONTROLLER, autoStart: false }, [Gated]);
    const seen: TenancyPollerPhase[] = [poller.getStatus().phase];
    const record = () => {
      const phase = poller.getStatus().phase;
      if (seen.at(-1) !== phase) seen.push(phase);
      return phase;
    };
    tm.fake.delay(200, isReplay, 1);
    poller.start();
    await waitFor(() => record() === 'polling');
    tm.fake.createOrg('acme');
    await waitFor(() => poller.getStatus().inFlight === 1);
    const closing = app.close();
    // Shutdown waits for the in-flight handler: "stopping" lasts until the gate opens.
    await waitFor(() => record() === 'stopping');
    release();
    await closing;
    record();
    expect(seen).toEqual(['idle', 'replaying', 'polling', 'stopping', 'stopped']);
    expect(poller.getStatus()).toMatchObject({ ready: false, alive: false });
  });

  it('a Tenant Manager outage makes the controller unready but never un-alive', async () => {
    const { poller } = await apps.start(
      { url: tm.url, controllerName: CONTROLLER, pollInterval: 20, maxBackoff: 40, httpTimeout: 100 },
      [Flaky],
    );
    await poller.whenReady();
    await tm.fake.stop(); // outage: connection refused from now on
    // Liveness tolerates 3 × max(pollInterval, maxBackoff, httpTimeout) = 300 ms without
    // an attempt; sample well past that and require "alive" every time.
    const started = Date.now();
    let samples = 0;
    await waitFor(
      () => {
        expect(poller.isAlive()).toBe(true);
        samples += 1;
        return Date.now() - started > 1_000;
      },
      { timeout: 5_000, interval: 20 },
    );
    expect(samples).toBeGreaterThan(10);
    const status = poller.getStatus();
    expect(status.counters.polls.failed).toBeGreaterThan(3);
    expect(status.lastPollSuccessAt!.getTime()).toBeLessThan(status.lastPollAttemptAt!.getTime());
    await tm.fake.start(Number(new URL(tm.url).port));
  });

  it('getStatus() reports counts, failing and parked events, cursors and counters', async () => {
    tm.fake.createOrg('acme');
    // A one-minute backoff keeps the failing event observably "retrying".
    failing.add('bad');
    const { poller } = await apps.start(
      { url: tm.url, controllerName: CONTROLLER, initialBackoff: 60_000, maxBackoff: 60_000 },
      [Flaky, Terminal],
    );
    await poller.whenIdle();
    const bad = tm.fake.createProject('acme', 'bad');
    tm.fake.createOrg('other');
    tm.fake.createProject('other', 'doomed');
    await waitFor(() => poller.getStatus().failingEvents.length === 1 && poller.getStatus().parked === 1, {
      interval: 2,
    });
    // Status writes are not awaited by the events: wait for them to land.
    await waitFor(() => poller.getStatus().statusWritesPending === 0);
    const status = poller.getStatus();
    expect(status.failingEvents[0]).toEqual({
      eventId: 2,
      eventType: 'created',
      resourceType: 'project',
      resourceId: bad.id,
      resourceName: 'bad',
      replay: false,
      attempts: 1,
      lastError: 'Flaky#handle: cannot handle bad',
    });
    expect(status.parkedEvents).toEqual([
      expect.objectContaining({ resourceName: 'doomed', attempts: 1, lastError: 'Terminal#handle: no quota for doomed' }),
    ]);
    expect(status).toMatchObject({ retrying: 1, inFlight: 0, queued: 0, parked: 1, phase: 'polling', ready: true });
    // The failing event holds the low-watermark back; the parked one does not.
    expect(status.completedEventId).toBe(1);
    expect(status.fetchCursor).toBe(tm.fake.lastEventId);
    expect(status.counters.events).toMatchObject({
      'org/created/success': 2,
      'project/created/failure': 1,
      'project/created/parked': 1,
    });
    expect(status.counters.retries).toBe(1);
    // Coalesced per resource (latest wins): at least in_progress + final row for each of the 4 events' resources.
    expect(status.counters.statusWrites.failed).toBe(0);
    expect(status.counters.statusWrites.ok).toBeGreaterThanOrEqual(4);
    expect(status.replay).toMatchObject({ total: 1, handled: 1 });
  });

  it('registers workqueue-style metrics on the host registry, without ids as labels', async () => {
    const registry = new Registry();
    tm.fake.createOrg('acme');
    tm.fake.createProject('acme', 'ok');
    tm.fake.createProject('acme', 'bad');
    failing.add('bad');
    const { poller } = await apps.start(
      { url: tm.url, controllerName: CONTROLLER, maxAttempts: 2, metrics: { registry } },
      [Flaky],
    );
    await poller.whenReady();
    await poller.whenIdle();
    const text = await registry.metrics();
    const value = (line: string) => {
      const found = text.split('\n').find((l) => l.startsWith(`${line} `));
      return found === undefined ? undefined : Number(found.slice(line.length + 1));
    };
    const c = `controller="${CONTROLLER}"`;
    expect(value(`tenancy_events_total{${c},resource_type="org",event_type="created",result="success"}`)).toBe(1);
    expect(value(`tenancy_events_total{${c},resource_type="project",event_type="created",result="success"}`)).toBe(1);
    expect(value(`tenancy_events_total{${c},resource_type="project",event_type="created",result="failure"}`)).toBe(1);
    expect(value(`tenancy_events_total{${c},resource_type="project",event_type="created",result="parked"}`)).toBe(1);
    expect(value(`tenancy_retries_total{${c}}`)).toBe(1);
    expect(value(`tenancy_handler_errors_total{${c},handler="Flaky#handle"}`)).toBe(2);
    expect(value(`tenancy_handler_duration_seconds_count{${c},handler="Flaky#handle"}`)).toBe(4);
    expect(value(`tenancy_parked_events{${c}}`)).toBe(1);
    expect(value(`tenancy_active_handlers{${c}}`)).toBe(0);
    expect(value(`tenancy_queue_depth{${c},phase="queued"}`)).toBe(0);
    expect(value(`tenancy_cursor{${c}}`)).toBe(tm.fake.lastEventId);
    expect(value(`tenancy_cursor_completed{${c}}`)).toBe(tm.fake.lastEventId);
    expect(value(`tenancy_polls_total{${c},result="success"}`)).toBeGreaterThanOrEqual(2);
    // Status writes coalesce per resource (latest wins): at least the final row of each of the three.
    expect(value(`tenancy_status_writes_total{${c},result="success"}`)).toBe(poller.getStatus().counters.statusWrites.ok);
    expect(value(`tenancy_status_writes_total{${c},result="success"}`)).toBeGreaterThanOrEqual(3);
    expect(value(`tenancy_status_writes_pending{${c}}`)).toBe(0);
    expect(value(`tenancy_last_poll_success_timestamp_seconds{${c}}`)).toBeGreaterThan(Date.now() / 1000 - 60);
    expect(value(`tenancy_replay_duration_seconds{${c}}`)).toBeGreaterThan(0);
    expect(value(`tenancy_leader{${c}}`)).toBe(1);
    for (const line of text.split('\n').filter((l) => l.startsWith('tenancy_'))) expect(line).not.toMatch(UUID);
  });

  it('logs each dispatch outcome once with structured fields', async () => {
    tm.fake.createOrg('acme');
    const bad = tm.fake.createProject('acme', 'bad');
    failing.add('bad');
    const { poller, logs } = await apps.start({ url: tm.url, controllerName: CONTROLLER, maxAttempts: 2 }, [Flaky]);
    await poller.whenReady();
    await poller.whenIdle();
    const failure = logs.lines.find((l) => l.level === 'error' && l.message.includes('failed (attempt 1)'));
    expect(failure?.message).toContain(`[${CONTROLLER}] `);
    expect(failure?.message).toContain('Flaky#handle: cannot handle bad');
    expect(failure?.fields).toMatchObject({
      eventId: 0,
      replay: true,
      eventType: 'created',
      resourceType: 'project',
      resourceId: bad.id,
      resourceName: 'bad',
      orgId: tm.fake.org('acme')!.id,
      handler: 'Flaky#handle',
      attempt: 1,
    });
    expect(typeof failure?.fields?.durationMs).toBe('number');
    expect(failure?.stack).toContain('cannot handle bad');
    const parked = logs.lines.find((l) => l.level === 'warn' && l.message.includes('parked after 2 attempt(s)'));
    expect(parked?.fields).toMatchObject({ attempt: 2, resourceName: 'bad' });
    const dispatches = logs.lines.filter((l) => l.fields?.dispatchId !== undefined);
    // org ok, bad ×2: one outcome line per attempt, each with its own dispatch id.
    expect(dispatches).toHaveLength(3);
    expect(new Set(dispatches.map((l) => l.fields!.dispatchId)).size).toBe(3);
  });

  it('a short replay logs no progress lines, only the final "replay handled" line', async () => {
    tm.fake.seed(30, 9);
    const { poller, logs } = await apps.start({ url: tm.url, controllerName: CONTROLLER }, [Flaky]);
    await poller.whenReady();
    await poller.whenIdle();
    await waitFor(() => logs.lines.some((l) => l.message.includes('replay handled: 300 event(s) in')));
    expect(logs.lines.filter((l) => l.message.includes('replay progress:'))).toEqual([]);
  });

  it('the terminus indicators answer readiness and liveness in a real HTTP app', async () => {
    @Controller('health')
    class HealthController {
      constructor(
        private readonly health: HealthCheckService,
        private readonly tenancy: TenancyHealthIndicator,
      ) {}
      @Get('ready')
      @HealthCheck()
      ready() {
        return this.health.check([() => this.tenancy.isReady('tenancy')]);
      }
      @Get('live')
      @HealthCheck()
      live() {
        return this.health.check([() => this.tenancy.isAlive('tenancy')]);
      }
    }
    tm.fake.createOrg('acme');
    tm.fake.delay(500, isReplay, 1);
    const moduleRef = await Test.createTestingModule({
      imports: [TenancyModule.forRoot({ ...FAST_TIMINGS, url: tm.url, controllerName: CONTROLLER }), TerminusModule],
      controllers: [HealthController],
      providers: [TenancyHealthIndicator, Flaky],
    })
      .setLogger(new CapturingLogger())
      .compile();
    const app: INestApplication = moduleRef.createNestApplication({ logger: false });
    apps.track(app);
    await app.listen(0, '127.0.0.1');
    const base = await app.getUrl();
    const before = await fetch(`${base}/health/ready`);
    expect(before.status).toBe(503);
    expect(await before.json()).toMatchObject({ status: 'error', error: { tenancy: { status: 'down', ready: false } } });
    const live = await fetch(`${base}/health/live`);
    expect(live.status).toBe(200);
    expect(await live.json()).toMatchObject({ status: 'ok', info: { tenancy: { status: 'up', controller: CONTROLLER } } });
    await app.get(TenancyPoller).whenReady();
    const after = await fetch(`${base}/health/ready`);
    expect(after.status).toBe(200);
    expect(await after.json()).toMatchObject({ status: 'ok', info: { tenancy: { status: 'up', phase: 'polling' } } });
  });
});
