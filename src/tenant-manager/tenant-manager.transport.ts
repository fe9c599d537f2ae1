import type { TransportCall } from './transport-call.js';

/**
 * The seam between the Tenant Manager client and an HTTP stack. The client builds
 * paths, bodies and error texts and owns the deadline; a transport moves bytes and
 * enforces the response size limit. Two implementations pass the same contract
 * tests: Node's own HTTP client (default) and axios through `@nestjs/axios`.
 */
export interface TenantManagerTransport {
  /**
   * Sends one request and resolves with the status and the whole body, whatever
   * the status. Rejects with a {@link TransportFailure} when no complete
   * response arrived (connection error, body over the limit), or with anything at
   * all once `call` is cancelled (deadline or caller abort): the client words that
   * case itself.
   */
  request(
    channel: TransportChannel,
    method: TransportMethod,
    path: string,
    body: string | undefined,
    call: TransportCall,
  ): Promise<TransportResponse>;

  /**
   * Releases the transport's own connections (never a host-provided HTTP client's).
   * Called when nothing is in flight; the transport stays usable and opens new ones.
   */
  close(): void;
}

/** Polls and replays never queue behind status writes: each channel has its own connection pool. */
export type TransportChannel = 'events' | 'status';

export type TransportMethod = 'GET' | 'PUT' | 'DELETE';

export interface TransportResponse {
  readonly status: number;
  /**
   * The body as text; a 200 on the `events` channel may come as its bytes, as they
   * arrived (the client decodes a replay from them in one pass, never as one string).
   * The client takes it (sets it to '') once read: a transport's request objects
   * may stay reachable from a keep-alive socket until its next request, and a
   * replay body is tens of MiB that would otherwise live through the whole replay.
   */
  body: string | ResponseBytes;
  /** The raw `Retry-After` header, when the server sent one. */
  readonly retryAfter?: string;
}

/** The protocol's success answer to a status write, shared: nothing in it to keep. */
export const EMPTY_OK: TransportResponse = Object.freeze({ status: 200, body: '' });

/** A body as the chunks it arrived in. */
export type ResponseBytes = readonly Buffer[];

/** What every transport is built from; resolved once per module. */
export interface TransportConfig {
  /** Origin plus base path, no credentials, no trailing slash: `http://tm:8080/base`. */
  readonly baseUrl: string;
  /** Sent on every request: accept, the internal token, Basic credentials from the URL. */
  readonly headers: Readonly<Record<string, string>>;
  readonly maxResponseBytes: number;
  /** Connection cap of the status channel (handlers in flight, plus room). */
  readonly statusSockets: number;
}

/** Nest injection token of the module's transport. */
export const TENANT_MANAGER_TRANSPORT = Symbol('TENANT_MANAGER_TRANSPORT');

/**
 * A request that got no complete response. `detail` is already safe to show
 * (no credentials, no token) and names the cause once: `ECONNREFUSED`,
 * `response body exceeds maxResponseBytes (1024 bytes)`.
 */
export class TransportFailure extends Error {
  override readonly name = 'TransportFailure';
  constructor(
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(detail, options);
  }
}

/** The error code when there is one (`ECONNREFUSED`), else the message: a {@link TransportFailure}'s detail. */
export function errorDetail(error: unknown): string {
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string') return code;
  return typeof message === 'string' ? message : 'request failed';
}
