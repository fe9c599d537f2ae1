import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import axios from 'axios';
import { afterEach, describe, expect, it } from 'vitest';
import { AxiosTransport } from '../../../src/tenant-manager/axios.transport.js';
import { transportConfig } from '../../../src/tenant-manager/create-transport.js';
import { NodeHttpTransport } from '../../../src/tenant-manager/node-http.transport.js';
import { TenantManagerClient } from '../../../src/tenant-manager/tenant-manager.client.js';
import type { TenantManagerTransport, TransportChannel, TransportMethod } from '../../../src/tenant-manager/tenant-manager.transport.js';
import { decodeEventsPage } from '../../../src/tenant-manager/tenant-manager.wire.js';
import { RequestDeadlines } from '../../../src/tenant-manager/transport-call.js';
import { resolveTenancyOptions } from '../../../src/tenancy-options.resolver.js';
import type { ResolvedTenancyOptions } from '../../../src/tenancy-options.js';

// An events page travels as bytes from the transport to the one-pass decoder; every
// other answer (status calls, error answers) stays text.

const transports: Array<[string, (options: ResolvedTenancyOptions) => TenantManagerTransport]> = [
  ['node:http', (options) => new NodeHttpTransport(transportConfig(options))],
  ['axios', (options) => new AxiosTransport(transportConfig(options), axios.create())],
];

const EVENT = {
  id: 0,
  eventType: 'created',
  resourceType: 'project',
  resourceId: '0b0e3f4a-1c2d-4e5f-8a9b-0c1d2e3f4a5b',
  resourceName: 'naïve 🚀',
  orgId: '6f1c1a52-8d0e-4a4b-9a57-2b1f3f0c9e11',
  orgName: 'acme',
  folderId: null,
  createdAt: '2026-05-15T10:00:00Z',
};

describe.each(transports)('events pages over %s', (_name, createTransport) => {
  let server: Server | undefined;
  let transport: TenantManagerTransport | undefined;
  afterEach(async () => {
    transport?.close();
    server?.closeAllConnections();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    server = transport = undefined;
  });

  /** A server answering `status` and `body`, the body written in pieces of `piece` bytes (chunked). */
  async function start(status: number, body: Buffer, piece = body.length): Promise<ResolvedTenancyOptions> {
    server = createServer((req, res) => {
      req.resume();
      res.writeHead(status, { 'content-type': 'application/json' });
      for (let at = 0; at < body.length; at += piece) res.write(body.subarray(at, at + piece));
      res.end();
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return resolveTenancyOptions({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, controllerName: 'ctl' }, {});
  }

  async function send(options: ResolvedTenancyOptions, channel: TransportChannel, method: TransportMethod, body?: string) {
    transport = createTransport(options);
    const deadlines = new RequestDeadlines(5_000);
    const call = deadlines.start(undefined);
    try {
      return await transport.request(channel, method, '/v1/events?controller=ctl&replay=true', body, call);
    } finally {
      deadlines.finish(call);
    }
  }

  it("hands a 200 on the events channel over as its bytes, unchanged", async () => {
    const body = Buffer.from(JSON.stringify({ events: [EVENT], lastEventId: 3 }));
    const response = await send(await start(200, body, 7), 'events', 'GET');
    expect(response.status).toBe(200);
    expect(typeof response.body).not.toBe('string');
    expect(Buffer.concat(response.body as Buffer[])).toEqual(body);
  });

  it('hands an error answer on the events channel over as text', async () => {
    const response = await send(await start(503, Buffer.from('{"error":"café closed"}')), 'events', 'GET');
    expect(response).toMatchObject({ status: 503, body: '{"error":"café closed"}' });
  });

  it('hands a status-channel answer over as text', async () => {
    const response = await send(await start(200, Buffer.from('{"ok":"é"}')), 'status', 'PUT', '{}');
    expect(response).toMatchObject({ status: 200, body: '{"ok":"é"}' });
  });

  it('a page sent in small pieces decodes as the text decoder decodes it', async () => {
    const text = JSON.stringify({ events: [EVENT, { ...EVENT, resourceType: 'folder' }, { ...EVENT, resourceId: 'bad' }], lastEventId: 9 });
    const options = await start(200, Buffer.from(text), 5);
    transport = createTransport(options);
    const page = await new TenantManagerClient(options, transport).fetchReplay();
    expect(page).toStrictEqual(await decodeEventsPage(text));
    expect(page.events[0].resourceName).toBe('naïve 🚀');
  });
});
