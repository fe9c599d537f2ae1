import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { getEventListeners } from 'node:events';
import { inspect } from 'node:util';
import axios from 'axios';
import { afterEach, describe, expect, it } from 'vitest';
import { AxiosTransport } from '../../../src/tenant-manager/axios.transport.js';
import { transportConfig } from '../../../src/tenant-manager/create-transport.js';
import { NodeHttpTransport } from '../../../src/tenant-manager/node-http.transport.js';
import { TenantManagerClient } from '../../../src/tenant-manager/tenant-manager.client.js';
import type { TenantManagerTransport, TransportResponse } from '../../../src/tenant-manager/tenant-manager.transport.js';
import { TenantManagerRequestError } from '../../../src/tenancy.errors.js';
import { responseTooLarge } from '../../../src/tenancy.messages.js';
import { resolveTenancyOptions } from '../../../src/tenancy-options.resolver.js';
import type { ResolvedTenancyOptions, TenancyModuleOptions } from '../../../src/tenancy-options.js';
import { waitFor } from '../../support/wait-for.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A scripted loopback server: answers each request with the handler's reply. */
async function serve(
  reply: (req: Seen, res: ServerResponse) => void,
): Promise<{ url: string; seen: Seen[]; server: Server; sockets: Set<Socket> }> {
  const seen: Seen[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const entry = { method: req.method!, url: req.url!, headers: req.headers, body };
      seen.push(entry);
      reply(entry, res);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server, sockets };
}

/** The error a promise rejects with; fails the test when it resolves. */
async function rejection(promise: Promise<unknown>): Promise<TenantManagerRequestError> {
  let thrown: unknown;
  await promise.then(
    () => undefined,
    (error: unknown) => (thrown = error),
  );
  expect(thrown).toBeInstanceOf(TenantManagerRequestError);
  return thrown as TenantManagerRequestError;
}

const transports: Array<[string, (options: ResolvedTenancyOptions) => TenantManagerTransport]> = [
  ['node:http', (options) => new NodeHttpTransport(transportConfig(options))],
  ['axios', (options) => new AxiosTransport(transportConfig(options), axios.create())],
];

describe.each(transports)('TenantManagerClient over %s', (_name, createTransport) => {
  const servers: Server[] = [];
  const clients: TenantManagerClient[] = [];
  afterEach(async () => {
    for (const client of clients.splice(0)) client.onApplicationShutdown();
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
  const client = (url: string, extra: Partial<TenancyModuleOptions> = {}) => {
    const options = resolveTenancyOptions({ url, controllerName: 'ctl', ...extra }, {});
    const c = new TenantManagerClient(options, createTransport(options));
    clients.push(c);
    return c;
  };
  const start = async (reply: Parameters<typeof serve>[0]) => {
    const s = await serve(reply);
    servers.push(s.server);
    return s;
  };

  it('sends the exact requests of the protocol, with the token, and accepts empty 200 bodies', async () => {
    const { url, seen } = await start((req, res) => {
      if (req.url.startsWith('/v1/events')) res.end('{"events":[],"lastEventId":7}');
      else res.end();
    });
    const c = client(url, { internalToken: 's3cret' });
    await expect(c.fetchReplay()).resolves.toMatchObject({ lastEventId: 7, events: [] });
    await c.fetchAfter(7, 100);
    await c.putStatus('project', 'p1', 'in_progress', '');
    await c.deleteStatus('project', 'p1');
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual([
      'GET /v1/events?controller=ctl&replay=true',
      'GET /v1/events?controller=ctl&after=7&limit=100',
      'PUT /v1/status',
      'DELETE /v1/status',
    ]);
    expect(JSON.parse(seen[2].body)).toEqual({
      controller: 'ctl',
      resourceType: 'project',
      resourceId: 'p1',
      status: 'in_progress',
      message: '',
    });
    expect(JSON.parse(seen[3].body)).toEqual({ controller: 'ctl', resourceType: 'project', resourceId: 'p1' });
    expect(seen.every((s) => s.headers['x-internal-token'] === 's3cret')).toBe(true);
    expect(seen[2].headers['content-type']).toBe('application/json');
    expect(seen[2].headers['content-length']).toBe(String(Buffer.byteLength(seen[2].body)));
  });

  it('reuses one keep-alive connection for sequential calls', async () => {
    const ports = new Set<number>();
    const { url } = await start((req, res) => res.end());
    servers[0].on('connection', (socket) => ports.add(socket.remotePort!));
    const c = client(url);
    for (let i = 0; i < 5; i += 1) await c.putStatus('org', `o${i}`, 'completed', '');
    expect(ports.size).toBe(1);
  });

  it('turns a non-200 answer into an error naming the method, the path, the status and the error text', async () => {
    const { url } = await start((req, res) => {
      res.statusCode = 400;
      res.end('{"error":"controller query parameter required"}');
    });
    const error = await rejection(client(url).fetchAfter(0, 5));
    expect(error.message).toBe('GET /v1/events?controller=ctl&after=0&limit=5: HTTP 400 controller query parameter required');
    expect(error.status).toBe(400);
    expect(error.retryAfter).toBeUndefined();
  });

  it('names the status text when an error answer has no body', async () => {
    const { url } = await start((req, res) => {
      res.statusCode = 404;
      res.end();
    });
    const error = await rejection(client(url).fetchAfter(12, 100));
    expect(error.message).toBe('GET /v1/events?controller=ctl&after=12&limit=100: HTTP 404 not found');
  });

  it('does not follow a redirect (it would carry the token elsewhere)', async () => {
    const { url, seen } = await start((req, res) => {
      res.writeHead(302, { location: '/elsewhere' });
      res.end();
    });
    const error = await rejection(client(url, { internalToken: 'tok' }).putStatus('org', 'o', 'completed', ''));
    expect(error.message).toBe('PUT /v1/status: HTTP 302 found');
    expect(seen).toHaveLength(1);
  });

  it('fails a request that gets no answer within httpTimeout', async () => {
    const { url } = await start(() => {
      // never answers
    });
    const error = await rejection(client(url, { httpTimeout: 100 }).putStatus('org', 'o', 'completed', ''));
    expect(error.message).toBe('PUT /v1/status: timed out after 100 ms (httpTimeout)');
  });

  it('fails a response that trickles its body past httpTimeout (a deadline, not an idle timeout)', async () => {
    const timers: NodeJS.Timeout[] = [];
    const { url } = await start((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"events":[');
      timers.push(setInterval(() => res.write(' '), 20));
    });
    const started = Date.now();
    try {
      const error = await rejection(client(url, { httpTimeout: 300 }).fetchReplay());
      expect(error.message).toBe('GET /v1/events?controller=ctl&replay=true: timed out after 300 ms (httpTimeout)');
      // Generous bound (10x): without a deadline this never fails at all.
      expect(Date.now() - started).toBeLessThan(3_000);
    } finally {
      timers.forEach(clearInterval);
    }
  });

  it('aborts a request when its signal aborts', async () => {
    const { url } = await start(() => {});
    const controller = new AbortController();
    const pending = client(url).fetchReplay(controller.signal);
    setTimeout(() => controller.abort(), 20);
    const error = await rejection(pending);
    expect(error.message).toBe('GET /v1/events?controller=ctl&replay=true: aborted');
  });

  it('names the connection error and the base URL, credentials masked, when nothing listens', async () => {
    const { url, server } = await start(() => {});
    servers.splice(servers.indexOf(server), 1);
    await new Promise((resolve) => server.close(resolve));
    const withCredentials = url.replace('http://', 'http://admin:hunter2@');
    const error = await rejection(client(withCredentials, { internalToken: 'tok-123' }).fetchReplay());
    const shown = url.replace('http://', 'http://admin:***@');
    expect(error.message).toBe(`GET /v1/events?controller=ctl&replay=true: ECONNREFUSED (${shown})`);
    // Neither the password nor the token anywhere in the error, its cause chain or stack.
    const everything = inspect(error, { depth: 10, showHidden: true }) + String(error.stack);
    expect(everything).not.toContain('hunter2');
    expect(everything).not.toContain('tok-123');
  });

  it('reports a malformed events body as a failed request', async () => {
    const { url } = await start((req, res) => res.end('<html>oops</html>'));
    const error = await rejection(client(url).fetchReplay());
    expect(error.message).toMatch(/^GET \/v1\/events\?controller=ctl&replay=true: malformed response: body is not JSON/);
    expect(error.status).toBe(200);
  });

  it('keeps a base path and sends URL credentials as Basic auth', async () => {
    const { url, seen } = await start((req, res) => res.end('{"events":[],"lastEventId":0}'));
    const withPath = url.replace('http://', 'http://user:pa%20ss@') + '/tenancy/';
    await client(withPath).fetchReplay();
    expect(seen[0].url).toBe('/tenancy/v1/events?controller=ctl&replay=true');
    expect(seen[0].headers.authorization).toBe(`Basic ${Buffer.from('user:pa ss').toString('base64')}`);
  });

  it('abandons a declared body above maxResponseBytes, naming the limit', async () => {
    const { url } = await start((req, res) => res.end(JSON.stringify({ events: [], lastEventId: 0, pad: 'x'.repeat(5_000) })));
    const error = await rejection(client(url, { maxResponseBytes: 1_024 }).fetchReplay());
    expect(error.message).toBe(`GET /v1/events?controller=ctl&replay=true: ${responseTooLarge(1_024)}`);
  });

  it('abandons an endless chunked body as soon as it passes maxResponseBytes and closes the connection', async () => {
    const timers: NodeJS.Timeout[] = [];
    let written = 0;
    const { url, sockets } = await start((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"events":[');
      const chunk = `${'{"id":1},'.repeat(1_000)}`;
      // Endless: keeps writing as long as the client reads.
      const pump = () => {
        while (!res.destroyed && res.write(chunk)) written += chunk.length;
        if (!res.destroyed) res.once('drain', pump);
      };
      timers.push(setTimeout(pump, 0));
    });
    try {
      const error = await rejection(client(url, { maxResponseBytes: 64 * 1024 }).fetchReplay());
      expect(error.message).toBe(`GET /v1/events?controller=ctl&replay=true: ${responseTooLarge(64 * 1024)}`);
      await waitFor(() => sockets.size === 0, { message: 'the connection of the abandoned body stayed open' });
      // Far below what an unbounded reader would have pulled in the meantime.
      expect(written).toBeLessThan(16 * 1024 * 1024);
    } finally {
      timers.forEach(clearTimeout);
    }
  });

  it.each([
    [429, '7', 7_000],
    [503, '0', 0],
    [500, '7', undefined],
  ])('HTTP %i with Retry-After %s sets retryAfter %s', async (status, header, expected) => {
    const { url } = await start((req, res) => {
      res.writeHead(status, { 'retry-after': header });
      res.end('{"error":"slow down"}');
    });
    const error = await rejection(client(url).putStatus('org', 'o', 'completed', ''));
    expect(error.status).toBe(status);
    expect(error.retryAfter).toBe(expected);
  });

  it('reads a Retry-After HTTP-date as the time until then', async () => {
    const { url } = await start((req, res) => {
      res.writeHead(503, { 'retry-after': new Date(Date.now() + 60_000).toUTCString() });
      res.end();
    });
    const error = await rejection(client(url).fetchAfter(1, 10));
    expect(error.retryAfter).toBeGreaterThan(30_000);
    expect(error.retryAfter).toBeLessThanOrEqual(60_000);
  });

  it('keeps polls on their own connections: stuck status writes do not delay a poll', async () => {
    const held: ServerResponse[] = [];
    const { url, seen } = await start((req, res) => {
      if (req.url === '/v1/status') held.push(res);
      else res.end('{"events":[],"lastEventId":3}');
    });
    // concurrency 1: the status pool has 3 connections; fill them all.
    const c = client(url, { concurrency: 1, httpTimeout: 10_000 });
    const writes = [1, 2, 3].map((i) => c.putStatus('org', `o${i}`, 'completed', '').catch(() => undefined));
    await waitFor(() => held.length === 3);
    await expect(c.fetchAfter(3, 10)).resolves.toMatchObject({ lastEventId: 3 });
    expect(seen.filter((s) => s.method === 'GET')).toHaveLength(1);
    for (const res of held) res.end();
    await Promise.all(writes);
  });

  it('leaves no listener on a long-lived caller signal, after successes and failures alike', async () => {
    let n = 0;
    const { url } = await start((req, res) => {
      n += 1;
      res.statusCode = n % 2 === 0 ? 500 : 200;
      res.end();
    });
    const c = client(url);
    const shared = new AbortController();
    for (let i = 0; i < 20; i += 1) await c.putStatus('org', `o${i}`, 'completed', '', shared.signal).catch(() => undefined);
    expect(getEventListeners(shared.signal, 'abort')).toHaveLength(0);
  });
});

describe('TenantManagerClient and the response it read', () => {
  it('takes the body out of the transport response, so a response left reachable does not keep it alive', async () => {
    const body = JSON.stringify({ events: [], lastEventId: 5 });
    const answers: TransportResponse[] = [];
    const transport: TenantManagerTransport = {
      request: async () => {
        const answer: TransportResponse = { status: 200, body };
        answers.push(answer);
        return answer;
      },
      close: () => undefined,
    };
    const options = resolveTenancyOptions({ url: 'http://127.0.0.1:1', controllerName: 'ctl' }, {});
    const page = await new TenantManagerClient(options, transport).fetchReplay();
    expect(page.lastEventId).toBe(5);
    expect(answers).toHaveLength(1);
    expect(answers[0].body).toBe('');
  });
});
