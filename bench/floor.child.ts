// `npm run bench -- --floor`: what one status write costs on this machine with no
// library around it: N `PUT /v1/status` through node:http, sequential and
// concurrent. The library's TenantManagerClient is itself on node:http (its own
// keep-alive agent, maxSockets = concurrency + 2), and this request is built the
// way it builds one (same headers, body read to the end as one Buffer), so the
// floor is directly comparable with S1: the gap is the library's own cost.
import { Agent, type IncomingMessage, request } from 'node:http';
import { IpcPeer } from './ipc.js';

/** Only node:http now: the library no longer uses axios, so there is no second transport to price. */
export type FloorClient = 'node:http';

export interface FloorJob {
  readonly url: string;
  readonly client: FloorClient;
  readonly concurrency: number;
  readonly requests: number;
}

export interface FloorResult {
  readonly elapsedMs: number;
  readonly cpuMs: number;
}

function body(i: number): string {
  const id = `0b0e0000-0000-4000-8000-${String(i).padStart(12, '0')}`;
  return JSON.stringify({ controller: 'bench-floor', resourceType: 'project', resourceId: id, status: 'completed', message: '' });
}

async function run(job: FloorJob): Promise<FloorResult> {
  const base = new URL(job.url);
  const agent = new Agent({ keepAlive: true, maxSockets: job.concurrency + 2 });
  const one = (i: number) =>
    new Promise<void>((resolve, reject) => {
      const payload = body(i);
      const req = request(
        {
          agent,
          protocol: base.protocol,
          hostname: base.hostname,
          port: base.port,
          method: 'PUT',
          path: `${base.pathname.replace(/\/+$/, '')}/v1/status`,
          headers: { accept: 'application/json', 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
        },
        (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            if (res.statusCode !== 200) reject(new Error(`floor: HTTP ${res.statusCode} ${text.slice(0, 200)}`));
            else resolve();
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  const cpu = process.cpuUsage();
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: job.concurrency }, async () => {
      while (next < job.requests) await one(next++);
    }),
  );
  const elapsedMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  agent.destroy();
  return { elapsedMs, cpuMs: (used.user + used.system) / 1000 };
}

const peer = IpcPeer.toParent();
peer.handle('run', (job: FloorJob) => run(job));
peer.handle('exit', () => {
  setImmediate(() => process.exit(0));
  return null;
});
peer.emit('started');
