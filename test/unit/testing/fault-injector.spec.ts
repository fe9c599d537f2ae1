import { describe, expect, it } from 'vitest';
import { FakeMessages } from '../../../src/testing/fake-tenant-manager.messages.js';
import { waitFor } from '../../support/wait-for.js';
import { call, errorBody, statusBody, useFakes } from './fake-harness.js';

const ID = '0b0e8f5e-4d0e-4a59-9a2f-1b2c3d4e5f60';

describe('FakeTenantManager fault injection', () => {
  const startFake = useFakes();

  it('failNext answers the next N requests with 500 {"error":"injected fault"} instead of handling them', async () => {
    const fake = await startFake();
    fake.failNext(2);
    const first = await call(fake, 'PUT', '/v1/status', statusBody('c1', ID, 'completed'));
    expect(first.status).toBe(500);
    expect(first.json).toEqual(errorBody('injected fault'));
    expect(fake.statusRows()).toEqual([]);
    expect((await call(fake, 'GET', '/healthz')).status).toBe(500);
    expect((await call(fake, 'PUT', '/v1/status', statusBody('c1', ID, 'completed'))).status).toBe(200);
    expect(fake.statusRows()).toHaveLength(1);
    expect(fake.requests.map((r) => r.status)).toEqual([500, 500, 200]);
  });

  it('failNext sends a custom status, or a raw malformed body with 200', async () => {
    const fake = await startFake();
    fake.createOrg('acme');
    fake.failNext(1, { status: 503 });
    fake.failNext(1, { status: 200, body: '{"events": [' });
    const unavailable = await call(fake, 'GET', '/v1/events?controller=c1');
    expect(unavailable.status).toBe(503);
    expect(unavailable.json).toEqual(errorBody(FakeMessages.injectedFault()));
    const malformed = await call(fake, 'GET', '/v1/events?controller=c1');
    expect(malformed.status).toBe(200);
    expect(malformed.text).toBe('{"events": [');
    expect(malformed.headers.get('content-type')).toBe('application/json');
    expect((await call(fake, 'GET', '/v1/events?controller=c1')).json).toMatchObject({ lastEventId: 1 });
  });

  it('applies only to requests that match method and path, or a predicate', async () => {
    const fake = await startFake();
    fake.failNext(1, { status: 502, match: { method: 'put', path: '/v1/status' } });
    fake.failNext(1, { status: 504, match: (req) => req.path === '/v1/events' && req.query['replay'] === 'true' });
    fake.failNext(1, {
      status: 507,
      match: (req) => (req.body as { resourceId?: string } | undefined)?.resourceId === 'special',
    });

    expect((await call(fake, 'GET', '/v1/events?controller=c1')).status).toBe(200);
    expect((await call(fake, 'DELETE', '/v1/status', statusBody('c1', ID, 'completed'))).status).toBe(200);
    expect((await call(fake, 'GET', '/v1/events?controller=c1&replay=true')).status).toBe(504);
    expect((await call(fake, 'GET', '/v1/events?controller=c1&replay=true')).status).toBe(200);
    expect((await call(fake, 'PUT', '/v1/status', statusBody('c1', ID, 'completed'))).status).toBe(502);
    expect((await call(fake, 'PUT', '/v1/status', statusBody('c1', ID, 'completed'))).status).toBe(200);
    expect((await call(fake, 'PUT', '/v1/status', statusBody('c1', 'special', 'completed'))).status).toBe(507);
    expect((await call(fake, 'PUT', '/v1/status', statusBody('c1', 'special', 'completed'))).status).toBe(200);
  });

  it('failNext with destroy drops the connection without an answer', async () => {
    const fake = await startFake();
    fake.failNext(1, { destroy: true });
    await expect(fetch(`${fake.url}/healthz`)).rejects.toThrow(TypeError);
    expect((await call(fake, 'GET', '/healthz')).status).toBe(200);
    expect(fake.requests.map((r) => r.status)).toEqual([0, 200]);
  });

  it('failRandomly fails matching requests with the given probability; rate 0 turns it off', async () => {
    const fake = await startFake();
    const rolls = [0.1, 0.9, 0.29, 0.3];
    fake.failRandomly(0.3, { status: 503, match: { path: '/healthz' } }, () => rolls.shift() ?? 1);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await call(fake, 'GET', '/healthz')).status);
    expect(statuses).toEqual([503, 200, 503, 200]);
    // Not matching: no roll consumed.
    expect((await call(fake, 'GET', '/v1/orgs')).status).toBe(200);

    fake.failRandomly(1);
    expect((await call(fake, 'GET', '/v1/orgs')).status).toBe(500);
    fake.failRandomly(0);
    expect((await call(fake, 'GET', '/v1/orgs')).status).toBe(200);
  });

  it('delay holds back matching responses, only `count` of them', async () => {
    const fake = await startFake();
    fake.delay(300, { path: '/v1/events' }, 1);
    const order: string[] = [];
    const slow = call(fake, 'GET', '/v1/events?controller=c1').then((res) => order.push(`slow ${res.status}`));
    await waitFor(() => fake.requestCount === 1);
    await call(fake, 'GET', '/healthz').then((res) => order.push(`fast ${res.status}`));
    // The rule was used up by the first request: this one is not delayed either.
    await call(fake, 'GET', '/v1/events?controller=c1').then((res) => order.push(`second ${res.status}`));
    await slow;
    expect(order).toEqual(['fast 200', 'second 200', 'slow 200']);
  });

  it('a delayed request still gets its fault', async () => {
    const fake = await startFake();
    fake.delay(20);
    fake.failNext(1, { status: 500 });
    const startedAt = Date.now();
    expect((await call(fake, 'GET', '/healthz')).status).toBe(500);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(15);
  });

  it('clearFaults cancels everything pending', async () => {
    const fake = await startFake();
    fake.failNext(5);
    fake.failRandomly(1);
    fake.delay(10_000);
    fake.clearFaults();
    expect((await call(fake, 'GET', '/healthz')).status).toBe(200);
  });

  it('validates its arguments', async () => {
    const fake = await startFake();
    expect(() => fake.failNext(-1)).toThrow(RangeError);
    expect(() => fake.failNext(1.5)).toThrow(RangeError);
    expect(() => fake.failRandomly(1.5)).toThrow(RangeError);
    expect(() => fake.failRandomly(Number.NaN)).toThrow(RangeError);
    expect(() => fake.delay(-1)).toThrow(RangeError);
    fake.failNext(0);
    expect((await call(fake, 'GET', '/healthz')).status).toBe(200);
  });
});
