// The loopback Tenant Manager of the benchmark, in its own process so that its CPU
// is never charged to the client being measured. Driven over IPC by main.ts.
import { subscribe } from 'node:diagnostics_channel';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { FakeTenantManager } from 'nestjs-tenancy/testing';
import { preciseNow } from './clock.js';
import { IpcPeer } from './ipc.js';
import type { ArrangeOp, CpuSample, ServerCommands, ServerStats, Slot } from './server.api.js';

type Args<K extends keyof ServerCommands> = ServerCommands[K]['args'];

const fakes = new Map<Slot, FakeTenantManager>();
const polls = new Map<Slot, PollTracker>();
const windows = new Map<number, WindowTracker>();

/**
 * The measured window of one slot as the server sees it: the first client request
 * (and the server process's CPU then) and the arrival of the last status write.
 * Fed by node:http's server diagnostics channel, keyed by the emulator's port, so
 * the emulator needs no hook and pays one timestamp per request.
 */
class WindowTracker {
  firstRequest: { at: number; cpuMicros: number } | null = null;
  lastStatusAt: number | null = null;
  statusRequests = 0;

  observe(request: IncomingMessage): void {
    const at = preciseNow();
    if (this.firstRequest === null) {
      const { user, system } = process.cpuUsage();
      this.firstRequest = { at, cpuMicros: user + system };
    }
    if (request.url?.startsWith('/v1/status') && (request.method === 'PUT' || request.method === 'DELETE')) {
      this.statusRequests += 1;
      this.lastStatusAt = at;
    }
  }
}

subscribe('http.server.request.start', (message) => {
  const { request, socket } = message as { request: IncomingMessage; socket: Socket };
  windows.get(socket.localPort ?? -1)?.observe(request);
});

/** When a client's incremental polls are answered (from the emulator's request log lines). */
class PollTracker {
  last: number | undefined;
  private waiters: Array<(at: number) => void> = [];

  observe(line: string): void {
    if (!line.startsWith('GET /v1/events?') || line.includes('replay=true')) return;
    const at = preciseNow();
    this.last = at;
    for (const wake of this.waiters.splice(0)) wake(at);
  }

  next(): Promise<number> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}

function fake(slot: Slot): FakeTenantManager {
  const found = fakes.get(slot);
  if (!found) throw new Error(`no emulator for slot ${slot}; call reset first`);
  return found;
}

function perSlot<T>(slots: readonly Slot[], action: (fake: FakeTenantManager) => T): Record<string, T> {
  const out: Record<string, T> = {};
  for (const slot of slots) out[slot] = action(fake(slot));
  return out;
}

const isReplay = (request: { path: string; query: Readonly<Record<string, string>> }) =>
  request.path === '/v1/events' && request.query['replay'] === 'true';

const peer = IpcPeer.toParent();

peer.handle('reset', async ({ slots, trackPolls }: Args<'reset'>) => {
  for (const old of fakes.values()) await old.stop();
  fakes.clear();
  polls.clear();
  windows.clear();
  const urls: Record<string, string> = {};
  for (const slot of slots) {
    const tracker = new PollTracker();
    // No request log: the benchmark only needs the counters, and 300k recorded
    // requests would cost the server memory and time the client would wait for.
    // The per-request log line is only wanted (and paid for) to track poll phases.
    const instance = new FakeTenantManager({
      recordRequests: false,
      ...(trackPolls ? { logRequests: (line: string) => tracker.observe(line) } : {}),
    });
    urls[slot] = await instance.start();
    windows.set(Number(new URL(urls[slot]).port), new WindowTracker());
    fakes.set(slot, instance);
    polls.set(slot, tracker);
  }
  return urls;
});

peer.handle('urls', () => {
  const urls: Record<string, string> = {};
  for (const [slot, instance] of fakes) urls[slot] = instance.url;
  return urls;
});

peer.handle('seed', ({ slots, orgs, projectsPerOrg, prefix }: Args<'seed'>) =>
  perSlot(slots, (f) => {
    f.seed(orgs, projectsPerOrg, prefix);
    return f.lastEventId;
  }),
);

peer.handle('arrange', ({ slots, ops }: Args<'arrange'>) =>
  perSlot(slots, (f) => {
    for (const op of ops as ArrangeOp[]) {
      if (op[0] === 'org') f.createOrg(op[1]);
      else f.createProject(op[1], op[2]);
    }
    return f.lastEventId;
  }),
);

peer.handle('emptyReplay', ({ slots, lastEventId, count }: Args<'emptyReplay'>) => {
  perSlot(slots, (f) =>
    f.failNext(count, { status: 200, body: JSON.stringify({ events: [], lastEventId }), match: isReplay }),
  );
  return null;
});

peer.handle('appendAtPhase', async ({ slot, name, offsetMs, notBefore }: Args<'appendAtPhase'>) => {
  const f = fake(slot);
  const tracker = polls.get(slot)!;
  for (;;) {
    const poll = tracker.last ?? (await tracker.next());
    const target = poll + offsetMs;
    const now = preciseNow();
    if (target < Math.max(now, notBefore)) {
      await tracker.next();
      continue;
    }
    await sleep(target - now);
    if (tracker.last !== poll) continue; // polled meanwhile: plan again from that poll
    f.createOrg(name);
    const at = preciseNow();
    return { at, phaseMs: at - poll };
  }
});

peer.handle('delay', ({ slots, ms }: Args<'delay'>) => {
  perSlot(slots, (f) => f.delay(ms));
  return null;
});

peer.handle('stats', ({ slot, controller }: Args<'stats'>): ServerStats => {
  const f = fake(slot);
  const statusRows: Record<string, number> = {};
  for (const row of f.statusRows(controller)) statusRows[row.status] = (statusRows[row.status] ?? 0) + 1;
  const window = windows.get(Number(new URL(f.url).port));
  return {
    requests: f.requestCount,
    connections: f.connections,
    statusRows,
    statusRequests: window?.statusRequests ?? 0,
    firstRequest: window?.firstRequest ?? null,
    lastStatusAt: window?.lastStatusAt ?? null,
  };
});

peer.handle('cpu', (): CpuSample => {
  const usage = process.cpuUsage();
  return { cpuMicros: usage.user + usage.system, at: preciseNow() };
});

peer.emit('started');
