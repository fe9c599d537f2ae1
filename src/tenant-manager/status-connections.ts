import { validateHeaderName, validateHeaderValue } from 'node:http';
import { connect, type Socket } from 'node:net';
import { requestAborted } from '../tenancy.messages.js';
import { Http1ResponseReader } from './http1-response-reader.js';
import { Connection, StatusRequest } from './status-connection.js';
import { StatusRequestHeads } from './status-request-heads.js';
import { EMPTY_OK, errorDetail, TransportFailure, type TransportMethod, type TransportResponse } from './tenant-manager.transport.js';
import type { TransportCall } from './transport-call.js';

// Reuse an idle connection only up to a second before the server's Keep-Alive hint says it closes it.
const KEEP_ALIVE_MARGIN_MS = 1_000;
// Status answers are a few hundred bytes; a larger one arrives in several reads.
const READ_BUFFER_BYTES = 16 * 1024;

/** Where the status requests go and what every one of them carries. */
export interface StatusTarget {
  readonly host: string;
  readonly port: number;
  /** The `Host` header: host (bracketed when IPv6) and port unless the default. */
  readonly hostHeader: string;
  readonly pathPrefix: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly maxSockets: number;
  readonly maxResponseBytes: number;
}

/**
 * The status channel's own HTTP/1.1 keep-alive connections over plain TCP: a status
 * write is a small PUT or DELETE answered by an empty 200, two per event, so what
 * node:http spends around it (request and response objects, streams, agent
 * bookkeeping, listeners per request) was most of a replay's client CPU. Here a
 * request is one pre-built head plus its body, written in one go; the answer is read
 * by a {@link Http1ResponseReader} listening once per connection. At most
 * `maxSockets` connections, one request each; more wait in line. Idle connections
 * do not keep the process alive.
 */
export class StatusConnections {
  private readonly idle: Connection[] = [];
  private readonly waiting: StatusRequest[] = [];
  private open = 0;
  private unrefScheduled = false;
  // Connections carrying a request (for close()).
  private readonly busy = new Set<Connection>();
  private readonly heads: StatusRequestHeads;
  private readonly readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);

  private constructor(private readonly target: StatusTarget) {
    let lines = `Host: ${target.hostHeader}\r\n`;
    for (const [name, value] of Object.entries(target.headers)) lines += `${name}: ${value}\r\n`;
    this.heads = new StatusRequestHeads(target.pathPrefix, `${lines}content-type: application/json\r\nConnection: keep-alive\r\n`);
  }

  /**
   * The connections for `target`, or undefined when its headers are ones node:http
   * would refuse or encode differently (control characters, non-ASCII text): those
   * requests stay on node:http, which reports them as it always did.
   */
  static create(target: StatusTarget): StatusConnections | undefined {
    for (const [name, value] of Object.entries(target.headers)) {
      try {
        validateHeaderName(name);
        validateHeaderValue(name, value);
      } catch {
        return undefined;
      }
      if (!/^[\x20-\x7e]*$/.test(name + value)) return undefined;
    }
    return new StatusConnections(target);
  }

  /** Sends one request with a JSON body; settles as {@link TenantManagerTransport.request} does. */
  request(method: TransportMethod, path: string, body: string, call: TransportCall): Promise<TransportResponse> {
    const bytes = this.heads.headFor(method, path, Buffer.byteLength(body)) + body;
    return new Promise<TransportResponse>((resolve, reject) => {
      const request = new StatusRequest(bytes, resolve, reject);
      call.onCancel(() => this.cancel(request));
      if (!request.settled) this.dispatch(request);
    });
  }

  /** Closes every connection, idle or busy (a busy one fails its request); later requests open new ones. */
  close(): void {
    // Copies: dropping one lets a waiting request open a new connection, which stays.
    for (const connection of [...this.idle, ...this.busy]) {
      // Failed here, not by the 'close' that follows: that would take a body read to
      // the close as complete, or send the request again.
      const request = connection.current;
      connection.current = undefined;
      this.notBusy(connection);
      this.drop(connection);
      if (request) {
        request.connection = undefined;
        request.reject(new TransportFailure('ECONNRESET'));
      }
    }
  }

  private dispatch(request: StatusRequest): void {
    const connection = this.takeIdle() ?? (this.open < this.target.maxSockets ? this.connect() : undefined);
    if (connection) this.send(connection, request);
    else this.waiting.push(request);
  }

  private send(connection: Connection, request: StatusRequest): void {
    connection.current = request;
    connection.heard = false;
    request.connection = connection;
    this.busy.add(connection);
    if (!connection.referenced) {
      connection.referenced = true;
      connection.socket.ref();
    }
    connection.socket.write(request.bytes);
  }

  private takeIdle(): Connection | undefined {
    const now = performance.now();
    for (;;) {
      // Newest first: the fewest connections stay in use.
      const connection = this.idle.pop();
      if (!connection) return undefined;
      const limit = connection.keepAliveMs;
      // Destroyed by the peer, its 'close' not yet delivered: skip it like an expired one.
      const usable = !connection.socket.destroyed && (limit === undefined || now - connection.idleSince < limit - KEEP_ALIVE_MARGIN_MS);
      if (usable) return connection;
      this.drop(connection);
    }
  }

  private connect(): Connection {
    const { host, port, maxResponseBytes } = this.target;
    // Reads land in one buffer shared by all connections and go straight to the reader,
    // past the stream machinery ('data' events, a Buffer per read): the reader copies
    // what it keeps before the callback returns.
    const socket: Socket = connect({
      host,
      port,
      noDelay: true,
      keepAlive: true,
      keepAliveInitialDelay: 1_000,
      onread: { buffer: this.readBuffer, callback: (length: number, buffer: Uint8Array): boolean => this.received(connection, buffer as Buffer, length) },
    });
    const connection: Connection = new Connection(socket, new Http1ResponseReader(maxResponseBytes));
    this.open += 1;
    socket.on('error', (error: Error) => this.failed(connection, new TransportFailure(errorDetail(error), { cause: error })));
    socket.on('close', () => this.closed(connection));
    return connection;
  }

  /** Bytes arrived on `connection`; true: keep reading (the onread contract). */
  private received(connection: Connection, buffer: Buffer, length: number): boolean {
    const request = connection.current;
    if (!request) {
      // Nothing was asked on this connection: whatever it is, the connection is unusable.
      this.drop(connection);
      return false;
    }
    connection.heard = true;
    const reader = connection.reader;
    let complete: boolean;
    try {
      complete = reader.push(buffer, length);
    } catch (error) {
      this.failed(connection, error as Error);
      return false;
    }
    if (complete) this.finish(connection, request);
    return true;
  }

  private finish(connection: Connection, request: StatusRequest): void {
    const reader = connection.reader;
    const status = reader.status;
    const body = reader.text();
    const response = status === 200 && body === '' ? EMPTY_OK : { status, body, retryAfter: reader.retryAfter };
    connection.current = undefined;
    request.connection = undefined;
    this.notBusy(connection);
    const keepAliveMs = reader.keepAliveMs;
    const reusable = reader.reusable && !connection.dead && (keepAliveMs === undefined || keepAliveMs > KEEP_ALIVE_MARGIN_MS);
    reader.reset();
    if (reusable) {
      connection.keepAliveMs = keepAliveMs;
      this.release(connection);
    } else {
      this.drop(connection);
    }
    request.resolve(response);
  }

  /** A free connection takes the next waiting request, else rests. */
  private release(connection: Connection): void {
    connection.reused = true;
    const next = this.waiting.shift();
    if (next) return this.send(connection, next);
    connection.idleSince = performance.now();
    this.idle.push(connection);
  }

  /**
   * `connection` carries no request any more. Idle connections must not keep the
   * process alive; while another one carries a request the process stays alive anyway,
   * and a free one is usually busy again within the same turn: they are let go once
   * nothing is busy, a turn later.
   */
  private notBusy(connection: Connection): void {
    this.busy.delete(connection);
    if (this.busy.size === 0 && !this.unrefScheduled) {
      this.unrefScheduled = true;
      setImmediate(this.unrefIdle);
    }
  }

  private readonly unrefIdle = (): void => {
    this.unrefScheduled = false;
    // Busy again: the release that empties `busy` next schedules this anew.
    if (this.busy.size > 0) return;
    for (const connection of this.idle) {
      if (!connection.referenced) continue;
      connection.referenced = false;
      connection.socket.unref();
    }
  };

  /**
   * The request in flight on `connection` failed: the connection goes with it. On a
   * reused connection with no byte of the answer yet, the server most likely closed it
   * while idle as the request went out (idle timeouts, proxies draining): the request
   * is sent again, first in line, as Go's Transport does. Status writes are idempotent;
   * a failure on a fresh connection is final, so this ends (and the deadline still runs).
   */
  private failed(connection: Connection, error: Error): void {
    const request = connection.current;
    connection.current = undefined;
    this.notBusy(connection);
    const resend = request !== undefined && !request.settled && connection.reused && !connection.heard;
    if (request) request.connection = undefined;
    // Before the drop: the slot it frees goes to this request.
    if (resend) this.waiting.unshift(request);
    this.drop(connection);
    if (request && !resend && !request.settled) request.reject(error);
  }

  private closed(connection: Connection): void {
    const request = connection.current;
    if (request) {
      try {
        // A body that runs to the close is complete now; anything else ended early.
        connection.reader.end();
        this.finish(connection, request);
      } catch (error) {
        this.failed(connection, error as Error);
      }
    }
    this.forget(connection);
  }

  /** Destroys a connection (idempotent); a request on it learns of it through 'close'. */
  private drop(connection: Connection): void {
    if (!connection.dead) connection.socket.destroy();
    this.forget(connection);
  }

  private forget(connection: Connection): void {
    if (connection.dead) return;
    connection.dead = true;
    this.open -= 1;
    const at = this.idle.indexOf(connection);
    if (at >= 0) this.idle.splice(at, 1);
    // Room for a new connection: the next waiting request may open it.
    const next = this.waiting.shift();
    if (next) this.dispatch(next);
  }

  private cancel(request: StatusRequest): void {
    if (request.settled) return;
    const connection = request.connection;
    if (connection) {
      connection.current = undefined;
      request.connection = undefined;
      this.notBusy(connection);
      this.drop(connection);
    } else {
      const at = this.waiting.indexOf(request);
      if (at >= 0) this.waiting.splice(at, 1);
    }
    request.reject(new TransportFailure(requestAborted()));
  }
}
