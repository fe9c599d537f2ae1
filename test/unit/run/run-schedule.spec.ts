import { SchedulerRegistry } from '@nestjs/schedule';
import { describe, expect, it } from 'vitest';
import { RunSchedule } from '../../../src/run/run-schedule.js';
import { TenancyConfigurationError } from '../../../src/tenancy.errors.js';
import { resolveTenancyOptions } from '../../../src/tenancy-options.resolver.js';

const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;

describe('RunSchedule', () => {
  it('without a SchedulerRegistry uses plain timers; stop() leaves none and releases every waiter', async () => {
    const before = timers();
    const schedule = new RunSchedule('c');
    const signal = new AbortController().signal;
    schedule.startPolling(60_000);
    schedule.startResync(3_600_000, () => {});
    const tick = schedule.nextTick(signal);
    const sleep = schedule.sleep(60_000, signal);
    expect(timers()).toBe(before + 3);
    schedule.stop();
    await Promise.all([tick, sleep]);
    expect(timers()).toBe(before);
    // After stop nothing waits or starts.
    await schedule.sleep(60_000, signal);
    schedule.startPolling(10);
    expect(timers()).toBe(before);
  });

  it('registers the poll and resync jobs under stable names; a second schedule of the same controller gets a suffix', () => {
    const registry = new SchedulerRegistry();
    const first = new RunSchedule('ctl', registry);
    const second = new RunSchedule('ctl', registry);
    first.startPolling(60_000);
    first.startResync('0 3 * * *', () => {});
    second.startPolling(60_000);
    expect(registry.getIntervals().sort()).toEqual(['tenancy:ctl:poll', 'tenancy:ctl:poll#2']);
    expect(registry.doesExist('cron', 'tenancy:ctl:resync')).toBe(true);
    first.stop();
    second.stop();
    expect(registry.getIntervals()).toEqual([]);
    expect(registry.doesExist('cron', 'tenancy:ctl:resync')).toBe(false);
  });

  it('resyncInterval accepts a cron expression, and an invalid one fails naming the option and the value', () => {
    const base = { url: 'http://127.0.0.1:1', controllerName: 'c' };
    expect(resolveTenancyOptions({ ...base, resyncInterval: '0 3 * * *' }).resyncInterval).toBe('0 3 * * *');
    expect(resolveTenancyOptions({ ...base, resyncInterval: 60_000 }).resyncInterval).toBe(60_000);
    expect(() => resolveTenancyOptions({ ...base, resyncInterval: 'every night' })).toThrow(TenancyConfigurationError);
    expect(() => resolveTenancyOptions({ ...base, resyncInterval: 'every night' })).toThrow(
      /option "resyncInterval" must be a number of milliseconds or a cron expression \(.*\) \(got "every night"\)/,
    );
    expect(() => resolveTenancyOptions({ ...base, resyncInterval: 0 })).toThrow(/"resyncInterval" must be positive/);
  });

  it('a cron resyncInterval that never fires (Feb 30) is rejected by the resolver, naming the option and the value', () => {
    const base = { url: 'http://127.0.0.1:1', controllerName: 'c' };
    const never = () => resolveTenancyOptions({ ...base, resyncInterval: '0 0 30 2 *' });
    expect(never).toThrow(TenancyConfigurationError);
    expect(never).toThrow(/TenancyModule option "resyncInterval" must be a cron expression that fires \(.*\) \(got "0 0 30 2 \*"\)/);
    // Rare but real dates still pass.
    expect(resolveTenancyOptions({ ...base, resyncInterval: '0 0 29 2 *' }).resyncInterval).toBe('0 0 29 2 *');
  });

  it('a cron resync that cannot start throws from startResync and leaves no job registered', () => {
    const registry = new SchedulerRegistry();
    const schedule = new RunSchedule('ctl', registry);
    expect(() => schedule.startResync('0 0 30 2 *', () => {})).toThrow(/No execution date/);
    expect(registry.doesExist('cron', 'tenancy:ctl:resync')).toBe(false);
    schedule.stop();
  });
});
