import { Injectable, Module } from '@nestjs/common';
import { ScheduleModule, SchedulerRegistry } from '@nestjs/schedule';
import { Test } from '@nestjs/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { OnTenancyEvent, TenancyConfigurationError, TenancyModule, TenancyPoller } from 'nestjs-tenancy';
import { useFakeTenantManager } from '../support/fake-tenant-manager.harness.js';
import { CapturingLogger, FAST_TIMINGS } from '../support/tenancy-test-app.js';

const CONTROLLER = 'options-controller';

@Injectable()
class OrgHandler {
  readonly names: string[] = [];
  @OnTenancyEvent('org', 'created')
  onOrg(event: { resourceName: string }): void {
    this.names.push(event.resourceName);
  }
}

@Injectable()
class TenancySettings {
  readonly controllerName = CONTROLLER;
  url = '';
}

@Module({ providers: [TenancySettings], exports: [TenancySettings] })
class SettingsModule {}

describe('TenancyModule options (e2e)', () => {
  const tm = useFakeTenantManager(CONTROLLER);
  const { apps } = tm;

  beforeEach(() => {
    tm.fake.createOrg('acme');
  });

  it('forRootAsync resolves options from an injected provider', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        TenancyModule.forRootAsync({
          imports: [SettingsModule],
          inject: [TenancySettings],
          useFactory: (settings: TenancySettings) => ({ ...FAST_TIMINGS, url: tm.url, controllerName: settings.controllerName }),
        }),
      ],
      providers: [OrgHandler],
    })
      .setLogger(new CapturingLogger())
      .compile();
    apps.track(moduleRef);
    await moduleRef.init();
    const poller = moduleRef.get(TenancyPoller);
    await poller.whenReady();
    await poller.whenIdle();
    expect(moduleRef.get(OrgHandler).names).toEqual(['acme']);
    expect(tm.fake.requests.find((r) => r.path === '/v1/events')?.query.controller).toBe(CONTROLLER);
  });

  it('falls back to TENANT_MANAGER_URL when url is not given', async () => {
    const previous = process.env.TENANT_MANAGER_URL;
    process.env.TENANT_MANAGER_URL = tm.url;
    try {
      const { app, poller } = await apps.start({ url: undefined, controllerName: CONTROLLER }, [OrgHandler]);
      await poller.whenReady();
      await poller.whenIdle();
      expect(app.get(OrgHandler).names).toEqual(['acme']);
    } finally {
      if (previous === undefined) delete process.env.TENANT_MANAGER_URL;
      else process.env.TENANT_MANAGER_URL = previous;
    }
  });

  it.each([
    [{ pollLimit: 5_000 }, 'TenancyModule option "pollLimit" must be between 1 and 1000 (the Tenant Manager rejects more) (got 5000)'],
    [{ controllerName: '' }, 'TenancyModule option "controllerName" is required (got "")'],
    [{ pollInterval: -1 }, 'TenancyModule option "pollInterval" must be positive (got -1)'],
  ])('invalid options fail startup with a message naming the field: %j', async (bad, message) => {
    const build = Test.createTestingModule({
      imports: [TenancyModule.forRoot({ ...FAST_TIMINGS, url: tm.url, controllerName: CONTROLLER, ...bad })],
    })
      .setLogger(new CapturingLogger())
      .compile();
    await expect(build).rejects.toBeInstanceOf(TenancyConfigurationError);
    await expect(build).rejects.toThrow(message);
  });

  it('forRootAsync options are validated too', async () => {
    const build = Test.createTestingModule({
      imports: [
        TenancyModule.forRootAsync({
          useFactory: async () => ({ url: 'ftp://nope', controllerName: CONTROLLER }),
        }),
      ],
    })
      .setLogger(new CapturingLogger())
      .compile();
    await expect(build).rejects.toThrow('TenancyModule option "url" must be an http(s) URL (got "ftp://nope")');
  });

  it('registers its poll and resync jobs under stable names in the host SchedulerRegistry, and removes them at close', async () => {
    const { app, poller } = await apps.start(
      { url: tm.url, controllerName: CONTROLLER, pollInterval: 60_000, resyncInterval: 3_600_000 },
      [OrgHandler],
      { imports: [ScheduleModule.forRoot()] },
    );
    await poller.whenReady();
    await poller.whenIdle();
    const registry = app.get(SchedulerRegistry);
    expect(registry.getIntervals().filter((n) => n.startsWith('tenancy:')).sort()).toEqual([
      `tenancy:${CONTROLLER}:poll`,
      `tenancy:${CONTROLLER}:resync`,
    ]);
    // No per-sleep registrations.
    expect(registry.getTimeouts()).toEqual([]);
    await app.close();
    expect(registry.getIntervals().filter((n) => n.startsWith('tenancy:'))).toEqual([]);
  });

  it('a cron resync is a named cron job in the host SchedulerRegistry', async () => {
    const { app, poller } = await apps.start(
      { url: tm.url, controllerName: CONTROLLER, resyncInterval: '0 3 * * *' },
      [OrgHandler],
      { imports: [ScheduleModule.forRoot()] },
    );
    await poller.whenReady();
    const registry = app.get(SchedulerRegistry);
    const job = registry.getCronJob(`tenancy:${CONTROLLER}:resync`);
    expect(job.isActive).toBe(true);
    expect(job.nextDate().hour).toBe(3);
    await app.close();
    expect(registry.doesExist('cron', `tenancy:${CONTROLLER}:resync`)).toBe(false);
  });
});
