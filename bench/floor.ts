import { runInChild } from './client.control.js';
import type { FloorClient, FloorJob, FloorResult } from './floor.child.js';
import type { ServerProcess } from './server.control.js';
import { count, ms } from './stats.js';

export interface FloorRow {
  readonly client: FloorClient;
  readonly concurrency: number;
  readonly requests: number;
  readonly elapsedMs: number;
  readonly requestsPerSecond: number;
  readonly clientCpuMicrosPerRequest: number;
  readonly serverCpuMicrosPerRequest: number;
}

const CONFIGS: ReadonlyArray<readonly [FloorClient, number]> = [
  ['node:http', 1],
  ['node:http', 8],
];

/**
 * The transport floor: `requests` status writes per configuration against the same
 * emulator, no library. If concurrency 8 is no faster than 1 here, no client can
 * win S1 on this machine by concurrency alone. The library sends its requests
 * through node:http the same way, so S1's per-request cost minus this floor is
 * what the library itself adds.
 */
export async function measureFloor(server: ServerProcess, requests: number, log: (line: string) => void): Promise<FloorRow[]> {
  const rows: FloorRow[] = [];
  for (const [client, concurrency] of CONFIGS) {
    const urls = await server.call('reset', { slots: ['library'] });
    const before = await server.call('cpu');
    const result = await runInChild<FloorJob, FloorResult>('./floor.child.js', 'floor', {
      url: urls['library'],
      client,
      concurrency,
      requests,
    });
    const after = await server.call('cpu');
    rows.push({
      client,
      concurrency,
      requests,
      elapsedMs: Math.round(result.elapsedMs),
      requestsPerSecond: Math.round((requests / result.elapsedMs) * 1000),
      clientCpuMicrosPerRequest: Math.round((result.cpuMs * 1000) / requests),
      serverCpuMicrosPerRequest: Math.round((after.cpuMicros - before.cpuMicros) / requests),
    });
  }
  log(`Transport floor: ${count(requests)} × PUT /v1/status, no library (same emulator process)`);
  log('  node:http built as TenantManagerClient builds each request (the library uses node:http directly), so directly comparable with S1');
  log('  client       concurrency   elapsed      req/s     client CPU/req   server CPU/req');
  for (const row of rows) {
    log(
      `  ${row.client.padEnd(12)} ${String(row.concurrency).padEnd(13)} ${ms(row.elapsedMs).padEnd(12)} ${count(row.requestsPerSecond).padEnd(9)} ` +
        `${`${row.clientCpuMicrosPerRequest} µs`.padEnd(16)} ${row.serverCpuMicrosPerRequest} µs`,
    );
  }
  return rows;
}
