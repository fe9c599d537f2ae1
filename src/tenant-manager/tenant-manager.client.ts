import { Agent as HttpAgent, type IncomingMessage, request as httpRequest, type RequestOptions } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { decodeEventsPage, type DecodedEventsPage, MalformedResponseError } from './tenant-manager.wire.js';
import { INTERNAL_TOKEN_HEADER, TENANCY_RESOLVED_OPTIONS } from '../tenancy.constants.js';
import { TenantManagerRequestError } from '../tenancy.errors.js';
import { requestTimedOut } from '../tenancy.messages.js';
import type { ResolvedTenancyOptions } from '../tenancy-options.js';
import type { ControllerStatus } from '../tenancy-event.js';

/** One request: method, path with query, optional JSON body. */
interface Call {
  readonly what: string;
  readonly method: 'GET' | 'PUT' | 'DELETE';
  readonly path: string;
  readonly body?: unknown;
  readonly signal?: AbortSignal;
}

/**
 * The controller-facing calls of the Tenant Manager (PROTOCOL.md), one method each,
 * on Node's own HTTP client. (axios through @nestjs/axios cost ~3× the CPU per
 * request — config merging, proxy lookups, per-request socket options — and made a
 * 100k-event replay 3× slower; measured with `npm run bench`.)
 */
@Injectable()
export class TenantManagerClient implements OnApplicationShutdown {
  // Our own keep-alive agents: connections are reused across calls (one per
  // concurrent call at most) and destroyed at shutdown, so no socket outlives the app.
  private readonly agent: HttpAgent | HttpsAgent;
  private readonly send: typeof httpRequest;
  private readonly headers: Record<string, string>;
  // Computed once: every event costs two requests.
  private readonly target: Pick<RequestOptions, 'protocol' | 'hostname' | 'port'>;
  private readonly pathPrefix: string;

  constructor(@Inject(TENANCY_RESOLVED_OPTIONS) private readonly options: ResolvedTenancyOptions) {
    const base = new URL(options.url);
    this.target = {
      protocol: base.protocol,
      hostname: base.hostname.replace(/^\[|\]$/g, ''),
      port: base.port || undefined,
    };
    this.pathPrefix = base.pathname.replace(/\/+$/, '');
    const agentOptions = { keepAlive: true, maxSockets: options.concurrency + 2 };
    const https = base.protocol === 'https:';
    this.agent = https ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
    this.send = https ? httpsRequest : httpRequest;
    this.headers = { accept: 'application/json' };
    if (options.internalToken) this.headers[INTERNAL_TOKEN_HEADER] = options.internalToken;
    // Basic credentials in the URL (user:pass@host) are sent like any HTTP client would.
    if (base.username || base.password) {
      const credentials = `${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`;
      this.headers.authorization = `Basic ${Buffer.from(credentials).toString('base64')}`;
    }
  }

  /** `GET /v1/events?controller=…&replay=true`: the whole snapshot, ids 0. */
  fetchReplay(signal?: AbortSignal): Promise<DecodedEventsPage> {
    return this.fetchEvents(`controller=${encodeURIComponent(this.options.controllerName)}&replay=true`, 'replay', signal);
  }

  /** `GET /v1/events?controller=…&after=…&limit=…`: events with id > after, ascending. */
  fetchAfter(after: number, limit: number, signal?: AbortSignal): Promise<DecodedEventsPage> {
    return this.fetchEvents(
      `controller=${encodeURIComponent(this.options.controllerName)}&after=${after}&limit=${limit}`,
      `poll after ${after}`,
      signal,
    );
  }

  /** `PUT /v1/status`: upsert this controller's row for a resource. */
  async putStatus(
    resourceType: string,
    resourceId: string,
    status: ControllerStatus,
    message: string,
    signal?: AbortSignal,
  ): Promise<void> {
    await this.call({
      what: `PUT /v1/status (${status})`,
      method: 'PUT',
      path: '/v1/status',
      body: { controller: this.options.controllerName, resourceType, resourceId, status, message },
      signal,
    });
  }

  /** `DELETE /v1/status` (JSON body): remove this controller's row; absent is fine. */
  async deleteStatus(resourceType: string, resourceId: string, signal?: AbortSignal): Promise<void> {
    await this.call({
      what: 'DELETE /v1/status',
      method: 'DELETE',
      path: '/v1/status',
      body: { controller: this.options.controllerName, resourceType, resourceId },
      signal,
    });
  }

  onApplicationShutdown(): void {
    this.agent.destroy();
  }

  private async fetchEvents(query: string, what: string, signal?: AbortSignal): Promise<DecodedEventsPage> {
    const body = await this.call({ what, method: 'GET', path: `/v1/events?${query}`, signal });
    try {
      return decodeEventsPage(body);
    } catch (error) {
      if (error instanceof MalformedResponseError) {
        throw new TenantManagerRequestError(`Tenant Manager ${what}: malformed response: ${error.message}`, 200, {
          cause: error,
        });
      }
      throw error;
    }
  }

  /**
   * Sends one request and resolves with the response body as text. Any status but
   * 200 is a failure; a 200 with an empty body (status calls) is a success. The
   * body is always read to the end, so the keep-alive connection is reused.
   */
  private call({ what, method, path, body, signal }: Call): Promise<string> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string | number> =
      payload === undefined
        ? this.headers
        : { ...this.headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) };
    const requestOptions: RequestOptions = {
      ...this.target,
      agent: this.agent,
      method,
      path: this.pathPrefix + path,
      headers,
      signal,
    };
    return new Promise<string>((resolve, reject) => {
      let settled = false;
      const fail = (detail: string, status?: number, cause?: unknown) => {
        if (settled) return;
        settled = true;
        reject(new TenantManagerRequestError(`Tenant Manager ${what}: ${detail}`, status, { cause }));
      };
      const req = this.send(requestOptions, (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', (error) => fail(`${errorCode(error)} (${this.options.url})`, undefined, error));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200) return fail(`HTTP ${res.statusCode} ${errorText(text)}`, res.statusCode);
          if (settled) return;
          settled = true;
          resolve(text);
        });
      });
      req.setTimeout(this.options.httpTimeout, () => {
        req.destroy(new Error(requestTimedOut(this.options.httpTimeout)));
      });
      req.on('error', (error) => fail(`${errorCode(error)} (${this.options.url})`, undefined, error));
      req.end(payload);
    });
  }
}

function errorCode(error: Error): string {
  return (error as { code?: string }).code === 'ABORT_ERR' ? 'aborted' : ((error as { code?: string }).code ?? error.message);
}

/** The `error` field of a `{"error": …}` body, else a short preview of the body. */
function errorText(text: string): string {
  try {
    const parsed = JSON.parse(text) as { error?: unknown };
    if (typeof parsed?.error === 'string') return parsed.error;
  } catch {
    // not JSON: fall through to the raw preview
  }
  return JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}…` : text);
}
