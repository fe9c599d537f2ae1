import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { TenantManagerClient } from '../../../src/tenant-manager/tenant-manager.client.js';
import { TenantManagerRequestError } from '../../../src/tenancy.errors.js';
import { resolveTenancyOptions } from '../../../src/tenancy-options.resolver.js';
import type { TenancyModuleOptions } from '../../../src/tenancy-options.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A scripted loopback server: answers each request with the handler's reply. */
async function serve(reply: (req: Seen, res: ServerResponse) => void): Promise<{ url: string; seen: Seen[]; server: Server }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const entry = { method: req.method!, url: req.url!, headers: req.headers, body };
      seen.push(entry);
      reply(entry, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

describe('TenantManagerClient', () => {
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
    const c = new TenantManagerClient(resolveTenancyOptions({ url, controllerName: 'ctl', ...extra }));
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

  it('turns a non-200 answer into an error naming the call, the status and the error text', async () => {
    const { url } = await start((req, res) => {
      res.statusCode = 400;
      res.end('{"error":"controller query parameter required"}');
    });
    const failure = client(url).fetchAfter(0, 5);
    await expect(failure).rejects.toBeInstanceOf(TenantManagerRequestError);
    await expect(failure).rejects.toThrow(
      'Tenant Manager poll after 0: HTTP 400 controller query parameter required',
    );
    await expect(failure).rejects.toMatchObject({ status: 400 });
  });

  it('fails a request that outlives httpTimeout', async () => {
    const { url } = await start(() => {
      // never answers
    });
    await expect(client(url, { httpTimeout: 100 }).putStatus('org', 'o', 'completed', '')).rejects.toThrow(
      'Tenant Manager PUT /v1/status (completed): timed out after 100 ms (httpTimeout)',
    );
  });

  it('aborts a request when its signal aborts', async () => {
    const { url } = await start(() => {});
    const controller = new AbortController();
    const pending = client(url).fetchReplay(controller.signal);
    setTimeout(() => controller.abort(), 20);
    await expect(pending).rejects.toThrow('Tenant Manager replay: aborted');
  });

  it('names the connection error and the URL when nothing listens', async () => {
    const { url, server } = await start(() => {});
    servers.splice(servers.indexOf(server), 1);
    await new Promise((resolve) => server.close(resolve));
    await expect(client(url).fetchReplay()).rejects.toThrow(`Tenant Manager replay: ECONNREFUSED (${url})`);
  });

  it('reports a malformed events body as a failed request', async () => {
    const { url } = await start((req, res) => res.end('<html>oops</html>'));
    await expect(client(url).fetchReplay()).rejects.toThrow(/^Tenant Manager replay: malformed response: body is not JSON/);
  });

  it('keeps a base path and sends URL credentials as Basic auth', async () => {
    const { url, seen } = await start((req, res) => res.end('{"events":[],"lastEventId":0}'));
    const withPath = url.replace('http://', 'http://user:pa%20ss@') + '/tenancy/';
    await client(withPath).fetchReplay();
    expect(seen[0].url).toBe('/tenancy/v1/events?controller=ctl&replay=true');
    expect(seen[0].headers.authorization).toBe(`Basic ${Buffer.from('user:pa ss').toString('base64')}`);
  });
});
