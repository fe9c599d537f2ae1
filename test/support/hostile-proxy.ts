import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** How the proxy misbehaves for a matching request instead of forwarding it. */
export type Misbehaviour =
  /** 200 with headers at once, then one byte of body every `every` ms, never ending. */
  | { readonly kind: 'trickle'; readonly every: number }
  /** 200, chunked, an endless body written as fast as the client reads. */
  | { readonly kind: 'endless' }
  /** 200 with a body of `bytes` (declared in content-length, or chunked when `chunked`). */
  | { readonly kind: 'huge'; readonly bytes: number; readonly chunked?: boolean };

export interface ProxiedRequest {
  readonly method: string;
  /** Path and query as the client sent them (an absolute URL when it was used as an HTTP proxy). */
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
}

const CHUNK = Buffer.alloc(1024 * 1024, 0x20);

/**
 * A loopback reverse proxy in front of a fake Tenant Manager that forwards every
 * request, except those matching `rule`, which get a hostile answer. Also works as
 * a forward HTTP proxy (`HTTP_PROXY`): absolute request URLs go to the target too.
 * Counts the bytes it wrote for hostile answers, so tests can bound what a client read.
 */
export class HostileProxy {
  rule: { readonly match: (req: ProxiedRequest) => boolean; readonly behave: Misbehaviour } | undefined;
  readonly seen: ProxiedRequest[] = [];
  hostileBytesWritten = 0;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly target: string) {}

  async start(): Promise<string> {
    const server = createServer((req, res) => this.handle(req, res));
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  /** Open client connections right now (a client that abandoned a body must close its own). */
  get openConnections(): number {
    return this.sockets.size;
  }

  async stop(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    this.timers.clear();
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const seen: ProxiedRequest = { method: req.method!, url: req.url!, headers: req.headers };
    this.seen.push(seen);
    const rule = this.rule;
    if (rule?.match(seen)) {
      req.resume();
      this.misbehave(rule.behave, res);
      return;
    }
    this.forward(req, res);
  }

  private misbehave(behave: Misbehaviour, res: ServerResponse): void {
    if (behave.kind === 'trickle') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{');
      const timer = setInterval(() => {
        if (res.destroyed) return this.clear(timer);
        res.write(' ');
      }, behave.every);
      this.timers.add(timer);
      res.on('close', () => this.clear(timer));
      return;
    }
    const declared = behave.kind === 'huge' && !behave.chunked ? { 'content-length': String(behave.bytes) } : {};
    res.writeHead(200, { 'content-type': 'application/json', ...declared });
    let left = behave.kind === 'huge' ? behave.bytes : Infinity;
    const pump = () => {
      while (!res.destroyed && left > 0) {
        const chunk = left >= CHUNK.length ? CHUNK : CHUNK.subarray(0, left);
        left -= chunk.length;
        this.hostileBytesWritten += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      if (!res.destroyed) res.end();
    };
    pump();
  }

  private forward(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url!, this.target);
    const upstream = request(
      new URL(url.pathname + url.search, this.target),
      { method: req.method, headers: { ...req.headers, host: new URL(this.target).host } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  }

  private clear(timer: NodeJS.Timeout): void {
    clearInterval(timer);
    this.timers.delete(timer);
  }
}
