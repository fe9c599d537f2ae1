import { describe, expect, it } from 'vitest';
import { FakeMessages } from '../../../src/testing/fake-tenant-manager.messages.js';
import { call, errorBody, httpCall, MILLIS_ISO, statusBody, useFakes, useKeepAliveAgent } from './fake-harness.js';

const ID = '0b0e8f5e-4d0e-4a59-9a2f-1b2c3d4e5f60';
const NIL = '00000000-0000-0000-0000-000000000000';

describe('FakeTenantManager /v1/status', () => {
  const startFake = useFakes();
  const keepAliveAgent = useKeepAliveAgent();

  describe('PUT', () => {
    it('upserts the row and answers 200 with an empty body', async () => {
      const fake = await startFake();
      const before = Date.now();
      const res = await call(fake, 'PUT', '/v1/status', statusBody('c1', ID, 'in_progress', 'working'));
      expect(res.status).toBe(200);
      expect(res.text).toBe('');
      expect(res.headers.get('content-length')).toBe('0');
      const row = fake.statusOf('c1', 'project', ID);
      expect(row).toMatchObject({
        controller: 'c1',
        resourceType: 'project',
        resourceId: ID,
        status: 'in_progress',
        message: 'working',
      });
      expect(row?.updatedAt).toMatch(MILLIS_ISO);
      expect(Date.parse(row!.updatedAt)).toBeGreaterThanOrEqual(before);

      await call(fake, 'PUT', '/v1/status', statusBody('c1', ID, 'error', 'boom'));
      expect(fake.statusOf('c1', 'project', ID)).toMatchObject({ status: 'error', message: 'boom' });
      expect(fake.statusRows()).toHaveLength(1);
    });

    it('keys rows by controller, resource type and resource id', async () => {
      const fake = await startFake();
      await call(fake, 'PUT', '/v1/status', statusBody('c1', ID, 'completed'));
      await call(fake, 'PUT', '/v1/status', statusBody('c2', ID, 'in_progress'));
      await call(fake, 'PUT', '/v1/status', statusBody('c1', ID, 'error', 'x', 'org'));
      expect(fake.statusRows()).toHaveLength(3);
      expect(fake.statusRows('c1').map((row) => `${row.resourceType}:${row.status}`)).toEqual([
        'project:completed',
        'org:error',
      ]);
      expect(fake.statusOf('c2', 'project', ID)?.status).toBe('in_progress');
    });

    it('stores a missing or null message as ""', async () => {
      const fake = await startFake();
      const { message: _omitted, ...withoutMessage } = statusBody('c1', ID, 'completed');
      expect((await call(fake, 'PUT', '/v1/status', withoutMessage)).status).toBe(200);
      expect(fake.statusOf('c1', 'project', ID)?.message).toBe('');
      expect((await call(fake, 'PUT', '/v1/status', { ...withoutMessage, message: null })).status).toBe(200);
      expect(fake.statusOf('c1', 'project', ID)?.message).toBe('');
    });

    it('accepts resource types it does not know (the model grows)', async () => {
      const fake = await startFake();
      const res = await call(fake, 'PUT', '/v1/status', statusBody('c1', ID, 'completed', '', 'folder'));
      expect(res.status).toBe(200);
      expect(fake.statusOf('c1', 'folder', ID)?.status).toBe('completed');
    });

    it.each(['controller', 'resourceType', 'resourceId', 'status'])(
      'answers 400 when %s is missing, null or empty',
      async (field) => {
        const fake = await startFake();
        for (const value of [undefined, null, '']) {
          const body: Record<string, unknown> = { ...statusBody('c1', ID, 'completed'), [field]: value };
          const res = await call(fake, 'PUT', '/v1/status', body);
          expect(res.status).toBe(400);
          expect(res.json).toEqual(errorBody(FakeMessages.fieldRequired(field)));
        }
        expect(fake.statusRows()).toEqual([]);
      },
    );

    it('answers 400 for the nil UUID', async () => {
      const fake = await startFake();
      const res = await call(fake, 'PUT', '/v1/status', statusBody('c1', NIL, 'completed'));
      expect(res.status).toBe(400);
      expect(res.json).toEqual(errorBody('resourceId must not be the nil UUID'));
      expect(fake.statusRows()).toEqual([]);
    });

    it('answers 400 for an unknown status value', async () => {
      const fake = await startFake();
      const res = await call(fake, 'PUT', '/v1/status', statusBody('c1', ID, 'done'));
      expect(res.status).toBe(400);
      expect(res.json).toEqual(errorBody(FakeMessages.invalidStatus('done')));
    });

    it.each([
      ['not JSON', '{"controller":'],
      ['an array', '[]'],
      ['empty', ''],
      ['null', 'null'],
    ])('answers 400 for a body that is %s', async (_label, body) => {
      const fake = await startFake();
      const res = await call(fake, 'PUT', '/v1/status', body, { 'content-type': 'application/json' });
      expect(res.status).toBe(400);
      expect(res.json).toEqual(errorBody(FakeMessages.invalidJsonBody()));
    });

    it('answers 400 for non-string fields', async () => {
      const fake = await startFake();
      const numeric = await call(fake, 'PUT', '/v1/status', { ...statusBody('c1', ID, 'completed'), resourceId: 42 });
      expect(numeric.json).toEqual(errorBody(FakeMessages.fieldNotString('resourceId')));
      const message = await call(fake, 'PUT', '/v1/status', { ...statusBody('c1', ID, 'completed'), message: {} });
      expect(message.status).toBe(400);
      expect(message.json).toEqual(errorBody(FakeMessages.fieldNotString('message')));
    });

    it('accepts a body of exactly 64 KiB and rejects one byte more with 413, keeping the connection', async () => {
      const fake = await startFake();
      const agent = keepAliveAgent();
      const base = JSON.stringify(statusBody('c1', ID, 'error', ''));
      const exact = JSON.stringify(statusBody('c1', ID, 'error', 'x'.repeat(65536 - base.length)));
      expect(Buffer.byteLength(exact)).toBe(65536);
      const ok = await httpCall(fake, agent, 'PUT', '/v1/status', exact);
      expect(ok.status).toBe(200);
      expect(fake.statusOf('c1', 'project', ID)?.message).toHaveLength(65536 - base.length);

      const tooBig = JSON.stringify(statusBody('c1', ID, 'completed', 'x'.repeat(65537 - base.length)));
      const res = await httpCall(fake, agent, 'PUT', '/v1/status', tooBig);
      expect(res.status).toBe(413);
      expect(JSON.parse(res.text)).toEqual(errorBody(FakeMessages.bodyTooLarge(65536)));
      expect(fake.statusOf('c1', 'project', ID)?.status).toBe('error');
      expect((await httpCall(fake, agent, 'GET', '/healthz')).status).toBe(200);
      expect(fake.connections).toBe(1);
    });
  });

  describe('DELETE', () => {
    it('removes the row and answers 200 with an empty body', async () => {
      const fake = await startFake();
      await call(fake, 'PUT', '/v1/status', statusBody('c1', ID, 'completed'));
      await call(fake, 'PUT', '/v1/status', statusBody('c2', ID, 'completed'));
      const res = await call(fake, 'DELETE', '/v1/status', { controller: 'c1', resourceType: 'project', resourceId: ID });
      expect(res.status).toBe(200);
      expect(res.text).toBe('');
      expect(fake.statusOf('c1', 'project', ID)).toBeUndefined();
      expect(fake.statusRows().map((row) => row.controller)).toEqual(['c2']);
    });

    it('treats deleting an absent row as success', async () => {
      const fake = await startFake();
      const res = await call(fake, 'DELETE', '/v1/status', { controller: 'c1', resourceType: 'project', resourceId: ID });
      expect(res.status).toBe(200);
      expect(res.text).toBe('');
    });

    it.each(['controller', 'resourceType', 'resourceId'])('answers 400 when %s is missing', async (field) => {
      const fake = await startFake();
      const body: Record<string, string> = { controller: 'c1', resourceType: 'project', resourceId: ID };
      delete body[field];
      const res = await call(fake, 'DELETE', '/v1/status', body);
      expect(res.status).toBe(400);
      expect(res.json).toEqual(errorBody(FakeMessages.fieldRequired(field)));
    });

    it('answers 400 without a body and for the nil UUID', async () => {
      const fake = await startFake();
      expect((await call(fake, 'DELETE', '/v1/status')).json).toEqual(errorBody(FakeMessages.invalidJsonBody()));
      const nil = await call(fake, 'DELETE', '/v1/status', { controller: 'c1', resourceType: 'project', resourceId: NIL });
      expect(nil.status).toBe(400);
      expect(nil.json).toEqual(errorBody(FakeMessages.nilResourceId()));
    });
  });

  it('rejects other methods on /v1/status with 405', async () => {
    const fake = await startFake();
    expect((await call(fake, 'GET', '/v1/status')).status).toBe(405);
    expect((await call(fake, 'POST', '/v1/status', statusBody('c1', ID, 'completed'))).status).toBe(405);
  });

  describe('internal token', () => {
    it('answers 401 without or with a wrong X-Internal-Token on /v1/events and /v1/status', async () => {
      const fake = await startFake({ internalToken: 's3cret' });
      const unauthorized = { error: 'unauthorized' };
      const attempts: Array<Record<string, string>> = [{}, { 'x-internal-token': 'wrong' }, { 'x-internal-token': 's3cret2' }];
      for (const headers of attempts) {
        const events = await call(fake, 'GET', '/v1/events?controller=c1&replay=true', undefined, headers);
        expect(events.status).toBe(401);
        expect(events.json).toEqual(unauthorized);
        const put = await call(fake, 'PUT', '/v1/status', statusBody('c1', ID, 'completed'), headers);
        expect(put.status).toBe(401);
        expect(put.json).toEqual(unauthorized);
        const del = await call(fake, 'DELETE', '/v1/status', statusBody('c1', ID, 'completed'), headers);
        expect(del.status).toBe(401);
      }
      // The token is checked before the query: no hint about what a valid request looks like.
      expect((await call(fake, 'GET', '/v1/events')).status).toBe(401);
      expect(fake.statusRows()).toEqual([]);
    });

    it('accepts the right token', async () => {
      const fake = await startFake({ internalToken: 's3cret' });
      const headers = { 'X-Internal-Token': 's3cret' };
      expect((await call(fake, 'GET', '/v1/events?controller=c1', undefined, headers)).status).toBe(200);
      expect((await call(fake, 'PUT', '/v1/status', statusBody('c1', ID, 'completed'), headers)).status).toBe(200);
      expect(fake.statusOf('c1', 'project', ID)?.status).toBe('completed');
    });

    it('does not guard /healthz or the public API', async () => {
      const fake = await startFake({ internalToken: 's3cret' });
      expect((await call(fake, 'GET', '/healthz')).status).toBe(200);
      expect((await call(fake, 'PUT', '/v1/orgs/acme')).status).toBe(200);
      expect((await call(fake, 'GET', '/v1/orgs')).status).toBe(200);
    });
  });

  it('answers GET /healthz with 200 {"status":"ok"}', async () => {
    const fake = await startFake();
    const res = await call(fake, 'GET', '/healthz');
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ status: 'ok' });
  });

  it.each(['/', '/v2/events', '/v1/orgs/a/b/c', '/v1/orgs/', '/v1/unknown'])('answers 404 for %s', async (path) => {
    const fake = await startFake();
    const res = await call(fake, 'GET', path);
    expect(res.status).toBe(404);
    expect(res.json).toEqual(errorBody(FakeMessages.notFound()));
  });
});
