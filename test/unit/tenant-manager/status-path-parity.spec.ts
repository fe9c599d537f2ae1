import { createServer, type AddressInfo, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { NodeHttpTransport } from '../../../src/tenant-manager/node-http.transport.js';
import type { TransportResponse } from '../../../src/tenant-manager/tenant-manager.transport.js';
import { RequestDeadlines } from '../../../src/tenant-manager/transport-call.js';

/** A raw TCP server answering every request (head plus Content-Length body) with `reply`, then closing when asked. */
async function scriptedServer(reply: string, closeAfter: boolean): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => {
    socket.unref();
    let buffered = '';
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(/content-length: (\d+)/i.exec(buffered.slice(0, end))?.[1] ?? 0);
      if (buffered.length < end + 4 + length) return;
      buffered = '';
      if (closeAfter) socket.end(reply);
      else socket.write(reply);
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

// What the status channel hands back must not depend on which HTTP client carried it:
// plain headers go through StatusConnections, a non-ASCII token falls back to node:http.
const ANSWERS: Array<{ name: string; reply: string; closeAfter?: boolean }> = [
  { name: 'an empty 200', reply: 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n' },
  { name: 'a 200 with a small body', reply: 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}' },
  { name: 'a 100 Continue before the 200', reply: 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n' },
  {
    name: 'a 429 with Retry-After and a JSON error',
    reply: 'HTTP/1.1 429 Too Many Requests\r\nretry-after: 7\r\nContent-Length: 19\r\n\r\n{"error":"slow on"}',
  },
  {
    name: 'a 429 with two Retry-After headers',
    reply: 'HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nRetry-After: 30\r\nContent-Length: 0\r\n\r\n',
  },
  {
    name: 'a 503 with an HTTP-date Retry-After, chunked',
    reply: 'HTTP/1.1 503 Service Unavailable\r\nRetry-After: Wed, 21 Oct 2099 07:28:00 GMT\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nbusy!\r\n0\r\n\r\n',
  },
  { name: 'an HTTP/1.0 500 whose body runs to the close', reply: 'HTTP/1.0 500 Internal Server Error\r\n\r\noops', closeAfter: true },
];

describe('status answers read the same on both status paths (StatusConnections and the node:http fallback)', () => {
  const servers: Server[] = [];
  const transports: NodeHttpTransport[] = [];
  afterEach(async () => {
    for (const transport of transports.splice(0)) transport.close();
    for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
  });

  const put = async (port: number, headers: Record<string, string>): Promise<Pick<TransportResponse, 'status' | 'body' | 'retryAfter'>> => {
    const transport = new NodeHttpTransport({ baseUrl: `http://127.0.0.1:${port}`, headers, maxResponseBytes: 4096, statusSockets: 2 });
    transports.push(transport);
    const deadlines = new RequestDeadlines(5_000);
    const call = deadlines.start();
    try {
      const { status, body, retryAfter } = await transport.request('status', 'PUT', '/v1/status', '{"a":1}', call);
      return { status, body, retryAfter };
    } finally {
      deadlines.finish(call);
    }
  };

  for (const { name, reply, closeAfter } of ANSWERS) {
    it(name, async () => {
      const { server, port } = await scriptedServer(reply, closeAfter ?? false);
      servers.push(server);
      const custom = await put(port, { accept: 'application/json', 'x-internal-token': 'plain' });
      const fallback = await put(port, { accept: 'application/json', 'x-internal-token': 'tök' });
      // The second transport really took the fallback: no StatusConnections of its own.
      expect((transports[0] as unknown as { statusConnections: unknown }).statusConnections).toBeDefined();
      expect((transports[1] as unknown as { statusConnections: unknown }).statusConnections).toBeUndefined();
      expect(custom).toEqual(fallback);
    });
  }
});
