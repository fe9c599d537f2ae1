import { Injectable } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { OnTenancyEvent, type TenancyEvent } from 'nestjs-tenancy';
import { useFakeTenantManager } from '../support/fake-tenant-manager.harness.js';

const CONTROLLER = 'poller-lifecycle-controller';

/** 'settled' or 'pending' after `ms`: for promises that must not hang. */
const settlesWithin = (promise: Promise<unknown>, ms: number): Promise<'settled' | 'pending'> => {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<'pending'>((resolve) => (timer = setTimeout(() => resolve('pending'), ms)));
  return Promise.race([promise.then(() => 'settled' as const), bound]).finally(() => clearTimeout(timer));
};

@Injectable()
class Recorder {
  readonly seen: string[] = [];
  @OnTenancyEvent('org', 'created')
  handle(event: TenancyEvent): void {
    this.seen.push(event.resourceName);
  }
}

describe('poller start/stop lifecycle (e2e)', () => {
  const tm = useFakeTenantManager(CONTROLLER);
  const { apps } = tm;

  it('whenReady() called after stop() resolved settles at once, as whenIdle() does', async () => {
    const { poller } = await apps.start({ url: tm.url, controllerName: CONTROLLER }, [Recorder]);
    await poller.whenReady();
    await poller.stop();
    expect(await settlesWithin(poller.whenIdle(), 2_000)).toBe('settled');
    expect(await settlesWithin(poller.whenReady(), 2_000)).toBe('settled');
    expect(poller.isReady()).toBe(false);
  });

  it('whenReady() before any start() with autoStart false settles at once; after start() it waits for the replay', async () => {
    tm.fake.createOrg('acme');
    const { app, poller } = await apps.start({ url: tm.url, controllerName: CONTROLLER, autoStart: false }, [Recorder]);
    expect(await settlesWithin(poller.whenReady(), 2_000)).toBe('settled');
    expect(poller.isReady()).toBe(false);
    poller.start();
    await poller.whenReady();
    expect(poller.isReady()).toBe(true);
    await poller.whenIdle();
    expect(app.get(Recorder).seen).toEqual(['acme']);
  });
});
