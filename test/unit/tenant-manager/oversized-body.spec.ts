import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { constants } from 'node:buffer';
import axios from 'axios';
import { afterEach, describe, expect, it } from 'vitest';
import { AxiosTransport } from '../../../src/tenant-manager/axios.transport.js';
import { transportConfig } from '../../../src/tenant-manager/create-transport.js';
import { NodeHttpTransport } from '../../../src/tenant-manager/node-http.transport.js';
import { TenantManagerClient } from '../../../src/tenant-manager/tenant-manager.client.js';
import type { TenantManagerTransport } from '../../../src/tenant-manager/tenant-manager.transport.js';
import { TenantManagerRequestError } from '../../../src/tenancy.errors.js';
import { resolveTenancyOptions } from '../../../src/tenancy-options.resolver.js';
import type { ResolvedTenancyOptions } from '../../../src/tenancy-options.js';

// A body longer than the longest string V8 can make: decoding it throws
// ERR_STRING_TOO_LONG, which used to escape from the response's 'end' listener and
// crash the host. With maxResponseBytes above that length it must be a failed request.
const BODY_BYTES = constants.MAX_STRING_LENGTH + 1024 * 1024;
const CHUNK = Buffer.alloc(4 * 1024 * 1024, 0x20);

const transports: Array<[string, (options: ResolvedTenancyOptions) => TenantManagerTransport]> = [
  ['node:http', (options) => new NodeHttpTransport(transportConfig(options))],
  ['axios', (options) => new AxiosTransport(transportConfig(options), axios.create())],
];

describe.each(transports)('a body too long to decode, over %s', (_name, createTransport) => {
  let server: Server | undefined;
  let client: TenantManagerClient | undefined;
  afterEach(async () => {
    client?.onApplicationShutdown();
    server?.closeAllConnections();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  });

  it('is a failed request, not an uncaught exception', { timeout: 120_000 }, async () => {
    server = createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' });
      let left = BODY_BYTES;
      const pump = () => {
        while (left > 0 && !res.destroyed) {
          const chunk = left >= CHUNK.length ? CHUNK : CHUNK.subarray(0, left);
          left -= chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        if (!res.destroyed) res.end();
      };
      pump();
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const options = resolveTenancyOptions(
      {
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        controllerName: 'ctl',
        maxResponseBytes: BODY_BYTES * 2,
        httpTimeout: 100_000,
      },
      {},
    );
    client = new TenantManagerClient(options, createTransport(options));
    const outcome = await client.fetchReplay().then(
      () => 'resolved',
      (error: unknown) => error,
    );
    expect(outcome).toBeInstanceOf(TenantManagerRequestError);
    expect((outcome as Error).message).toBe(
      'GET /v1/events?controller=ctl&replay=true: response body cannot be decoded as text (ERR_STRING_TOO_LONG)',
    );
  });
});
