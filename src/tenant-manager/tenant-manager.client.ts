import { STATUS_CODES } from 'node:http';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { decodeEventsPage, type DecodedEventsPage, MalformedResponseError } from './tenant-manager.wire.js';
import { decodeEventsPageBytes } from './events-page.decoder.js';
import { redactUrl } from './redact-url.js';
import { parseRetryAfter } from './retry-after.js';
import { RequestDeadlines, type TransportCall } from './transport-call.js';
import {
  TENANT_MANAGER_TRANSPORT,
  type TenantManagerTransport,
  type TransportChannel,
  TransportFailure,
  type TransportMethod,
  type TransportResponse,
} from './tenant-manager.transport.js';
import { TENANCY_RESOLVED_OPTIONS } from '../tenancy.constants.js';
import { TenantManagerRequestError } from '../tenancy.errors.js';
import {
  describeThrown,
  httpStatusFailed,
  malformedResponse,
  requestAborted,
  requestError,
  requestTimedOut,
  unreachable,
} from '../tenancy.messages.js';
import type { ResolvedTenancyOptions } from '../tenancy-options.js';
import type { ControllerStatus } from '../tenancy-event.js';

/**
 * The controller-facing calls of the Tenant Manager (PROTOCOL.md), one method each.
 * Owns what every transport shares: the deadline of a request (`httpTimeout`, from
 * connecting to the last body byte, one timer for all requests), the judgement of the answer (only 200 is
 * success), `Retry-After`, and error texts that name the request once, without
 * credentials.
 */
@Injectable()
export class TenantManagerClient implements OnApplicationShutdown {
  private readonly controllerQuery: string;
  private readonly shownPrefix: string;
  private readonly shownBase: string;
  private readonly deadlines: RequestDeadlines;
  // `{"controller":"…","resourceType":`: the constant start of every status body.
  private readonly statusHead: string;

  constructor(
    @Inject(TENANCY_RESOLVED_OPTIONS) private readonly options: ResolvedTenancyOptions,
    @Inject(TENANT_MANAGER_TRANSPORT) private readonly transport: TenantManagerTransport,
  ) {
    const base = new URL(options.url);
    this.controllerQuery = `controller=${encodeURIComponent(options.controllerName)}`;
    this.shownPrefix = base.pathname.replace(/\/+$/, '');
    this.shownBase = redactUrl(options.url);
    this.deadlines = new RequestDeadlines(options.httpTimeout);
    this.statusHead = `{"controller":${JSON.stringify(options.controllerName)},"resourceType":`;
  }

  /** `GET /v1/events?controller=…&replay=true`: the whole snapshot, ids 0. */
  fetchReplay(signal?: AbortSignal): Promise<DecodedEventsPage> {
    return this.fetchEvents(`/v1/events?${this.controllerQuery}&replay=true`, signal);
  }

  /** `GET /v1/events?controller=…&after=…&limit=…`: events with id > after, ascending. */
  fetchAfter(after: number, limit: number, signal?: AbortSignal): Promise<DecodedEventsPage> {
    return this.fetchEvents(`/v1/events?${this.controllerQuery}&after=${after}&limit=${limit}`, signal);
  }

  /** `PUT /v1/status`: upsert this controller's row for a resource. */
  async putStatus(
    resourceType: string,
    resourceId: string,
    status: ControllerStatus,
    message: string,
    signal?: AbortSignal,
  ): Promise<void> {
    // Same bytes as JSON.stringify of the object, with the constant head serialised once.
    const body = `${this.statusHead}${quoted(resourceType)},"resourceId":${JSON.stringify(resourceId)},"status":${quoted(status)},"message":${message === '' ? '""' : JSON.stringify(message)}}`;
    await this.call('status', 'PUT', '/v1/status', body, signal);
  }

  /** `DELETE /v1/status` (JSON body): remove this controller's row; absent is fine. */
  async deleteStatus(resourceType: string, resourceId: string, signal?: AbortSignal): Promise<void> {
    const body = `${this.statusHead}${quoted(resourceType)},"resourceId":${JSON.stringify(resourceId)}}`;
    await this.call('status', 'DELETE', '/v1/status', body, signal);
  }

  /** Closes the transport's own idle keep-alive connections; later requests open new ones. */
  releaseConnections(): void {
    this.transport.close();
  }

  onApplicationShutdown(): void {
    this.transport.close();
  }

  private async fetchEvents(path: string, signal?: AbortSignal): Promise<DecodedEventsPage> {
    const body = await this.call('events', 'GET', path, undefined, signal);
    try {
      return await (typeof body === 'string' ? decodeEventsPage(body) : decodeEventsPageBytes(body));
    } catch (error) {
      // Bytes too many for one string (the text decoder's fallback): as a transport says it.
      if (error instanceof TransportFailure) {
        throw new TenantManagerRequestError(requestError('GET', this.shownPrefix + path, error.detail), undefined, { cause: error });
      }
      // MalformedResponseError, or a body too large to parse: a failed request either way.
      throw new TenantManagerRequestError(
        requestError(
          'GET',
          this.shownPrefix + path,
          malformedResponse(error instanceof MalformedResponseError ? error.message : describeThrown(error, 500)),
        ),
        200,
        { cause: error },
      );
    }
  }

  /**
   * Sends one request under the `httpTimeout` deadline and resolves with the body
   * of a 200 (an empty body is a success for status calls); anything else rejects
   * with a {@link TenantManagerRequestError}.
   */
  private async call(
    channel: TransportChannel,
    method: TransportMethod,
    path: string,
    body: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<TransportResponse['body']> {
    const call = this.deadlines.start(signal);
    let response: TransportResponse;
    try {
      response = await this.transport.request(channel, method, path, body, call);
    } catch (thrown) {
      throw new TenantManagerRequestError(requestError(method, this.shownPrefix + path, this.causeOf(thrown, call)), undefined, {
        cause: thrown,
      });
    } finally {
      this.deadlines.finish(call);
    }
    const status = response.status;
    const text = response.body;
    if (text !== '') response.body = '';
    if (status === 200) return text;
    throw new TenantManagerRequestError(
      requestError(method, this.shownPrefix + path, httpStatusFailed(status, errorText(status, asText(text)))),
      status,
      { retryAfter: status === 429 || status === 503 ? parseRetryAfter(response.retryAfter) : undefined },
    );
  }

  private causeOf(thrown: unknown, call: TransportCall): string {
    if (call.cancelled === 'timeout') return requestTimedOut(this.options.httpTimeout);
    if (call.cancelled === 'aborted') return requestAborted();
    const detail = thrown instanceof TransportFailure ? thrown.detail : describeThrown(thrown, 500);
    // A system error code alone (ECONNREFUSED, EAI_AGAIN) does not say where: add the base URL, credentials masked.
    return /^E(?!RR_)[A-Z_]+$/.test(detail) ? unreachable(detail, this.shownBase) : detail;
  }
}

// Resource types and statuses are a handful of values: each is serialised once.
const QUOTED = new Map<string, string>();
const MAX_QUOTED = 64;

/** `JSON.stringify(value)` of a short, oft-repeated string, from a small cache. */
function quoted(value: string): string {
  let text = QUOTED.get(value);
  if (text === undefined) {
    text = JSON.stringify(value);
    if (QUOTED.size < MAX_QUOTED) QUOTED.set(value, text);
  }
  return text;
}

/** An error answer's body as text (transports send bytes only for an events page's 200). */
function asText(body: TransportResponse['body']): string {
  return typeof body === 'string' ? body : Buffer.concat(body).toString('utf8');
}

/** The `error` field of a `{"error": …}` body, else a short preview of the body, else the status text. */
function errorText(status: number, text: string): string {
  if (text === '') return STATUS_CODES[status]?.toLowerCase() ?? 'with an empty body';
  try {
    const parsed = JSON.parse(text) as { error?: unknown };
    if (typeof parsed?.error === 'string') return parsed.error;
  } catch {
    // not JSON: fall through to the raw preview
  }
  return JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}…` : text);
}
