import { runInChild } from './client.control.js';
import { FakeTmProcess } from './fake-tm.process.js';
import { FLOOR_CLIENTS, type FloorClient, type FloorJob, type FloorResult } from './floor.api.js';
import type { ServerProcess } from './server.control.js';
import { count, ms, round } from './stats.js';

export interface FloorRow {
  readonly client: FloorClient;
  readonly concurrency: number;
  readonly requests: number;
  /** Medians over the rounds. */
  readonly elapsedMs: number;
  readonly requestsPerSecond: number;
  readonly clientCpuMicrosPerRequest: number;
  readonly serverCpuMicrosPerRequest: number | null;
  /** Every round's client CPU µs per request, in run order. */
  readonly clientCpuMicrosPerRequestRounds: readonly number[];
}

/** Where the floor's requests go: the bench's emulator process, or fake-tm.mjs. */
export interface FloorServer {
  readonly label: string;
  /** A fresh server; answers its base URL. */
  reset(): Promise<string>;
  /** Server CPU so far, µs (null: unknown). */
  cpuMicros(): Promise<number | null>;
  close(): Promise<void>;
}

export function emulatorFloorServer(server: ServerProcess): FloorServer {
  return {
    label: 'FakeTenantManager (nestjs-tenancy/testing) in the bench server process',
    reset: async () => (await server.call('reset', { slots: ['library'] }))['library'],
    cpuMicros: async () => (await server.call('cpu')).cpuMicros,
    close: async () => undefined,
  };
}

export function fakeTmFloorServer(script: string): FloorServer {
  let current: FakeTmProcess | undefined;
  return {
    label: `${script} (its CPU from /proc, 10 ms resolution)`,
    reset: async () => {
      await current?.stop();
      current = await FakeTmProcess.start(script, []);
      return current.url;
    },
    cpuMicros: async () => current?.cpuMicros() ?? null,
    close: async () => current?.stop(),
  };
}

const CONFIGS: ReadonlyArray<readonly [FloorClient, number]> = [
  ['node:http as library', 1],
  ...FLOOR_CLIENTS.map((client) => [client, 8] as const),
];

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

/**
 * The transport floor: `requests` status writes per HTTP client configuration,
 * no library, `rounds` times interleaved (medians reported). Client CPU per
 * request is the number to compare with S1's "client CPU / status write": S1's
 * figure minus the floor of the transport the library uses is what the library
 * itself adds.
 */
export async function measureFloor(server: FloorServer, requests: number, rounds: number, log: (line: string) => void): Promise<FloorRow[]> {
  const samples = new Map<string, Array<{ elapsedMs: number; clientCpu: number; serverCpu: number | null }>>();
  try {
    for (let round = 0; round < rounds; round++) {
      for (const [client, concurrency] of CONFIGS) {
        const url = await server.reset();
        const before = await server.cpuMicros();
        const result = await runInChild<FloorJob, FloorResult>('./floor.child.js', 'floor', { url, client, concurrency, requests });
        const after = await server.cpuMicros();
        const key = `${client}|${concurrency}`;
        const list = samples.get(key) ?? [];
        list.push({
          elapsedMs: result.elapsedMs,
          clientCpu: (result.cpuMs * 1000) / requests,
          serverCpu: before === null || after === null ? null : (after - before) / requests,
        });
        samples.set(key, list);
      }
    }
  } finally {
    await server.close();
  }
  const rows = CONFIGS.map(([client, concurrency]): FloorRow => {
    const list = samples.get(`${client}|${concurrency}`)!;
    const elapsedMs = median(list.map((s) => s.elapsedMs));
    const serverCpus = list.map((s) => s.serverCpu).filter((v): v is number => v !== null);
    return {
      client,
      concurrency,
      requests,
      elapsedMs: Math.round(elapsedMs),
      requestsPerSecond: Math.round((requests / elapsedMs) * 1000),
      clientCpuMicrosPerRequest: round(median(list.map((s) => s.clientCpu)), 0),
      serverCpuMicrosPerRequest: serverCpus.length === 0 ? null : round(median(serverCpus), 0),
      clientCpuMicrosPerRequestRounds: list.map((s) => round(s.clientCpu, 0)),
    };
  });
  log(`Transport floor: ${count(requests)} × PUT /v1/status per run, no library, ${rounds} round(s) interleaved, medians`);
  log(`  server: ${server.label}`);
  log('  client                       conc.  elapsed     req/s    client CPU/req  server CPU/req  (client µs per round)');
  for (const row of rows) {
    log(
      `  ${row.client.padEnd(28)} ${String(row.concurrency).padEnd(6)} ${ms(row.elapsedMs).padEnd(11)} ${count(row.requestsPerSecond).padEnd(8)} ` +
        `${`${row.clientCpuMicrosPerRequest} µs`.padEnd(15)} ${(row.serverCpuMicrosPerRequest === null ? 'n/a' : `${row.serverCpuMicrosPerRequest} µs`).padEnd(15)} ` +
        `(${row.clientCpuMicrosPerRequestRounds.join(', ')})`,
    );
  }
  return rows;
}
