import type { Socket } from 'node:net';
import type { Http1ResponseReader } from './http1-response-reader.js';
import type { TransportResponse } from './tenant-manager.transport.js';

/** One status request: its bytes, its promise, and the connection carrying it once sent. */
export class StatusRequest {
  connection: Connection | undefined;
  settled = false;

  constructor(
    readonly bytes: string,
    private readonly onResolve: (response: TransportResponse) => void,
    private readonly onReject: (error: Error) => void,
  ) {}

  resolve(response: TransportResponse): void {
    this.settled = true;
    this.onResolve(response);
  }

  reject(error: Error): void {
    this.settled = true;
    this.onReject(error);
  }
}

/** One keep-alive connection; carries one request at a time. */
export class Connection {
  current: StatusRequest | undefined;
  idleSince = 0;
  keepAliveMs: number | undefined;
  dead = false;
  /** Carried a whole exchange before: the server may have closed it while idle. */
  reused = false;
  /** Some bytes of the current request's answer arrived. */
  heard = false;
  /** Keeps the process alive (while it carries a request, and until the next turn after). */
  referenced = true;

  constructor(
    readonly socket: Socket,
    readonly reader: Http1ResponseReader,
  ) {}
}
