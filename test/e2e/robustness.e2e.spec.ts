import { Injectable } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { OnTenancyEvent, type TenancyEvent } from 'nestjs-tenancy';
import { useFakeTenantManager } from '../support/fake-tenant-manager.harness.js';
import { OrgCreatedRecorder } from '../support/org-created.recorder.js';
import { useUnhandledRejections } from '../support/unhandled-rejections.js';
import { waitFor } from '../support/wait-for.js';

const CONTROLLER = 'robust-controller';
const isStatusWrite = (r: { method: string; path: string }) => r.path === '/v1/status';
const isReplay = (r: { path: string; query: Record<string, string> }) =>
  r.path === '/v1/events' && r.query.replay === 'true';

describe('robustness (e2e)', () => {
  // Registered first: the listener is on before the fake starts and off after it stops.
  const unhandled = useUnhandledRejections();
  const tm = useFakeTenantManager(CONTROLLER);
  const { apps } = tm;

  it('wraps non-Error throws and rejections; nothing escapes as an unhandled rejection', async () => {
    @Injectable()
    class Weird {
      @OnTenancyEvent('project', 'created')
      handle(event: TenancyEvent): unknown {
        if (event.resourceName === 'string') throw 'plain string';
        if (event.resourceName === 'undefined') return Promise.reject(undefined);
        if (event.resourceName === 'object') return Promise.reject({ code: 42 });
        return undefined;
      }
    }
    tm.fake.createOrg('acme');
    const ids = Object.fromEntries(
      ['string', 'undefined', 'object'].map((n) => [n, tm.fake.createProject('acme', n).id]),
    );
    const { poller } = await apps.start({ url: tm.url, controllerName: CONTROLLER, maxAttempts: 1 }, [Weird]);
    await poller.whenIdle();
    const message = (name: string) => tm.fake.statusOf(CONTROLLER, 'project', ids[name])?.message;
    expect(message('string')).toBe('Weird#handle: non-Error thrown: plain string');
    expect(message('undefined')).toBe('Weird#handle: non-Error thrown: undefined');
    expect(message('object')).toBe('Weird#handle: non-Error thrown: {"code":42}');
    expect(poller.getStatus().parkedEvents).toHaveLength(3);
    expect(unhandled).toEqual([]);
  });

  it('an onError callback that throws is logged and never stops the poller', async () => {
    @Injectable()
    class Failing {
      @OnTenancyEvent('org', 'created')
      handle(event: TenancyEvent): void {
        if (event.resourceName === 'bad') throw new Error('nope');
      }
    }
    tm.fake.createOrg('bad');
    let calls = 0;
    const { poller, logs } = await apps.start(
      {
        url: tm.url,
        controllerName: CONTROLLER,
        maxAttempts: 1,
        onError: () => {
          calls += 1;
          throw new Error('callback bug');
        },
      },
      [Failing],
    );
    await poller.whenIdle();
    const good = tm.fake.createOrg('good');
    await waitFor(() => tm.fake.statusOf(CONTROLLER, 'org', good.id)?.status === 'completed');
    expect(calls).toBeGreaterThan(0);
    expect(logs.lines.some((l) => l.message.includes('onError callback threw: Error: callback bug'))).toBe(true);
    expect(unhandled).toEqual([]);
  });

  it('retries a failed status write in the background until it lands, without re-running the handler', async () => {
    let handled = 0;
    @Injectable()
    class Counting {
      @OnTenancyEvent('org', 'created')
      handle(): void {
        handled += 1;
      }
    }
    const { poller } = await apps.start({ url: tm.url, controllerName: CONTROLLER }, [Counting]);
    await poller.whenIdle();
    // The next three status writes fail: in_progress, completed, and completed's first retry.
    tm.fake.failNext(3, { status: 503, match: isStatusWrite });
    const org = tm.fake.createOrg('acme');
    await waitFor(() => tm.fake.statusOf(CONTROLLER, 'org', org.id)?.status === 'completed');
    await poller.whenIdle();
    expect(handled).toBe(1);
    const writes = tm.fake.requests.filter(isStatusWrite).map((r) => `${(r.body as { status: string }).status}:${r.status}`);
    expect(writes).toEqual(['in_progress:503', 'completed:503', 'completed:503', 'completed:200']);
    expect(poller.getStatus().counters.statusWrites).toEqual({ ok: 1, failed: 3 });
  });

  it('resyncInterval re-runs the replay periodically', async () => {
    let seen = 0;
    @Injectable()
    class Counting {
      @OnTenancyEvent('org', 'created')
      handle(): void {
        seen += 1;
      }
    }
    tm.fake.createOrg('acme');
    const { poller } = await apps.start({ url: tm.url, controllerName: CONTROLLER, resyncInterval: 100 }, [Counting]);
    await waitFor(() => tm.fake.requests.filter(isReplay).length >= 4, { message: 'three resyncs' });
    await waitFor(() => seen >= 4);
    expect(poller.getStatus().replay?.total).toBe(1);
  });

  it('survives a Tenant Manager that drops connections mid-request', async () => {
    const errors: string[] = [];
    tm.fake.failNext(2, { destroy: true, match: isReplay });
    tm.fake.createOrg('acme');
    const { app, poller } = await apps.start(
      { url: tm.url, controllerName: CONTROLLER, onError: (_e, m) => errors.push(m) },
      [OrgCreatedRecorder],
    );
    await poller.whenIdle();
    expect(app.get(OrgCreatedRecorder).handled).toEqual(['acme']);
    expect(errors.filter((m) => m.startsWith('Tenant Manager replay failed'))).toHaveLength(2);
  });
});
