import { Injectable } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { OnTenancyEvent, TenancyHandlerError, type TenancyEvent } from 'nestjs-tenancy';
import { useFakeTenantManager } from '../support/fake-tenant-manager.harness.js';
import { useUnhandledRejections } from '../support/unhandled-rejections.js';
import { waitFor } from '../support/wait-for.js';

const CONTROLLER = 'hostile-controller';
const MAX_ATTEMPTS = 3;

const fail = (): never => {
  throw new Error('hostile accessor');
};

function revokedProxy(): object {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
}

/** Values a handler (or onError) may throw that break naive String()/JSON/instanceof. */
const HOSTILE: Record<string, () => unknown> = {
  'undefined': () => undefined,
  'null': () => null,
  'a symbol': () => Symbol('sym'),
  'a null-prototype object': () => Object.create(null),
  'a null-prototype object with a throwing getter': () =>
    Object.create(null, { message: { get: fail, enumerable: true }, name: { get: fail, enumerable: true } }),
  'throwing toString and toJSON': () => ({ toString: fail, toJSON: fail }),
  'a throwing Symbol.toPrimitive': () => ({ [Symbol.toPrimitive]: fail, toJSON: fail }),
  'a revoked proxy': revokedProxy,
  'a proxy whose every trap throws': () =>
    new Proxy({}, { get: fail, getPrototypeOf: fail, ownKeys: fail, has: fail, getOwnPropertyDescriptor: fail }),
  'a cyclic object': () => {
    const cyclic: Record<string, unknown> = { toString: fail };
    cyclic.self = cyclic;
    return cyclic;
  },
  'an Error whose message getter throws': () => Object.defineProperty(new Error('x'), 'message', { get: fail }),
  'an Error whose message getter works once': () => {
    let reads = 0;
    return Object.defineProperty(new Error('x'), 'message', {
      get: () => {
        reads += 1;
        if (reads > 1) fail();
        return 'first read only';
      },
    });
  },
  'an Error with throwing name and stack getters': () =>
    Object.defineProperties(new Error('named badly'), { name: { get: fail }, stack: { get: fail } }),
  'a function with a throwing name': () => Object.defineProperty(() => undefined, 'name', { get: fail }),
};

const CASES = Object.keys(HOSTILE);

describe('hostile thrown values (e2e)', () => {
  // Registered first: on before the fake starts, off after it stops.
  const unhandled = useUnhandledRejections();
  const tm = useFakeTenantManager(CONTROLLER);
  const { apps } = tm;

  it.each([
    ['thrown synchronously', false],
    ['as a rejection', true],
  ])('every hostile value %s counts as a failed attempt, parks after maxAttempts, reaches onError and the status', async (_how, asRejection) => {
    @Injectable()
    class Hostile {
      @OnTenancyEvent('project', 'created')
      handle(event: TenancyEvent): unknown {
        const value = HOSTILE[event.resourceName]();
        if (asRejection) return Promise.reject(value);
        throw value;
      }
    }
    const received: Array<{ error: Error; message: string }> = [];
    tm.fake.createOrg('acme');
    const ids = new Map(CASES.map((name) => [tm.fake.createProject('acme', name).id, name]));
    const { poller } = await apps.start(
      {
        url: tm.url,
        controllerName: CONTROLLER,
        maxAttempts: MAX_ATTEMPTS,
        onError: (error, message) => {
          received.push({ error, message });
        },
      },
      [Hostile],
    );
    await waitFor(() => poller.getStatus().parked === CASES.length, {
      timeout: 15_000,
      message: `all ${CASES.length} hostile cases parked (status: ${JSON.stringify(poller.getStatus().failingEvents)})`,
    });
    // Status writes are not awaited by the attempts: let the last ones land first.
    await poller.whenIdle();
    const parked = poller.getStatus().parkedEvents;
    for (const issue of parked) {
      const name = ids.get(issue.resourceId)!;
      expect(issue.attempts, name).toBe(MAX_ATTEMPTS);
      expect(issue.lastError, name).toMatch(/^Hostile#handle: /);
      const row = tm.fake.statusOf(CONTROLLER, 'project', issue.resourceId);
      expect(row?.status, name).toBe('error');
      expect(row?.message, name).toBe(issue.lastError);
      const forThis = received.filter((r) => r.error instanceof TenancyHandlerError && r.message.includes(`"${name}"`));
      expect(forThis, name).toHaveLength(MAX_ATTEMPTS);
      expect((forThis[0].error as TenancyHandlerError).handlers, name).toEqual(['Hostile#handle']);
      expect(typeof forThis[0].error.message, name).toBe('string');
    }
    expect(parked.map((p) => ids.get(p.resourceId)).sort()).toEqual([...CASES].sort());
    expect(unhandled).toEqual([]);
  });

  it('two hostile handlers on one event: one aggregated error naming both', async () => {
    @Injectable()
    class First {
      @OnTenancyEvent('org', 'created')
      handle(): never {
        throw revokedProxy();
      }
    }
    @Injectable()
    class Second {
      @OnTenancyEvent('org', 'created')
      handle(): Promise<never> {
        return Promise.reject(Object.create(null));
      }
    }
    const errors: Error[] = [];
    const org = tm.fake.createOrg('acme');
    const { poller } = await apps.start(
      { url: tm.url, controllerName: CONTROLLER, maxAttempts: 2, onError: (error) => errors.push(error) },
      [First, Second],
    );
    await waitFor(() => poller.getStatus().parked === 1);
    await poller.whenIdle(); // the error write is not awaited by the attempt
    const issue = poller.getStatus().parkedEvents[0];
    expect(issue.attempts).toBe(2);
    expect(issue.lastError).toMatch(/^First#handle: .+; Second#handle: .+$/);
    // Status writes are not awaited by the attempt: the row follows shortly after parking.
    await waitFor(() => tm.fake.statusOf(CONTROLLER, 'org', org.id)?.status === 'error', { message: 'error status row' });
    const handlerErrors = errors.filter((e): e is TenancyHandlerError => e instanceof TenancyHandlerError);
    expect(handlerErrors).toHaveLength(2);
    expect(handlerErrors[0].handlers).toEqual(['First#handle', 'Second#handle']);
    expect(handlerErrors[0].cause).toBeInstanceOf(AggregateError);
    expect(unhandled).toEqual([]);
  });

  it.each(CASES)('an onError that throws %s is logged and the poller carries on', async (name) => {
    @Injectable()
    class Failing {
      @OnTenancyEvent('org', 'created')
      handle(event: TenancyEvent): void {
        if (event.resourceName.startsWith('bad')) throw new Error('nope');
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
          // Alternate: a synchronous throw, then an async callback's rejection.
          if (calls % 2 === 1) throw HOSTILE[name]();
          return Promise.reject(HOSTILE[name]()) as unknown as void;
        },
      },
      [Failing],
    );
    await poller.whenIdle();
    tm.fake.createOrg('bad-again');
    const good = tm.fake.createOrg('good');
    await waitFor(() => tm.fake.statusOf(CONTROLLER, 'org', good.id)?.status === 'completed');
    // Both failures reached onError: the throw and the rejection path ran.
    await waitFor(() => poller.getStatus().parked === 2);
    expect(calls).toBe(2);
    // One line for the synchronous throw and one for the rejection: both paths were caught.
    await waitFor(() => logs.lines.filter((l) => l.message.includes('onError callback threw: ')).length === 2);
    expect(unhandled).toEqual([]);
  });
});
