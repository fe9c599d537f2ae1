import type { Agent as HttpAgent } from 'node:http';
import { responseTooLarge, responseUndecodable } from '../tenancy.messages.js';
import { createChannelAgents } from './channel-agents.js';
import { redactCredentials } from './redact-url.js';
import {
  type TenantManagerTransport,
  type TransportChannel,
  type TransportConfig,
  TransportFailure,
  type TransportMethod,
  type TransportResponse,
} from './tenant-manager.transport.js';
import type { TransportCall } from './transport-call.js';

/**
 * The part of an axios instance this transport uses. Structural, so that neither
 * axios nor `@nestjs/axios` is loaded (or needed for types) unless the host picks
 * this transport: both are optional peers.
 */
export interface AxiosLike {
  request(config: never): PromiseLike<unknown>;
  readonly defaults?: { readonly httpAgent?: unknown; readonly httpsAgent?: unknown };
}

interface AxiosLikeResponse {
  readonly status: number;
  readonly data: unknown;
  readonly headers?: Record<string, unknown> | { get?(name: string): unknown };
}

const keepData = (data: unknown) => data;
const everyStatus = () => true;

/**
 * Sends through an axios instance: the host's `HttpService.axiosRef` (its
 * interceptors and `HttpModule` config apply) or a fresh `axios.create()`. Proxies
 * from `HTTP_PROXY`/`HTTPS_PROXY`/`NO_PROXY` apply as axios applies them. Per
 * request we only pin what the protocol needs: text body (bytes for events pages), every status resolved
 * (the client judges it), no redirects (they would carry the token elsewhere),
 * the size limit, and our own agent per channel unless the host configured agents.
 */
export class AxiosTransport implements TenantManagerTransport {
  private readonly agents: Record<TransportChannel, HttpAgent> | undefined;
  private readonly https: boolean;
  private readonly baseUrl: string;
  private readonly headers: Readonly<Record<string, string>>;
  private readonly jsonHeaders: Readonly<Record<string, string>>;
  private readonly maxResponseBytes: number;

  constructor(
    config: TransportConfig,
    private readonly axios: AxiosLike,
  ) {
    this.baseUrl = config.baseUrl;
    this.https = config.baseUrl.startsWith('https:');
    const hostAgents = axios.defaults?.httpAgent !== undefined || axios.defaults?.httpsAgent !== undefined;
    if (!hostAgents) this.agents = createChannelAgents(this.https, config.statusSockets);
    this.headers = config.headers;
    this.jsonHeaders = { ...config.headers, 'content-type': 'application/json' };
    this.maxResponseBytes = config.maxResponseBytes;
  }

  async request(
    channel: TransportChannel,
    method: TransportMethod,
    path: string,
    body: string | undefined,
    call: TransportCall,
  ): Promise<TransportResponse> {
    const agent = this.agents?.[channel];
    const config = {
      url: this.baseUrl + path,
      method,
      headers: body === undefined ? this.headers : this.jsonHeaders,
      data: body,
      signal: call.signal,
      // An events page is decoded from its bytes (events-page.decoder.ts), never as one string.
      responseType: channel === 'events' ? 'arraybuffer' : 'text',
      transformResponse: [keepData],
      validateStatus: everyStatus,
      maxRedirects: 0,
      maxContentLength: this.maxResponseBytes,
      ...(agent === undefined ? {} : this.https ? { httpsAgent: agent } : { httpAgent: agent }),
    };
    let response: AxiosLikeResponse;
    try {
      response = (await this.axios.request(config as never)) as AxiosLikeResponse;
    } catch (error) {
      throw this.failure(error);
    }
    const data = response.data;
    const received = channel === 'events' && response.status === 200 && Buffer.isBuffer(data) ? [data] : asText(data);
    return { status: response.status, body: received, retryAfter: header(response.headers, 'retry-after') };
  }

  close(): void {
    this.agents?.events.destroy();
    this.agents?.status.destroy();
  }

  /**
   * An AxiosError carries the request config, headers included (the token): it is
   * never kept as a cause. Only its code and message travel on.
   */
  private failure(error: unknown): TransportFailure {
    let code: unknown;
    let message: unknown;
    try {
      ({ code, message } = error as { code?: unknown; message?: unknown });
    } catch {
      // a hostile interceptor's value: described generically below
    }
    if (typeof message === 'string' && message.startsWith('maxContentLength')) {
      return new TransportFailure(responseTooLarge(this.maxResponseBytes));
    }
    if (code === 'ERR_STRING_TOO_LONG') return new TransportFailure(responseUndecodable(code));
    const detail = typeof code === 'string' && code !== 'ERR_BAD_RESPONSE' ? code : typeof message === 'string' ? message : 'request failed';
    const cause = new Error(typeof message === 'string' ? redactCredentials(message) : detail);
    if (typeof code === 'string') Object.assign(cause, { code });
    return new TransportFailure(detail, { cause });
  }
}

function asText(data: unknown): string {
  if (typeof data === 'string') return data;
  if (data === undefined || data === null) return '';
  // An interceptor turned it into something else: the client parses text.
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  return JSON.stringify(data) ?? '';
}

function header(headers: AxiosLikeResponse['headers'], name: string): string | undefined {
  if (!headers) return undefined;
  const value = typeof headers.get === 'function' ? headers.get(name) : (headers as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : undefined;
}
