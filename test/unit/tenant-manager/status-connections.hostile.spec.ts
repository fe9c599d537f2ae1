import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { NodeHttpTransport } from '../../../src/tenant-manager/node-http.transport.js';
import { TransportFailure, type TransportResponse } from '../../../src/tenant-manager/tenant-manager.transport.js';
import { RequestDeadlines } from '../../../src/tenant-manager/transport-call.js';
import { responseTooLarge } from '../../../src/tenancy.messages.js';
import { waitFor } from '../../support/wait-for.js';

/**
 * Hostile servers against the status channel's own HTTP/1.1 client (StatusConnections +
 * Http1ResponseReader), compared where it matters with what node:http (the events
 * channel of the same transport) makes of the very same bytes.
 */

const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n';

interface Received {
  readonly socket: Socket;
  readonly head: string;
  readonly body: string;
  /** 1-based, over the whole server. */
  readonly index: number;
}

type Answer = (request: Received) => void;

interface RawServer {
  readonly server: Server;
  readonly port: number;
  /** Every accepted connection, in order. */
  readonly connections: Socket[];
  readonly requests: Received[];
  /** Most connections open at once. */
  readonly peak: () => number;
  /** Connections open now. */
  readonly openNow: () => number;
  /** Called when a request's head arrived, before its body (for early answers). */
  onHead?: (socket: Socket, head: string) => void;
  answer: Answer;
}

/** A raw TCP server handing each request (head + Content-Length body) to `answer`, which writes any bytes. */
async function rawServer(answer: Answer): Promise<RawServer> {
  const connections: Socket[] = [];
  const requests: Received[] = [];
  let open = 0;
  let peak = 0;
  const state: RawServer = {
    server: undefined as unknown as Server,
    port: 0,
    connections,
    requests,
    peak: () => peak,
    openNow: () => open,
    answer,
  };
  const server = createServer((socket) => {
    // Only the client's sockets may keep the process alive: tests look at that.
    socket.unref();
    connections.push(socket);
    open += 1;
    peak = Math.max(peak, open);
    socket.on('close', () => (open -= 1));
    socket.on('error', () => undefined);
    let buffered = Buffer.alloc(0);
    let headSeen = false;
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        const end = buffered.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buffered.toString('latin1', 0, end);
        if (!headSeen) {
          headSeen = true;
          state.onHead?.(socket, head);
        }
        const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
        if (buffered.length < end + 4 + length) return;
        const request = { socket, head, body: buffered.toString('utf8', end + 4, end + 4 + length), index: requests.length + 1 };
        buffered = buffered.subarray(end + 4 + length);
        headSeen = false;
        requests.push(request);
        state.answer(request);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(state, { server, port: (server.address() as AddressInfo).port });
}

type Outcome = { readonly ok: { status: number; body: string; retryAfter?: string } } | { readonly failed: string };

async function outcomeOf(promise: Promise<TransportResponse>): Promise<Outcome> {
  try {
    const { status, body: raw, retryAfter } = await promise;
    // Status answers are text; only an events page's 200 may come as bytes.
    const body = typeof raw === 'string' ? raw : Buffer.concat(raw).toString('utf8');
    return { ok: retryAfter === undefined ? { status, body } : { status, body, retryAfter } };
  } catch (thrown) {
    return { failed: thrown instanceof TransportFailure ? thrown.detail : `not a TransportFailure: ${String(thrown)}` };
  }
}

describe('StatusConnections against hostile servers', () => {
  const servers: RawServer[] = [];
  const transports: NodeHttpTransport[] = [];
  afterEach(async () => {
    for (const transport of transports.splice(0)) transport.close();
    for (const s of servers.splice(0)) {
      for (const socket of s.connections) socket.destroy();
      await new Promise((resolve) => s.server.close(resolve));
    }
  });

  const start = async (answer: Answer, { maxResponseBytes = 1024, statusSockets = 3, timeoutMs = 5_000 } = {}) => {
    const s = await rawServer(answer);
    servers.push(s);
    const transport = new NodeHttpTransport({
      baseUrl: `http://127.0.0.1:${s.port}/base`,
      headers: { accept: 'application/json' },
      maxResponseBytes,
      statusSockets,
    });
    transports.push(transport);
    const deadlines = new RequestDeadlines(timeoutMs);
    const through = async (channel: 'status' | 'events', body: string | undefined, signal?: AbortSignal): Promise<TransportResponse> => {
      const call = deadlines.start(signal);
      try {
        return await transport.request(channel, channel === 'status' ? 'PUT' : 'GET', channel === 'status' ? '/v1/status' : '/v1/events', body, call);
      } finally {
        deadlines.finish(call);
      }
    };
    /** A status write over StatusConnections. */
    const put = (body = '{"a":1}', signal?: AbortSignal) => through('status', body, signal);
    /** The same server through node:http (the events channel). */
    const viaNode = () => through('events', undefined);
    return { ...s, s, transport, put, viaNode };
  };

  describe('reads what node:http reads, and fails where it fails', () => {
    // Each answer goes to both clients on fresh connections; `expected` pins the status channel's outcome.
    const cases: ReadonlyArray<{ name: string; wire: string; expected: Outcome; nodeDiffers?: true }> = [
      { name: 'empty 200', wire: OK, expected: { ok: { status: 200, body: '' } } },
      { name: '200 with a JSON body', wire: 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"ok":true}', expected: { ok: { status: 200, body: '{"ok":true}' } } },
      {
        name: '500 with an {"error"} body',
        wire: 'HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: 17\r\n\r\n{"error":"boom!"}',
        expected: { ok: { status: 500, body: '{"error":"boom!"}' } },
      },
      { name: '429 with Retry-After', wire: 'HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\nContent-Length: 0\r\n\r\n', expected: { ok: { status: 429, body: '', retryAfter: '7' } } },
      {
        name: '503 with an HTTP-date Retry-After',
        wire: 'HTTP/1.1 503 Service Unavailable\r\nretry-after: Wed, 21 Oct 2026 07:28:00 GMT\r\nContent-Length: 2\r\n\r\n{}',
        expected: { ok: { status: 503, body: '{}', retryAfter: 'Wed, 21 Oct 2026 07:28:00 GMT' } },
      },
      {
        name: 'chunked with extensions, an empty-data chunk extension line and trailers',
        wire: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;name=value\r\n{"a"\r\n3 ; x="y;z"\r\n:1}\r\n0;last\r\nX-Trailer: 1\r\nX-Other: 2\r\n\r\n',
        expected: { ok: { status: 200, body: '{"a":1}' } },
        // llhttp refuses the whitespace before `;` that RFC 9112 allows (BWS).
        nodeDiffers: true,
      },
      { name: 'chunked, empty body', wire: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', expected: { ok: { status: 200, body: '' } } },
      {
        name: '100 Continue and 103 Early Hints before the answer, all in one segment',
        wire: 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>; rel=preload\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nhi',
        expected: { ok: { status: 201, body: 'hi' } },
      },
      { name: 'status line without a reason', wire: 'HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok', expected: { ok: { status: 200, body: 'ok' } } },
      { name: 'HTTP/1.0 answer', wire: 'HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok', expected: { ok: { status: 200, body: 'ok' } } },
      { name: '204 without a length', wire: 'HTTP/1.1 204 No Content\r\n\r\n', expected: { ok: { status: 204, body: '' } } },
      { name: '304 with a length it does not send', wire: 'HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n', expected: { ok: { status: 304, body: '' } } },
      {
        name: 'non-ASCII bytes in a header value and reason, UTF-8 body',
        wire: 'HTTP/1.1 400 B\u00e4d\r\nX-Note: caf\u00e9\r\nContent-Length: 21\r\n\r\n{"error":"d\u00c3\u00a9j\u00c3\u00a0 vu"}',
        expected: { ok: { status: 400, body: '{"error":"déjà vu"}' } },
      },
      { name: 'duplicate equal Content-Length', wire: 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok', expected: { ok: { status: 200, body: 'ok' } }, nodeDiffers: true },
      { name: 'conflicting Content-Length', wire: 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nokk', expected: { failed: 'malformed HTTP response (Content-Length)' } },
      { name: 'Content-Length over maxResponseBytes', wire: 'HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n', expected: { failed: responseTooLarge(1024) } },
      { name: 'chunked body over maxResponseBytes', wire: `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${'400\r\n' + 'x'.repeat(1024) + '\r\n'}1\r\ny\r\n0\r\n\r\n`, expected: { failed: responseTooLarge(1024) } },
      { name: 'header line without a colon', wire: 'HTTP/1.1 200 OK\r\nNoColonHere\r\nContent-Length: 0\r\n\r\n', expected: { failed: 'malformed HTTP response (header line)' } },
      { name: 'HTTP/2 status line', wire: 'HTTP/2 200\r\nContent-Length: 0\r\n\r\n', expected: { failed: 'malformed HTTP response (status line)' } },
      { name: 'garbage instead of a status line', wire: 'SSH-2.0-OpenSSH_9.6\r\n\r\n', expected: { failed: 'malformed HTTP response (status line)' } },
      { name: 'a head over 16 KiB', wire: `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(20_000)}\r\nContent-Length: 0\r\n\r\n`, expected: { failed: 'HPE_HEADER_OVERFLOW' } },
      { name: 'a chunk size that is not hex', wire: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', expected: { failed: 'malformed HTTP response (chunk size)' } },
      { name: 'chunk data longer than its size', wire: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n', expected: { failed: 'malformed HTTP response (chunk framing)' } },
      // Each of these node:http refuses at once; without a clear error they would wait out httpTimeout
      // (the server keeps the connection open) and be reported as a timeout.
      { name: 'whitespace before a header colon', wire: 'HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nok', expected: { failed: 'malformed HTTP response (header line)' } },
      { name: 'an obs-fold continuation line', wire: 'HTTP/1.1 200 OK\r\nX-A: 1\r\n X-B: 2\r\nContent-Length: 2\r\n\r\nok', expected: { failed: 'malformed HTTP response (header line)' } },
      {
        name: 'Transfer-Encoding and Content-Length together',
        wire: 'HTTP/1.1 200 OK\r\nContent-Length: 50\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n',
        expected: { failed: 'malformed HTTP response (Transfer-Encoding with Content-Length)' },
      },
      { name: 'bare LF line endings', wire: 'HTTP/1.1 200 OK\nContent-Length: 2\n\nok', expected: { failed: 'malformed HTTP response (line ending)' } },
      { name: 'no HTTP at all', wire: 'ok', expected: { failed: 'malformed HTTP response (status line)' } },
    ];

    for (const { name, wire, expected, nodeDiffers } of cases) {
      it(name, async () => {
        const { put, viaNode } = await start((r) => r.socket.write(Buffer.from(wire, 'latin1')), { timeoutMs: 2_000 });
        const ours = await outcomeOf(put());
        expect(ours).toEqual(expected);
        const node = await outcomeOf(viaNode());
        // Same kind of outcome as node:http; the same value when both read an answer.
        if (!nodeDiffers) {
          if ('ok' in ours) expect(node).toEqual(ours);
          else expect(node).toHaveProperty('failed');
        }
      });
    }
  });

  it('a response split at every byte boundary reads the same, on one kept-alive connection', async () => {
    const wires = [
      'HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: 17\r\n\r\n{"error":"boom!"}',
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;e=1\r\n{"a"\r\n3\r\n:1}\r\n0\r\nT: 1\r\n\r\n',
    ];
    let wire = wires[0];
    let split = 0;
    const { put, connections } = await start((r) => {
      const bytes = Buffer.from(wire, 'latin1');
      r.socket.write(bytes.subarray(0, split));
      // A later turn: the client sees two reads.
      setTimeout(() => r.socket.write(bytes.subarray(split)), 1);
    });
    const expected = [
      { status: 500, body: '{"error":"boom!"}' },
      { status: 200, body: '{"a":1}' },
    ];
    for (const [i, w] of wires.entries()) {
      wire = w;
      for (split = 1; split < w.length; split += 1) {
        expect(await outcomeOf(put()), `split at ${split}`).toEqual({ ok: expected[i] });
      }
    }
    expect(connections).toHaveLength(1);
  });

  it('a body trickled one byte per segment arrives whole', async () => {
    const wire = Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n', 'latin1');
    const { put } = await start((r) => {
      let at = 0;
      const next = () => {
        if (at >= wire.length || r.socket.destroyed) return;
        r.socket.write(wire.subarray(at, at + 1));
        at += 1;
        setImmediate(next);
      };
      next();
    });
    expect(await outcomeOf(put())).toEqual({ ok: { status: 200, body: '0123456789' } });
  });

  it('bytes after the answer in the same segment are never taken for the next request', async () => {
    const { put, requests, connections } = await start((r) =>
      r.socket.write(
        r.index === 1
          ? `HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 500 Internal Server Error\r\nContent-Length: 16\r\n\r\n{"error":"lies"}`
          : `HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n#${r.index}\n`,
      ),
    );
    expect(await outcomeOf(put())).toEqual({ ok: { status: 200, body: '' } });
    expect(await outcomeOf(put())).toEqual({ ok: { status: 200, body: '#2\n' } });
    expect(requests[1].socket).not.toBe(connections[0]);
  });

  it('an unsolicited answer on an idle connection is not handed to the next request', async () => {
    const { put, requests, connections } = await start((r) => r.socket.write(`HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n#${r.index}\n`));
    expect(await outcomeOf(put())).toEqual({ ok: { status: 200, body: '#1\n' } });
    connections[0].write('HTTP/1.1 500 Internal Server Error\r\nContent-Length: 16\r\n\r\n{"error":"lies"}');
    await waitFor(() => connections[0].closed, { message: 'the client kept a connection that spoke out of turn' });
    expect(await outcomeOf(put())).toEqual({ ok: { status: 200, body: '#2\n' } });
    expect(requests[1].socket).toBe(connections[1]);
  });

  it('a late answer to a timed-out request never reaches the next request', async () => {
    let late: Socket | undefined;
    const { put, connections } = await start(
      (r) => {
        if (r.index === 1) late = r.socket;
        else {
          // The first request's answer turns up now, on its own connection, then this one's.
          late?.write('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nlate');
          r.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nmine');
        }
      },
      { timeoutMs: 300 },
    );
    expect(await outcomeOf(put())).toEqual({ failed: 'aborted' });
    // The timed-out request's connection is given up, not kept for the next request.
    await waitFor(() => connections[0].closed);
    expect(await outcomeOf(put())).toEqual({ ok: { status: 200, body: 'mine' } });
  });

  it('a server that never answers: httpTimeout fails the request and the connection is not reused', async () => {
    let answer = false;
    const { put, connections, requests } = await start((r) => answer && r.socket.write(OK), { timeoutMs: 200 });
    expect(await outcomeOf(put())).toEqual({ failed: 'aborted' });
    await waitFor(() => connections[0].closed);
    answer = true;
    expect(await outcomeOf(put())).toEqual({ ok: { status: 200, body: '' } });
    expect(requests[1].socket).toBe(connections[1]);
  });

  it('a head trickled forever (slow loris) ends at httpTimeout, not before and not never', async () => {
    const { put, connections } = await start(
      (r) => {
        r.socket.write('HTTP/1.1 200 OK\r\n');
        const timer = setInterval(() => (r.socket.destroyed ? clearInterval(timer) : r.socket.write('X: y\r\n')), 5);
        timer.unref();
      },
      { timeoutMs: 300 },
    );
    expect(await outcomeOf(put())).toEqual({ failed: 'aborted' });
    await waitFor(() => connections[0].closed);
  });

  it('an abort mid-flight (stop, leadership lost) fails at once, closes the connection, and the next request gets its own answer', async () => {
    let held: Socket | undefined;
    const { put, connections } = await start((r) => {
      if (r.index === 1) held = r.socket;
      else r.socket.write(`HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n#${r.index}`);
    });
    const controller = new AbortController();
    const pending = outcomeOf(put('{"a":1}', controller.signal));
    await waitFor(() => held !== undefined);
    controller.abort();
    expect(await pending).toEqual({ failed: 'aborted' });
    await waitFor(() => connections[0].closed);
    held!.write(OK);
    expect(await outcomeOf(put())).toEqual({ ok: { status: 200, body: '#2' } });
  });

  it('Connection: close, and a server that closes right after its answer: the next request goes on a new connection', async () => {
    const { put, requests, connections } = await start((r) => {
      if (r.index === 1) r.socket.write('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      else r.socket.end(`HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n#${r.index}`);
    });
    expect(await outcomeOf(put())).toEqual({ ok: { status: 200, body: '' } });
    await waitFor(() => connections[0].closed);
    expect(await outcomeOf(put())).toEqual({ ok: { status: 200, body: '#2' } });
    await waitFor(() => connections[1].closed);
    expect(await outcomeOf(put())).toEqual({ ok: { status: 200, body: '#3' } });
    expect(new Set(requests.map((r) => r.socket)).size).toBe(3);
  });

  describe('a kept-alive connection the server closes as the next request goes out', () => {
    // Go's net/http idle timeout, nginx's keepalive_timeout, a proxy draining: the close
    // and the next request cross. The write is idempotent (PUT/DELETE of a status row), so
    // like Go's Transport the request goes once more on a new connection instead of failing.
    for (const how of ['closes after its answer', 'resets after its answer'] as const) {
      it(`server ${how}: every request lands, none fails`, async () => {
        const { put, requests } = await start((r) => {
          // The body names the request the server read (its length grows past #9).
          const answer = `HTTP/1.1 200 OK\r\nContent-Length: ${`#${r.index}`.length}\r\n\r\n#${r.index}`;
          if (how === 'closes after its answer') r.socket.end(answer);
          else {
            r.socket.write(answer);
            setImmediate(() => r.socket.destroy());
          }
        });
        const outcomes: Outcome[] = [];
        for (let i = 0; i < 40; i += 1) outcomes.push(await outcomeOf(put(`{"i":${i}}`)));
        expect(outcomes.filter((o) => 'failed' in o)).toEqual([]);
        // Each request's own answer (a body that names the request the server read).
        for (const [i, outcome] of outcomes.entries()) {
          const index = Number(('ok' in outcome ? outcome.ok.body : '').slice(1));
          expect(requests[index - 1]?.body).toBeDefined();
          // The server read this very request there (sent once more after a crossed close, never another's body).
          expect(requests[index - 1]?.body).toBe(`{"i":${i}}`);
        }
      });
    }

    it('a failure on a fresh connection is final: a server that drops every request after the first fails it after one resend', async () => {
      const { put, requests } = await start((r) => (r.index === 1 ? r.socket.write(OK) : r.socket.destroy()));
      expect(await outcomeOf(put('{"first":1}'))).toEqual({ ok: { status: 200, body: '' } });
      expect(await outcomeOf(put('{"second":1}'))).toEqual({ failed: 'ECONNRESET' });
      expect(requests.map((r) => r.body)).toEqual(['{"first":1}', '{"second":1}', '{"second":1}']);
    });

    it('is not sent again once any byte of its answer arrived', async () => {
      const { put, requests } = await start((r) => (r.index === 1 ? r.socket.write(OK) : r.socket.end('HTTP/1.1 200 OK\r\nContent-Len')));
      await put('{"first":1}');
      expect(await outcomeOf(put('{"second":1}'))).toEqual({ failed: 'ECONNRESET' });
      expect(requests.map((r) => r.body)).toEqual(['{"first":1}', '{"second":1}']);
    });
  });

  it('close() with a body running to the close in flight fails the request, never hands back the truncated body', async () => {
    const { put, transport, requests } = await start((r) => r.socket.write('HTTP/1.1 200 OK\r\n\r\n{"trunc'));
    const pending = outcomeOf(put());
    await waitFor(() => requests.length === 1);
    // Some of the body has been read when the transport closes.
    const pool = (transport as unknown as { statusConnections: { busy: Set<{ reader: { headRead: boolean } }> } }).statusConnections;
    await waitFor(() => [...pool.busy].some((c) => c.reader.headRead));
    transport.close();
    expect(await pending).toEqual({ failed: 'ECONNRESET' });
  });

  it('a body without length or chunks runs to the close', async () => {
    const { put } = await start((r) => r.socket.end('HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n\r\n{"error":"draining"}'));
    expect(await outcomeOf(put())).toEqual({ ok: { status: 503, body: '{"error":"draining"}' } });
  });

  it('an answer before the request body was written (413 then close) is read, not lost; the next request works', async () => {
    const s = await start((r) => r.socket.write(OK));
    s.s.onHead = (socket, head) => {
      if (/content-length: (\d{6,})/i.test(head)) socket.end('HTTP/1.1 413 Request Entity Too Large\r\nConnection: close\r\nContent-Length: 25\r\n\r\n{"error":"body too long"}');
    };
    const outcome = await outcomeOf(s.put(`{"m":"${'x'.repeat(4 << 20)}"}`));
    // Either the early answer, or a clean failure if the server's close reset the connection first.
    if ('ok' in outcome) expect(outcome).toEqual({ ok: { status: 413, body: '{"error":"body too long"}' } });
    else expect(outcome.failed).toMatch(/^E[A-Z]+$/);
    s.s.onHead = undefined;
    expect(await outcomeOf(s.put())).toEqual({ ok: { status: 200, body: '' } });
  });

  it('never more connections than statusSockets, whatever the server does with them', async () => {
    // Counted on the client: the server learns of a closed connection a moment late,
    // so its own count may briefly include one the client already let go of.
    let peakOpen = 0;
    let sample = () => undefined as void;
    const { put, transport } = await start(
      (r) => {
        sample();
        const mode = r.index % 4;
        if (mode === 0) r.socket.write('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        else if (mode === 1) setTimeout(() => r.socket.write(OK), 2);
        else if (mode === 2) r.socket.end(OK);
        else r.socket.write(OK);
      },
      { statusSockets: 4 },
    );
    const pool = (transport as unknown as { statusConnections: { open: number; idle: unknown[]; busy: Set<unknown> } }).statusConnections;
    sample = () => {
      peakOpen = Math.max(peakOpen, pool.open, pool.idle.length + pool.busy.size);
    };
    const outcomes = await Promise.all(Array.from({ length: 200 }, () => outcomeOf(put())));
    expect(peakOpen).toBeGreaterThan(1);
    expect(peakOpen).toBeLessThanOrEqual(4);
    // Every request settled; failures, if any, are clean system errors.
    const failures = outcomes.flatMap((o) => ('failed' in o ? [o.failed] : []));
    for (const failure of failures) expect(failure).toMatch(/^E[A-Z]+$/);
  });

  it('after close() no client socket remains and nothing keeps the process alive', async () => {
    const clientSockets = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
    // Sockets of earlier tests are gone first: from here on every one counted is this test's.
    await waitFor(() => clientSockets() === 0, { message: 'sockets of earlier tests still open' });
    const { put, transport, openNow } = await start((r) => r.socket.write(OK));
    await Promise.all(Array.from({ length: 10 }, () => put()));
    // Idle connections do not hold the process.
    await waitFor(() => clientSockets() === 0, { message: 'idle status connections keep the process alive' });
    expect(openNow()).toBeGreaterThan(0);
    transport.close();
    await waitFor(() => openNow() === 0, { message: 'a status connection outlived close()' });
    expect(clientSockets()).toBe(0);
  });

  it('listeners on a kept-alive connection do not grow with the requests it carries', async () => {
    const { put, transport, connections } = await start((r) => r.socket.write(OK));
    const pool = (transport as unknown as { statusConnections: { idle: Array<{ socket: import('node:net').Socket }> } }).statusConnections;
    const listeners = () => {
      const socket = pool.idle[0].socket;
      return socket.eventNames().reduce((sum, name) => sum + socket.listenerCount(name), 0);
    };
    await put();
    const first = listeners();
    for (let i = 0; i < 100; i += 1) await put();
    expect(connections).toHaveLength(1);
    expect(listeners()).toBe(first);
  });

  it('failing requests leave no sockets or listeners behind (refused, reset, malformed, oversized)', async () => {
    const clientSockets = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
    await waitFor(() => clientSockets() === 0, { message: 'sockets of earlier tests still open' });
    const wires = ['HTTP/2 200\r\n\r\n', 'HTTP/1.1 200 OK\r\nContent-Length: 99999\r\n\r\n', 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'];
    const { put, openNow } = await start((r) => {
      const i = r.index % 4;
      if (i === 3) r.socket.destroy();
      else if (i === 2) r.socket.end(wires[i]);
      else r.socket.write(wires[i]);
    });
    const outcomes = await Promise.all(Array.from({ length: 40 }, () => outcomeOf(put())));
    expect(outcomes.every((o) => 'failed' in o)).toBe(true);
    await waitFor(() => openNow() === 0, { message: 'a failed request left its connection open' });
    await waitFor(() => clientSockets() === 0, { message: 'a failed request left a socket holding the process' });
  });
});
