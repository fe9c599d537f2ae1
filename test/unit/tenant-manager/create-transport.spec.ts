import { afterEach, describe, expect, it, vi } from 'vitest';
import { AxiosTransport } from '../../../src/tenant-manager/axios.transport.js';
import { createTransport } from '../../../src/tenant-manager/create-transport.js';
import { NodeHttpTransport } from '../../../src/tenant-manager/node-http.transport.js';
import { TransportCall } from '../../../src/tenant-manager/transport-call.js';
import { axiosMissing } from '../../../src/tenancy.messages.js';
import { resolveTenancyOptions } from '../../../src/tenancy-options.resolver.js';
import type { TenancyModuleOptions } from '../../../src/tenancy-options.js';

const options = (extra: Partial<TenancyModuleOptions> = {}) =>
  resolveTenancyOptions({ url: 'http://user:pw@tm:8080/base/', controllerName: 'ctl', internalToken: 'tok', ...extra }, {});

describe('createTransport', () => {
  afterEach(() => {
    vi.doUnmock('axios');
    vi.resetModules();
  });

  it('builds the node:http transport by default', async () => {
    const transport = await createTransport(options());
    expect(transport).toBeInstanceOf(NodeHttpTransport);
    transport.close();
  });

  it("sends through the host's HttpService.axiosRef, with credentials split off the URL", async () => {
    const request = vi.fn(async () => ({ status: 200, data: '', headers: {} }));
    const transport = await createTransport(options({ transport: { httpService: { axiosRef: { request } } } }));
    expect(transport).toBeInstanceOf(AxiosTransport);
    await transport.request('status', 'PUT', '/v1/status', '{}', new TransportCall());
    const config = (request.mock.calls[0] as unknown[])[0] as { url: string; headers: Record<string, string>; maxRedirects: number };
    expect(config.url).toBe('http://tm:8080/base/v1/status');
    expect(config.headers).toEqual({
      accept: 'application/json',
      'X-Internal-Token': 'tok',
      authorization: `Basic ${Buffer.from('user:pw').toString('base64')}`,
      'content-type': 'application/json',
    });
    expect(config.maxRedirects).toBe(0);
    transport.close();
  });

  it("fails init with a clear error when transport is 'axios' and axios cannot be loaded", async () => {
    vi.doMock('axios', () => {
      throw new Error('Cannot find package axios');
    });
    // Fresh module instances, so the mocked (missing) axios is what gets imported.
    vi.resetModules();
    const fresh = await import('../../../src/tenant-manager/create-transport.js');
    const { TenancyConfigurationError } = await import('../../../src/tenancy.errors.js');
    const failure = fresh.createTransport(options({ transport: 'axios' }));
    await expect(failure).rejects.toBeInstanceOf(TenancyConfigurationError);
    await expect(failure).rejects.toThrow(axiosMissing());
  });
});
