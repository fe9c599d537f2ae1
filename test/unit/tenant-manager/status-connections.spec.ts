import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { StatusConnections, type StatusTarget } from '../../../src/tenant-manager/status-connections.js';
import { TransportFailure, type TransportResponse } from '../../../src/tenant-manager/tenant-manager.transport.js';
import { RequestDeadlines } from '../../../src/tenant-manager/transport-call.js';
import { requestAborted } from '../../../src/tenancy.messages.js';
import { waitFor } from '../../support/wait-for.js';

const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n';

interface Received {
  readonly socket: Socket;
  readonly head: string;
  readonly body: string;
}

/**
 * A raw TCP server that hands each complete request (head and Content-Length body)
 * to `answer`, which writes whatever bytes it likes: the tests script the wire.
 */
async function rawServer(answer: (request: Received) => void): Promise<{ server: Server; port: number; connections: Socket[]; requests: Received[] }> {
  const connections: Socket[] = [];
  const requests: Received[] = [];
  const server = createServer((socket) => {
    // The server's side never keeps the process alive: only the pool's sockets count in tests that look.
    socket.unref();
    connections.push(socket);
    let buffered = '';
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      for (;;) {
        const end = buffered.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buffered.slice(0, end);
        const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
        if (buffered.length < end + 4 + length) return;
        const request = { socket, head, body: buffered.slice(end + 4, end + 4 + length) };
        buffered = buffered.slice(end + 4 + length);
        requests.push(request);
        answer(request);
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, connections, requests };
}

describe('StatusConnections', () => {
  const servers: Server[] = [];
  const pools: StatusConnections[] = [];
  afterEach(async () => {
    for (const pool of pools.splice(0)) pool.close();
    for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
  });

  const start = async (answer: (request: Received) => void) => {
    const s = await rawServer(answer);
    servers.push(s.server);
    const target: StatusTarget = {
      host: '127.0.0.1',
      port: s.port,
      hostHeader: `127.0.0.1:${s.port}`,
      pathPrefix: '/base',
      headers: { accept: 'application/json', 'x-internal-token': 't0k' },
      maxSockets: 3,
      maxResponseBytes: 1024,
    };
    const pool = StatusConnections.create(target)!;
    pools.push(pool);
    const deadlines = new RequestDeadlines(5_000);
    const send = async (body = '{"a":1}', signal?: AbortSignal): Promise<TransportResponse> => {
      const call = deadlines.start(signal);
      try {
        return await pool.request('PUT', '/v1/status', body, call);
      } finally {
        deadlines.finish(call);
      }
    };
    return { ...s, pool, send };
  };

  const failureOf = async (promise: Promise<unknown>): Promise<string> => {
    const error = await promise.then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(TransportFailure);
    return (error as TransportFailure).detail;
  };

  it('writes the request node:http would: method, base path, Host, the configured headers, JSON body with its byte length', async () => {
    const { send, requests, port } = await start((r) => r.socket.write(OK));
    await expect(send('{"m":"ü"}')).resolves.toEqual({ status: 200, body: '' });
    const lines = requests[0].head.split('\r\n');
    expect(lines[0]).toBe('PUT /base/v1/status HTTP/1.1');
    expect(lines.slice(1).sort()).toEqual(
      [`Host: 127.0.0.1:${port}`, 'accept: application/json', 'x-internal-token: t0k', 'content-type: application/json', 'Connection: keep-alive', 'content-length: 10'].sort(),
    );
    expect(Buffer.from(requests[0].body, 'latin1').toString('utf8')).toBe('{"m":"ü"}');
  });

  it('never opens more than maxSockets connections; requests beyond them wait and all land', async () => {
    // Answers are held until all three connections carry a request: the rest must wait in line.
    const held: Received[] = [];
    const { send, connections, requests } = await start((r) => {
      held.push(r);
      if (held.length >= 3 || requests.length === 20) for (const h of held.splice(0)) h.socket.write(OK);
    });
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => send(`{"i":${i}}`)));
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(requests).toHaveLength(20);
    expect(connections.length).toBeLessThanOrEqual(3);
  });

  it('reuses an idle connection, and opens a new one after the server closed it or asked to close', async () => {
    let closeNext = false;
    const { send, connections, requests } = await start((r) => {
      if (closeNext) r.socket.write('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      else r.socket.write(OK);
    });
    await send();
    await send();
    expect(connections).toHaveLength(1);
    connections[0].destroy();
    // Until the pool has seen the close, a request may still meet the dead connection and fail: bounded retries.
    await waitFor(() => send().then(() => true, () => false));
    expect(requests.at(-1)!.socket).not.toBe(connections[0]);
    closeNext = true;
    await send();
    const asked = requests.at(-1)!.socket;
    closeNext = false;
    await send();
    expect(requests.at(-1)!.socket).not.toBe(asked);
    // And the pool closed the connection it was asked to give up.
    await waitFor(() => asked.closed);
  });

  it("does not reuse a connection past the server's Keep-Alive hint (less a second's margin)", async () => {
    const { send, connections } = await start((r) => r.socket.write('HTTP/1.1 200 OK\r\nKeep-Alive: timeout=1\r\nContent-Length: 0\r\n\r\n'));
    await send();
    await send();
    expect(connections).toHaveLength(2);
  });

  it('keeps the process alive while a request is out, not while its connections are idle', async () => {
    const clientSockets = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
    let answer: (() => void) | undefined;
    const { send, requests } = await start((r) => (answer = () => r.socket.write(OK)));
    const before = clientSockets();
    const pending = send();
    await waitFor(() => requests.length === 1);
    expect(clientSockets()).toBe(before + 1);
    answer!();
    await pending;
    await waitFor(() => clientSockets() === before);
    // Reused for the next request: held again while it is out.
    const again = send();
    await waitFor(() => requests.length === 2);
    expect(clientSockets()).toBe(before + 1);
    answer!();
    await again;
  });

  it('lets go of an idle connection once the last busy one fails, not only when one is answered', async () => {
    const clientSockets = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
    const held: Received[] = [];
    const { send, requests } = await start((r) => held.push(r));
    const before = clientSockets();
    const first = send('{"n":1}');
    const second = send('{"n":2}');
    await waitFor(() => requests.length === 2);
    expect(clientSockets()).toBe(before + 2);
    held[0].socket.write(OK);
    await first;
    // The second connection fails: nothing is busy now, so the idle one must stop holding the process.
    held[1].socket.destroy();
    expect(await failureOf(second)).toBe('ECONNRESET');
    await waitFor(() => clientSockets() === before);
  });

  it('hands back a non-200 answer with its body and Retry-After', async () => {
    const { send } = await start((r) => r.socket.write('HTTP/1.1 503 Service Unavailable\r\nRetry-After: 3\r\nContent-Length: 16\r\n\r\n{"error":"busy"}'));
    await expect(send()).resolves.toEqual({ status: 503, body: '{"error":"busy"}', retryAfter: '3' });
  });

  it('a connection closed before the answer fails the request (ECONNRESET); one closed mid-body says the response ended early', async () => {
    let mode: 'reset' | 'half' = 'reset';
    const { send } = await start((r) => {
      if (mode === 'half') r.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc');
      r.socket.end();
    });
    expect(await failureOf(send())).toBe('ECONNRESET');
    mode = 'half';
    expect(await failureOf(send())).toBe('connection closed before the response ended');
  });

  it('nothing listening: the system error code', async () => {
    const probe = await rawServer(() => undefined);
    const port = probe.port;
    await new Promise((resolve) => probe.server.close(resolve));
    const pool = StatusConnections.create({ host: '127.0.0.1', port, hostHeader: `127.0.0.1:${port}`, pathPrefix: '', headers: {}, maxSockets: 2, maxResponseBytes: 10 })!;
    pools.push(pool);
    const call = new RequestDeadlines(5_000).start();
    expect(await failureOf(pool.request('DELETE', '/v1/status', '{}', call))).toBe('ECONNREFUSED');
  });

  it('a cancelled request fails at once and closes its connection; one cancelled while waiting in line never goes out', async () => {
    const { pool, requests, connections } = await start(() => undefined);
    const deadlines = new RequestDeadlines(60_000);
    const calls = Array.from({ length: 4 }, () => deadlines.start());
    const pending = calls.map((call, i) => pool.request('PUT', '/v1/status', `{"i":${i}}`, call));
    await waitFor(() => requests.length === 3);
    calls[3].cancel('aborted');
    calls[0].cancel('aborted');
    expect(await failureOf(pending[3])).toBe(requestAborted());
    expect(await failureOf(pending[0])).toBe(requestAborted());
    await waitFor(() => connections[0].closed);
    // The freed connection slot went to nobody: the cancelled waiting request was removed.
    expect(requests.map((r) => r.body)).toEqual(['{"i":0}', '{"i":1}', '{"i":2}']);
    for (const call of calls) deadlines.finish(call);
    pool.close();
    await Promise.allSettled(pending);
  });

  it('close() fails the requests in flight and closes idle connections; later requests open new ones', async () => {
    let answer = false;
    const { pool, send, connections } = await start((r) => answer && r.socket.write(OK));
    const stuck = send();
    await waitFor(() => connections.length === 1);
    pool.close();
    expect(await failureOf(stuck)).toBe('ECONNRESET');
    answer = true;
    await expect(send()).resolves.toMatchObject({ status: 200 });
    expect(connections).toHaveLength(2);
  });

  it('a malformed answer fails the request and the connection is not reused', async () => {
    let bad = true;
    const { send, connections } = await start((r) => r.socket.write(bad ? 'HTTP/1.1 200 OK\r\nContent-Length: zz\r\n\r\n' : OK));
    expect(await failureOf(send())).toMatch(/malformed HTTP response \(Content-Length\)/);
    bad = false;
    await send();
    expect(connections).toHaveLength(2);
  });

  it('is not used for headers node:http would refuse or encode differently', () => {
    const target = { host: '127.0.0.1', port: 1, hostHeader: '127.0.0.1:1', pathPrefix: '', maxSockets: 1, maxResponseBytes: 1 };
    expect(StatusConnections.create({ ...target, headers: { 'x-internal-token': 'a\r\nb' } })).toBeUndefined();
    expect(StatusConnections.create({ ...target, headers: { 'x-internal-token': 'caf\u00e9' } })).toBeUndefined();
    expect(StatusConnections.create({ ...target, headers: { 'bad name': 'x' } })).toBeUndefined();
    expect(StatusConnections.create({ ...target, headers: { 'x-internal-token': 'fine' } })).toBeInstanceOf(StatusConnections);
  });
});
