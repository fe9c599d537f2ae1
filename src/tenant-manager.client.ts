import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { HttpService } from '@nestjs/axios';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { AxiosRequestConfig, AxiosResponse } from 'axios';
import { decodeEventsPage, type EventsPage, MalformedResponseError } from './tenant-manager.wire.js';
import { INTERNAL_TOKEN_HEADER, TENANCY_RESOLVED_OPTIONS } from './tenancy.constants.js';
import { TenantManagerRequestError } from './tenancy.errors.js';
import type { ResolvedTenancyOptions } from './tenancy-options.js';
import type { ControllerStatus } from './tenancy-event.js';

/** The controller-facing calls of the Tenant Manager (PROTOCOL.md), one method each. */
@Injectable()
export class TenantManagerClient implements OnApplicationShutdown {
  // Our own keep-alive agent: connections are reused across calls (one per concurrent
  // call at most) and destroyed at shutdown, so no socket outlives the app.
  private readonly httpAgent: HttpAgent;
  private readonly httpsAgent: HttpsAgent;
  private readonly baseConfig: AxiosRequestConfig;

  constructor(
    private readonly http: HttpService,
    @Inject(TENANCY_RESOLVED_OPTIONS) private readonly options: ResolvedTenancyOptions,
  ) {
    const agentOptions = { keepAlive: true, maxSockets: options.concurrency + 2 };
    this.httpAgent = new HttpAgent(agentOptions);
    this.httpsAgent = new HttpsAgent(agentOptions);
    this.baseConfig = {
      baseURL: options.url,
      timeout: options.httpTimeout,
      httpAgent: this.httpAgent,
      httpsAgent: this.httpsAgent,
      // We decode and judge every response ourselves: any status but 200 is a failure,
      // and an empty 200 body (status calls) must be accepted.
      responseType: 'text',
      transformResponse: [(data: unknown) => data],
      validateStatus: () => true,
      maxRedirects: 0,
      headers: options.internalToken ? { [INTERNAL_TOKEN_HEADER]: options.internalToken } : {},
    };
  }

  /** `GET /v1/events?controller=…&replay=true`: the whole snapshot, ids 0. */
  fetchReplay(signal?: AbortSignal): Promise<EventsPage> {
    return this.fetchEvents({ controller: this.options.controllerName, replay: 'true' }, 'replay', signal);
  }

  /** `GET /v1/events?controller=…&after=…&limit=…`: events with id > after, ascending. */
  fetchAfter(after: number, limit: number, signal?: AbortSignal): Promise<EventsPage> {
    return this.fetchEvents(
      { controller: this.options.controllerName, after: String(after), limit: String(limit) },
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
    await this.send(`PUT /v1/status (${status})`, {
      method: 'PUT',
      url: '/v1/status',
      data: { controller: this.options.controllerName, resourceType, resourceId, status, message },
      signal,
    });
  }

  /** `DELETE /v1/status`: remove this controller's row (absent is fine). */
  async deleteStatus(resourceType: string, resourceId: string, signal?: AbortSignal): Promise<void> {
    await this.send('DELETE /v1/status', {
      method: 'DELETE',
      url: '/v1/status',
      data: { controller: this.options.controllerName, resourceType, resourceId },
      signal,
    });
  }

  onApplicationShutdown(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  private async fetchEvents(params: Record<string, string>, what: string, signal?: AbortSignal): Promise<EventsPage> {
    const response = await this.send(what, { method: 'GET', url: '/v1/events', params, signal });
    try {
      return decodeEventsPage(response.data);
    } catch (error) {
      if (error instanceof MalformedResponseError) {
        throw new TenantManagerRequestError(`Tenant Manager ${what}: malformed response: ${error.message}`, 200, {
          cause: error,
        });
      }
      throw error;
    }
  }

  private async send(what: string, config: AxiosRequestConfig): Promise<AxiosResponse<string>> {
    let response: AxiosResponse<string>;
    try {
      response = await this.http.axiosRef.request<string>({ ...this.baseConfig, ...config });
    } catch (error) {
      const detail = (error as { code?: string; message?: string }).code ?? (error as Error).message;
      throw new TenantManagerRequestError(`Tenant Manager ${what}: ${detail} (${this.options.url})`, undefined, {
        cause: error,
      });
    }
    if (response.status !== 200) {
      throw new TenantManagerRequestError(
        `Tenant Manager ${what}: HTTP ${response.status} ${errorText(response.data)}`,
        response.status,
      );
    }
    return response;
  }
}

/** The `error` field of a `{"error": …}` body, else a short preview of the body. */
function errorText(body: unknown): string {
  const text = typeof body === 'string' ? body : '';
  try {
    const parsed = JSON.parse(text) as { error?: unknown };
    if (typeof parsed?.error === 'string') return parsed.error;
  } catch {
    // not JSON: fall through to the raw preview
  }
  return JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}…` : text);
}
