import { Injectable } from '@nestjs/common';
import { Counter, Registry } from 'prom-client';
import { beforeEach, describe, expect, it } from 'vitest';
import { OnTenancyEvent, TenancyConfigurationError, TenancyEvent, type TenancyModuleOptions } from 'nestjs-tenancy';
import { metricsControllerShared } from '../../src/tenancy.messages.js';
import { useFakeTenantManager } from '../support/fake-tenant-manager.harness.js';
import { CapturingLogger } from '../support/tenancy-test-app.js';

const A = 'metrics-a';
const B = 'metrics-b';

/** The metric names the README documents; every one must come and go with the apps. */
const DOCUMENTED = [
  'tenancy_events_total',
  'tenancy_handler_duration_seconds',
  'tenancy_handler_errors_total',
  'tenancy_retries_total',
  'tenancy_queue_depth',
  'tenancy_active_handlers',
  'tenancy_parked_events',
  'tenancy_polls_total',
  'tenancy_last_poll_success_timestamp_seconds',
  'tenancy_cursor',
  'tenancy_cursor_completed',
  'tenancy_status_writes_total',
  'tenancy_status_writes_pending',
  'tenancy_replay_duration_seconds',
  'tenancy_leader',
];

@Injectable()
class Succeeds {
  @OnTenancyEvent('*', 'created')
  handle(): void {}
}

@Injectable()
class FailsOnBad {
  @OnTenancyEvent('*', 'created')
  handle(event: TenancyEvent): void {
    if (event.resourceName === 'bad') throw new Error('cannot handle bad');
  }
}

/** One scrape: `value('name{labels}')` is the sample's number, or undefined when absent. */
async function scrape(registry: Registry): Promise<{ value(series: string): number | undefined; text: string }> {
  const text = await registry.metrics();
  const lines = text.split('\n');
  return {
    text,
    value(series) {
      const found = lines.find((l) => l.startsWith(`${series} `));
      return found === undefined ? undefined : Number(found.slice(series.length + 1));
    },
  };
}

const tenancyMetricNames = async (registry: Registry) =>
  (await registry.getMetricsAsJSON()).map((m) => m.name).filter((name) => name.startsWith('tenancy_')).sort();

describe('metrics: several controllers and app instances on one registry (e2e)', () => {
  const tm = useFakeTenantManager(A, { controllers: [A, B] });
  const { apps } = tm;
  let registry: Registry;
  let logs: CapturingLogger;

  beforeEach(() => {
    registry = new Registry();
    // Nest's logger override is process-wide: apps that run together share one.
    logs = new CapturingLogger();
    tm.fake.createOrg('acme');
    tm.fake.createProject('acme', 'ok');
    tm.fake.createProject('acme', 'bad');
  });

  const start = (controllerName: string, handler: typeof Succeeds | typeof FailsOnBad, extra: Partial<TenancyModuleOptions> = {}) =>
    apps.start({ url: tm.url, controllerName, maxAttempts: 1, metrics: { registry }, ...extra }, [handler], { logs });

  it('two controllers share the registry, each gauge reads its own controller, and a restart starts clean', async () => {
    const host = new Counter({ name: 'host_requests_total', help: 'The host app’s own metric.', registers: [registry] });
    host.inc();
    const a = await start(A, Succeeds);
    const b = await start(B, FailsOnBad);
    await Promise.all([a.poller.whenIdle(), b.poller.whenIdle()]);

    let s = await scrape(registry);
    const events = (controller: string, result: string) =>
      `tenancy_events_total{controller="${controller}",resource_type="project",event_type="created",result="${result}"}`;
    expect(s.value(events(A, 'success'))).toBe(2);
    expect(s.value(events(A, 'parked'))).toBeUndefined();
    expect(s.value(events(B, 'success'))).toBe(1);
    expect(s.value(events(B, 'parked'))).toBe(1);
    // Scrape-time gauges: one series per controller, each from its own poller.
    expect(s.value(`tenancy_parked_events{controller="${A}"}`)).toBe(0);
    expect(s.value(`tenancy_parked_events{controller="${B}"}`)).toBe(1);
    expect(s.value(`tenancy_cursor{controller="${A}"}`)).toBe(tm.fake.lastEventId);
    expect(s.value(`tenancy_cursor{controller="${B}"}`)).toBe(tm.fake.lastEventId);
    expect(s.value(`tenancy_leader{controller="${A}"}`)).toBe(1);
    expect(s.value(`tenancy_leader{controller="${B}"}`)).toBe(1);
    expect(s.value(`tenancy_handler_errors_total{controller="${B}",handler="FailsOnBad#handle"}`)).toBe(1);
    expect(await tenancyMetricNames(registry)).toEqual([...DOCUMENTED].sort());

    // A leaves: its series go, B's stay, the metrics stay registered for B.
    await a.app.close();
    s = await scrape(registry);
    expect(s.text).not.toContain(`controller="${A}"`);
    expect(s.value(events(B, 'parked'))).toBe(1);
    expect(s.value(`tenancy_parked_events{controller="${B}"}`)).toBe(1);
    // org acme, project ok, project bad: three attempts.
    expect(s.value(`tenancy_handler_duration_seconds_count{controller="${B}",handler="FailsOnBad#handle"}`)).toBe(3);

    // A starts again in the same process, on the same registry: no "already registered".
    const again = await start(A, Succeeds);
    await again.poller.whenIdle();
    s = await scrape(registry);
    // A fresh series: counted from this instance's own replay, not added to the old one.
    expect(s.value(events(A, 'success'))).toBe(2);
    expect(s.value(`tenancy_leader{controller="${A}"}`)).toBe(1);
    expect(s.value(`tenancy_parked_events{controller="${B}"}`)).toBe(1);
    expect(s.value(events(B, 'success'))).toBe(1);

    // Both leave: every tenancy metric is unregistered; the host's own metric stays.
    await again.app.close();
    await b.app.close();
    expect(await tenancyMetricNames(registry)).toEqual([]);
    expect(registry.getSingleMetric('host_requests_total')).toBe(host);
    expect((await scrape(registry)).value('host_requests_total')).toBe(1);
  });

  it('a stopped poller shows tenancy_leader 0 until the app closes', async () => {
    const a = await start(A, Succeeds);
    await a.poller.whenIdle();
    expect((await scrape(registry)).value(`tenancy_leader{controller="${A}"}`)).toBe(1);
    await a.poller.stop();
    expect((await scrape(registry)).value(`tenancy_leader{controller="${A}"}`)).toBe(0);
  });

  it('two instances with the same controller name share its series, with a warning; the last to leave removes them', async () => {
    const first = await start(A, Succeeds);
    await first.poller.whenIdle();
    const second = await start(A, Succeeds);
    await second.poller.whenIdle();
    expect(logs.lines.filter((l) => l.level === 'warn' && l.message.includes(metricsControllerShared(A)))).toHaveLength(1);
    const events = `tenancy_events_total{controller="${A}",resource_type="project",event_type="created",result="success"}`;
    expect((await scrape(registry)).value(events)).toBe(4);
    await first.app.close();
    expect((await scrape(registry)).value(events)).toBe(4);
    await second.app.close();
    expect(await tenancyMetricNames(registry)).toEqual([]);
  });

  it('refuses a registry holding a metric of the same name that is not ours, and registers nothing', async () => {
    new Counter({ name: 'tenancy_cursor', help: 'Someone else’s.', registers: [registry] });
    const failure = await start(A, Succeeds).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(TenancyConfigurationError);
    expect((failure as Error).message).toBe(
      'TenancyModule option "metrics": the registry already has a metric named tenancy_cursor that TenancyModule ' +
        'did not register (or with other labels than controller)',
    );
    expect(await tenancyMetricNames(registry)).toEqual(['tenancy_cursor']);
  });
});
