import { Injectable } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { OnTenancyEvent, type TenancyCoordinator, TenancyEvent, TenancyTerminalError } from 'nestjs-tenancy';
import { useFakeTenantManager } from '../support/fake-tenant-manager.harness.js';
import { waitFor } from '../support/wait-for.js';

// Defects found in review; each test failed before its fix.
const CONTROLLER = 'regression-controller';
const isReplay = (r: { query: Record<string, string> }) => r.query.replay === 'true';
/** 'settled' or 'hung' after a bound: for promises that must not hang. */
const settlesWithin = (promise: Promise<unknown>, ms: number) =>
  Promise.race([promise.then(() => 'settled'), new Promise((resolve) => setTimeout(() => resolve('hung'), ms))]);

@Injectable()
class NoOp {
  @OnTenancyEvent('*', '*')
  handle(): void {}
}

describe('review regressions (e2e)', () => {
  const tm = useFakeTenantManager(CONTROLLER);
  const { apps } = tm;

  it('an invalid replayed event (fresh createdAt every fetch) is skipped after 5 fetches, not retried forever', async () => {
    for (let i = 0; i < 30; i += 1) {
      const bad = {
        id: 0,
        eventType: 'created',
        resourceType: 'org',
        resourceId: '00000000-0000-0000-0000-000000000000',
        resourceName: 'bad',
        orgId: null,
        orgName: null,
        folderId: null,
        createdAt: new Date(Date.now() + i * 1_000).toISOString(),
      };
      tm.fake.failNext(1, { status: 200, match: isReplay, body: JSON.stringify({ events: [bad], lastEventId: 0 }) });
    }
    const { poller } = await apps.start(
      { url: tm.url, controllerName: CONTROLLER, initialBackoff: 1, maxBackoff: 5 },
      [NoOp],
    );
    await poller.whenReady();
    expect(tm.fake.requests.filter(isReplay)).toHaveLength(5);
  });

  it('whenIdle() settles after stop() even with events left in the queue', async () => {
    tm.fake.createOrg('a');
    for (let i = 0; i < 5; i += 1) tm.fake.createProject('a', `p${i}`);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    @Injectable()
    class Gated {
      @OnTenancyEvent('*', '*')
      async handle(): Promise<void> {
        await gate;
      }
    }
    const { poller } = await apps.start({ url: tm.url, controllerName: CONTROLLER, concurrency: 1 }, [Gated]);
    await poller.whenReady();
    const stopping = poller.stop();
    release();
    await stopping;
    expect(await settlesWithin(poller.whenIdle(), 2_000)).toBe('settled');
  });

  it('whenIdle() and whenReady() settle when the poller stops during a replay outage', async () => {
    tm.fake.failNext(1_000, { status: 500, match: isReplay });
    const { poller } = await apps.start({ url: tm.url, controllerName: CONTROLLER }, [NoOp]);
    const idle = poller.whenIdle();
    const ready = poller.whenReady();
    await poller.stop();
    expect(await settlesWithin(idle, 2_000)).toBe('settled');
    expect(await settlesWithin(ready, 2_000)).toBe('settled');
    expect(poller.isReady()).toBe(false);
  });

  it('retry() does not re-run a parked "created" once the resource was deleted (its row would block hard-delete)', async () => {
    let failCreate = true;
    @Injectable()
    class Handler {
      @OnTenancyEvent('project', '*')
      handle(event: TenancyEvent): void {
        if (event.eventType === 'created' && failCreate) throw new TenancyTerminalError('quota');
      }
    }
    tm.fake.createOrg('a');
    const { poller } = await apps.start({ url: tm.url, controllerName: CONTROLLER }, [Handler]);
    await poller.whenIdle();
    const project = tm.fake.createProject('a', 'web');
    await waitFor(() => poller.getStatus().parkedEvents.length === 1);
    tm.fake.deleteProject('a', 'web');
    await waitFor(() => poller.getStatus().completedEventId === tm.fake.lastEventId);
    await poller.whenIdle();
    expect(tm.fake.statusOf(CONTROLLER, 'project', project.id)).toBeUndefined();
    failCreate = false;
    expect(poller.getStatus().parkedEvents).toEqual([]);
    expect(poller.retry()).toBe(0);
    await poller.whenIdle();
    expect(tm.fake.statusOf(CONTROLLER, 'project', project.id)).toBeUndefined();
  });

  it('resyncs do not pile up parked copies of the same failing resource', async () => {
    @Injectable()
    class Refusing {
      @OnTenancyEvent('project', 'created')
      handle(): never {
        throw new TenancyTerminalError('no');
      }
    }
    tm.fake.createOrg('a');
    tm.fake.createProject('a', 'bad');
    const { poller } = await apps.start({ url: tm.url, controllerName: CONTROLLER }, [Refusing]);
    await poller.whenIdle();
    for (let i = 0; i < 5; i += 1) {
      await poller.resync();
      await poller.whenIdle();
    }
    expect(poller.getStatus().parkedEvents.map((e) => e.resourceName)).toEqual(['bad']);
  });

  it('a handler that resolves to the string "timeout" has not timed out', async () => {
    @Injectable()
    class Stringy {
      @OnTenancyEvent('org', 'created')
      handle(): string {
        return 'timeout';
      }
    }
    const org = tm.fake.createOrg('a');
    const { poller } = await apps.start(
      { url: tm.url, controllerName: CONTROLLER, handlerTimeout: 5_000, maxAttempts: 1 },
      [Stringy],
    );
    await poller.whenIdle();
    expect(poller.getStatus().parkedEvents).toEqual([]);
    expect(tm.fake.statusOf(CONTROLLER, 'org', org.id)?.status).toBe('completed');
  });

  it('resyncs behind a retrying poison event do not fill the queue and stall other orgs', async () => {
    tm.fake.createOrg('a');
    tm.fake.createProject('a', 'poison');
    for (let i = 0; i < 20; i += 1) tm.fake.createProject('a', `p${i}`);
    tm.fake.createOrg('b');
    const seen: string[] = [];
    @Injectable()
    class Poisoned {
      @OnTenancyEvent('*', '*')
      handle(event: TenancyEvent): void {
        seen.push(event.resourceName);
        if (event.resourceName === 'poison') throw new Error('boom');
      }
    }
    const { poller } = await apps.start(
      { url: tm.url, controllerName: CONTROLLER, maxQueuedEvents: 60, initialBackoff: 60_000, maxBackoff: 60_000 },
      [Poisoned],
    );
    await poller.whenReady();
    await waitFor(() => poller.getStatus().retrying === 1, { interval: 2 });
    const unfinished = () => {
      const { queued, retrying, inFlight } = poller.getStatus();
      return queued + retrying + inFlight;
    };
    for (let i = 0; i < 6; i += 1) {
      await poller.resync();
      // A resource holds at most two entries, one started and one waiting: poison
      // (retrying) and its resynced copy, the 20 siblings and org a's copy behind it,
      // org b in flight and its next copy. Before the fix every resync appended all
      // of org a's events again.
      expect(unfinished()).toBeLessThanOrEqual(25);
    }
    tm.fake.createProject('b', 'new-in-b');
    await waitFor(() => seen.includes('new-in-b'));
  });

  it('start() after stop() with coordination stands by again and is alive', async () => {
    const coordinator: TenancyCoordinator = {
      identity: 'me',
      retryPeriod: 10,
      renewDeadline: 1_000,
      acquire: async () => false,
      renew: async () => false,
      release: async () => {},
    };
    const { poller } = await apps.start({ url: tm.url, controllerName: CONTROLLER, coordination: coordinator }, [NoOp]);
    await waitFor(() => poller.getStatus().phase === 'standby' && poller.isAlive());
    await poller.stop();
    expect(poller.getStatus().phase).toBe('stopped');
    poller.start();
    await waitFor(() => poller.getStatus().phase === 'standby' && poller.isAlive());
    expect(poller.isReady()).toBe(false);
  });

  it('a resync snapshot older than a delete handled meanwhile does not recreate the resource', async () => {
    const calls: string[] = [];
    @Injectable()
    class Recorder {
      @OnTenancyEvent('project', '*')
      handle(event: TenancyEvent): void {
        calls.push(`${event.eventType}:${event.resourceName}`);
      }
    }
    tm.fake.createOrg('a');
    const project = tm.fake.createProject('a', 'p');
    const { poller } = await apps.start({ url: tm.url, controllerName: CONTROLLER }, [Recorder]);
    await poller.whenIdle();
    // A snapshot taken now (p active), delivered only after p's delete was handled.
    const stale = await (await fetch(`${tm.url}/v1/events?controller=${CONTROLLER}&replay=true`)).text();
    tm.fake.failNext(1, { status: 200, body: stale, match: isReplay });
    tm.fake.delay(400, isReplay, 1);
    const resyncing = poller.resync();
    tm.fake.deleteProject('a', 'p');
    await waitFor(() => calls.includes('deleted:p'));
    await resyncing;
    await poller.whenIdle();
    expect(calls).toEqual(['created:p', 'deleted:p']);
    expect(tm.fake.statusOf(CONTROLLER, 'project', project.id)).toBeUndefined();
  });

  it('a parked replayed event that is woken counts once toward replay progress', async () => {
    let refuse = true;
    @Injectable()
    class Once {
      @OnTenancyEvent('org', 'created')
      handle(event: TenancyEvent): void {
        if (refuse && event.resourceName === 'bad') throw new TenancyTerminalError('not yet');
      }
    }
    tm.fake.createOrg('bad');
    tm.fake.createOrg('good');
    tm.fake.createOrg('later');
    const { poller } = await apps.start({ url: tm.url, controllerName: CONTROLLER }, [Once]);
    await poller.whenIdle();
    expect(poller.getStatus().replay).toMatchObject({ total: 3, handled: 3 });
    refuse = false;
    expect(poller.retry()).toBe(1);
    await poller.whenIdle();
    expect(poller.getStatus().replay).toMatchObject({ total: 3, handled: 3 });
  });
});
