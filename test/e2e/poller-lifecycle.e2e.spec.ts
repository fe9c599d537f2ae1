import { describe, expect, it } from 'vitest';
import { useFakeTenantManager } from '../support/fake-tenant-manager.harness.js';
import { OrgCreatedRecorder } from '../support/org-created.recorder.js';

const CONTROLLER = 'poller-lifecycle-controller';

/** 'settled' or 'pending' after `ms`: for promises that must not hang. */
const settlesWithin = (promise: Promise<unknown>, ms: number): Promise<'settled' | 'pending'> => {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<'pending'>((resolve) => (timer = setTimeout(() => resolve('pending'), ms)));
  return Promise.race([promise.then(() => 'settled' as const), bound]).finally(() => clearTimeout(timer));
};

/**
 * Distinct objects whose class is named `className`, reachable from `root` through
 * properties, Map and Set entries (closures are invisible: a structural bound, not GC).
 */
function reachableInstances(root: unknown, className: string, cap = 500_000): { count: number; visited: number } {
  const seen = new Set<object>();
  const stack: unknown[] = [root];
  let count = 0;
  while (stack.length > 0 && seen.size < cap) {
    const value = stack.pop();
    if (value === null || (typeof value !== 'object' && typeof value !== 'function') || seen.has(value)) continue;
    seen.add(value);
    if (ArrayBuffer.isView(value)) continue;
    if ((value as object).constructor?.name === className) count += 1;
    if (value instanceof Map) for (const [key, entry] of value) stack.push(key, entry);
    if (value instanceof Set) for (const entry of value) stack.push(entry);
    for (const key of Reflect.ownKeys(value)) {
      const descriptor = Reflect.getOwnPropertyDescriptor(value, key);
      if (descriptor && 'value' in descriptor) stack.push(descriptor.value);
    }
  }
  return { count, visited: seen.size };
}

describe('poller start/stop lifecycle (e2e)', () => {
  const tm = useFakeTenantManager(CONTROLLER);
  const { apps } = tm;

  it('whenReady() called after stop() resolved settles at once, as whenIdle() does', async () => {
    const { poller } = await apps.start({ url: tm.url, controllerName: CONTROLLER }, [OrgCreatedRecorder]);
    await poller.whenReady();
    await poller.stop();
    expect(await settlesWithin(poller.whenIdle(), 2_000)).toBe('settled');
    expect(await settlesWithin(poller.whenReady(), 2_000)).toBe('settled');
    expect(poller.isReady()).toBe(false);
  });

  it('whenReady() before any start() with autoStart false settles at once; after start() it waits for the replay', async () => {
    tm.fake.createOrg('acme');
    const { app, poller } = await apps.start({ url: tm.url, controllerName: CONTROLLER, autoStart: false }, [OrgCreatedRecorder]);
    expect(await settlesWithin(poller.whenReady(), 2_000)).toBe('settled');
    expect(poller.isReady()).toBe(false);
    poller.start();
    await poller.whenReady();
    expect(poller.isReady()).toBe(true);
    await poller.whenIdle();
    expect(app.get(OrgCreatedRecorder).handled).toEqual(['acme']);
  });

  it('20 start()/stop() cycles keep at most one earlier run reachable from the current one', async () => {
    const { poller } = await apps.start({ url: tm.url, controllerName: CONTROLLER, autoStart: false }, [OrgCreatedRecorder]);
    for (let i = 0; i < 20; i += 1) {
      poller.start();
      await poller.whenReady();
      await poller.stop();
    }
    const current = (poller as unknown as { run?: object }).run;
    expect(current?.constructor.name).toBe('TenancyRun');
    const { count, visited } = reachableInstances(current, 'TenancyRun');
    expect(visited, 'the walk ended before the cap (the bound is proven)').toBeLessThan(500_000);
    expect(count, 'runs reachable from the current one, itself included').toBeLessThanOrEqual(2);
  });
});
