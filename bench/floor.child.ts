// `npm run bench -- --floor`: what one status write costs on this machine with no
// library around it, per HTTP client: N `PUT /v1/status` at a fixed concurrency.
// "nestjs-tenancy transport" is the library's own default transport (its status
// channel: HTTP/1.1 keep-alive connections of its own), loaded from the built
// package next to what `nestjs-tenancy` resolves to; "node:http as library" builds
// each request the way TenantManagerClient did before that (headers object, body
// read to the end into one Buffer); the others are the candidates of issue 14.
import { Agent, type IncomingMessage, request } from 'node:http';
import { Client, Pool, type Dispatcher } from 'undici';
import { runJob } from './child.runtime.js';
import type { FloorJob, FloorResult } from './floor.api.js';
import { cpuMicros } from './process.meter.js';

/** Sends one status write; resolves when its (empty) answer was read to the end. */
type Send = (i: number) => Promise<void>;

interface Transport {
  readonly send: Send;
  close(): Promise<void>;
}

const STATUS_PATH = '/v1/status';

function resourceId(i: number): string {
  return `0b0e0000-0000-4000-8000-${String(i).padStart(12, '0')}`;
}

function body(i: number): string {
  return JSON.stringify({ controller: 'bench-floor', resourceType: 'project', resourceId: resourceId(i), status: 'completed', message: '' });
}

/**
 * The body with only the resource id spliced into a pre-serialised template:
 * what a status writer can do since every other field is constant per run.
 */
function templatedBody(): (i: number) => string {
  const [head, tail] = body(0).split(resourceId(0));
  return (i) => head + resourceId(i) + tail;
}

function failed(status: number | undefined, text: string): Error {
  return new Error(`floor: HTTP ${status} ${text.slice(0, 200)}`);
}

function nodeHttpAsLibrary(base: URL, concurrency: number): Transport {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency + 2 });
  const send: Send = (i) =>
    new Promise<void>((resolve, reject) => {
      const payload = body(i);
      const req = request(
        {
          agent,
          protocol: base.protocol,
          hostname: base.hostname,
          port: base.port,
          method: 'PUT',
          path: STATUS_PATH,
          headers: { accept: 'application/json', 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
        },
        (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            if (res.statusCode !== 200) reject(failed(res.statusCode, text));
            else resolve();
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  return { send, close: async () => agent.destroy() };
}

/**
 * node:http with everything constant prepared once: the request options and
 * headers object (content-length too: the body's length is constant), the body
 * from a template, and an empty answer drained with resume() instead of collected.
 */
function nodeHttpTuned(base: URL, concurrency: number): Transport {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency + 2, scheduling: 'lifo' });
  const bodyOf = templatedBody();
  const length = String(Buffer.byteLength(bodyOf(0)));
  const options = {
    agent,
    hostname: base.hostname,
    port: base.port,
    method: 'PUT',
    path: STATUS_PATH,
    // One headers object for every request (node:http 20 answers a flat raw-header array with a malformed request).
    headers: { accept: 'application/json', 'content-type': 'application/json', 'content-length': length },
  };
  const send: Send = (i) =>
    new Promise<void>((resolve, reject) => {
      const req = request(options, (res: IncomingMessage) => {
        if (res.statusCode !== 200) {
          res.resume();
          reject(failed(res.statusCode, ''));
          return;
        }
        res.on('end', resolve);
        res.resume();
      });
      req.on('error', reject);
      req.end(bodyOf(i));
    });
  return { send, close: async () => agent.destroy() };
}

const UNDICI_HEADERS = ['accept', 'application/json', 'content-type', 'application/json'];

function undiciRequest(dispatcher: Dispatcher & { close(): Promise<void> }): Transport {
  const bodyOf = templatedBody();
  const send: Send = async (i) => {
    const res = await dispatcher.request({ path: STATUS_PATH, method: 'PUT', headers: UNDICI_HEADERS, body: bodyOf(i) });
    if (res.statusCode !== 200) throw failed(res.statusCode, await res.body.text());
    await res.body.dump();
  };
  return { send, close: () => dispatcher.close() };
}

/** undici's lowest-level API: a handler object per request, no body stream. */
function undiciDispatch(pool: Pool): Transport {
  const bodyOf = templatedBody();
  const send: Send = (i) =>
    new Promise<void>((resolve, reject) => {
      let status = 0;
      pool.dispatch(
        { path: STATUS_PATH, method: 'PUT', headers: UNDICI_HEADERS, body: bodyOf(i) },
        {
          onConnect: () => undefined,
          onHeaders: (statusCode: number) => {
            status = statusCode;
            return true;
          },
          onData: () => true,
          onComplete: () => (status === 200 ? resolve() : reject(failed(status, ''))),
          onError: reject,
        } as unknown as Dispatcher.DispatchHandler,
      );
    });
  return { send, close: () => pool.close() };
}

// The shapes the bench uses of two internal modules (src/tenant-manager/node-http.transport.ts, transport-call.ts).
interface TransportModule {
  NodeHttpTransport: new (config: { baseUrl: string; headers: Record<string, string>; maxResponseBytes: number; statusSockets: number }) => {
    request(channel: 'status', method: 'PUT', path: string, body: string, call: unknown): Promise<{ status: number; body: unknown }>;
    close(): void;
  };
}
interface DeadlinesModule {
  RequestDeadlines: new (timeoutMs: number) => { start(): unknown; finish(call: unknown): void };
}

/** Internal modules of the built package, found beside its entry point (not part of its API). */
async function libraryModule<T>(relative: string): Promise<T> {
  return (await import(new URL(relative, import.meta.resolve('nestjs-tenancy')).href)) as T;
}

/** The library's default transport, status channel, under its per-request deadline as the client uses it. */
async function libraryTransport(base: URL, concurrency: number): Promise<Transport> {
  const { NodeHttpTransport } = await libraryModule<TransportModule>('./tenant-manager/node-http.transport.js');
  const { RequestDeadlines } = await libraryModule<DeadlinesModule>('./tenant-manager/transport-call.js');
  const client = new NodeHttpTransport({
    baseUrl: base.origin,
    headers: { accept: 'application/json' },
    maxResponseBytes: 512 * 1024 * 1024,
    statusSockets: concurrency + 2,
  });
  const deadlines = new RequestDeadlines(30_000);
  const bodyOf = templatedBody();
  const send: Send = async (i) => {
    const call = deadlines.start();
    try {
      const res = await client.request('status', 'PUT', STATUS_PATH, bodyOf(i), call);
      if (res.status !== 200) throw failed(res.status, typeof res.body === 'string' ? res.body : '');
    } finally {
      deadlines.finish(call);
    }
  };
  return { send, close: async () => client.close() };
}

async function transport(job: FloorJob): Promise<Transport> {
  const base = new URL(job.url);
  const origin = base.origin;
  switch (job.client) {
    case 'nestjs-tenancy transport':
      return libraryTransport(base, job.concurrency);
    case 'node:http as library':
      return nodeHttpAsLibrary(base, job.concurrency);
    case 'node:http tuned':
      return nodeHttpTuned(base, job.concurrency);
    case 'undici Pool request':
      return undiciRequest(new Pool(origin, { connections: job.concurrency, pipelining: 1 }));
    case 'undici Pool dispatch':
      return undiciDispatch(new Pool(origin, { connections: job.concurrency, pipelining: 1 }));
    case 'undici Pool pipelining 4':
      return undiciRequest(new Pool(origin, { connections: Math.max(1, Math.ceil(job.concurrency / 4)), pipelining: 4 }));
    case 'undici Client pipelining 8':
      return undiciRequest(new Client(origin, { pipelining: job.concurrency }));
  }
}

async function run(job: FloorJob): Promise<FloorResult> {
  const { send, close } = await transport(job);
  // Warm-up outside the measurement: connections, JIT.
  const warm = Math.min(500, Math.floor(job.requests / 10));
  let next = 0;
  const drive = async (until: number) => {
    await Promise.all(
      Array.from({ length: job.concurrency }, async () => {
        while (next < until) await send(next++);
      }),
    );
  };
  await drive(warm);
  const cpu = cpuMicros();
  const started = performance.now();
  await drive(warm + job.requests);
  const elapsedMs = performance.now() - started;
  const cpuMs = (cpuMicros() - cpu) / 1000;
  await close();
  return { elapsedMs, cpuMs };
}

runJob<FloorJob, FloorResult>((job) => run(job));
