import { INTERNAL_TOKEN_HEADER } from '../tenancy.constants.js';
import { TenancyConfigurationError } from '../tenancy.errors.js';
import { axiosMissing } from '../tenancy.messages.js';
import type { ResolvedTenancyOptions } from '../tenancy-options.js';
import { type AxiosLike, AxiosTransport } from './axios.transport.js';
import { NodeHttpTransport } from './node-http.transport.js';
import type { TenantManagerTransport, TransportConfig } from './tenant-manager.transport.js';

/**
 * Builds the transport the options ask for. axios is imported only here and only
 * when `transport: 'axios'` is chosen, so hosts without it never load it.
 */
export async function createTransport(options: ResolvedTenancyOptions): Promise<TenantManagerTransport> {
  const config = transportConfig(options);
  const choice = options.transport;
  if (choice === 'node') return new NodeHttpTransport(config);
  if (choice === 'axios') return new AxiosTransport(config, await loadAxios());
  return new AxiosTransport(config, choice.httpService.axiosRef as AxiosLike);
}

/** Splits the URL's credentials off into a Basic header; the base URL keeps none. */
export function transportConfig(options: ResolvedTenancyOptions): TransportConfig {
  const base = new URL(options.url);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.internalToken) headers[INTERNAL_TOKEN_HEADER] = options.internalToken;
  // Basic credentials in the URL (user:pass@host) are sent like any HTTP client would.
  if (base.username || base.password) {
    const credentials = `${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`;
    headers.authorization = `Basic ${Buffer.from(credentials).toString('base64')}`;
  }
  return {
    // The origin never includes credentials.
    baseUrl: base.origin + base.pathname.replace(/\/+$/, ''),
    headers,
    maxResponseBytes: options.maxResponseBytes,
    statusSockets: options.concurrency + 2,
  };
}

async function loadAxios(): Promise<AxiosLike> {
  let module: { default?: { create?: () => AxiosLike } };
  try {
    module = (await import('axios')) as typeof module;
  } catch (error) {
    throw new TenancyConfigurationError(axiosMissing(), { cause: error });
  }
  const create = module.default?.create;
  if (typeof create !== 'function') throw new TenancyConfigurationError(axiosMissing());
  return create();
}
