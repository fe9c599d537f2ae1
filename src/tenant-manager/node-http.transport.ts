import { type Agent as HttpAgent, type IncomingMessage, request as httpRequest, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connectionClosedEarly, requestAborted, responseTooLarge, responseUndecodable } from '../tenancy.messages.js';
import { createChannelAgents } from './channel-agents.js';
import {
  EMPTY_OK,
  errorDetail,
  type TenantManagerTransport,
  type TransportChannel,
  type TransportConfig,
  TransportFailure,
  type TransportMethod,
  type TransportResponse,
} from './tenant-manager.transport.js';
import type { TransportCall } from './transport-call.js';
import { StatusConnections } from './status-connections.js';

// Status bodies differ in length by a few bytes (type, status, message): a handful of entries.
const MAX_CACHED_OPTIONS = 64;

/**
 * The default transport, on Node's own HTTP client: the cheapest per request
 * (axios costs several times the CPU: config merging, proxy lookup, header objects).
 * Keep-alive agents of its own, one per channel, destroyed at close. Status writes
 * over plain HTTP go through {@link StatusConnections} instead (a third of node:http's
 * CPU per write); polls, replays and HTTPS stay on node:http.
 */
export class NodeHttpTransport implements TenantManagerTransport {
  private readonly agents: Record<TransportChannel, HttpAgent>;
  private readonly send: typeof httpRequest;
  // Computed once: every event costs two or three requests.
  private readonly target: Pick<RequestOptions, 'protocol' | 'hostname' | 'port'>;
  private readonly pathPrefix: string;
  private readonly headers: Readonly<Record<string, string>>;
  private readonly jsonHeaders: Readonly<Record<string, string>>;
  private readonly maxResponseBytes: number;
  private readonly bodyOptions = new Map<string, RequestOptions>();
  // Status writes over plain HTTP skip node:http (see StatusConnections); undefined over HTTPS.
  private readonly statusConnections: StatusConnections | undefined;

  constructor(config: TransportConfig) {
    const base = new URL(config.baseUrl);
    this.target = {
      protocol: base.protocol,
      hostname: base.hostname.replace(/^\[|\]$/g, ''),
      port: base.port || undefined,
    };
    this.pathPrefix = base.pathname.replace(/\/+$/, '');
    const https = base.protocol === 'https:';
    this.agents = createChannelAgents(https, config.statusSockets);
    this.send = https ? httpsRequest : httpRequest;
    this.headers = config.headers;
    this.jsonHeaders = { ...config.headers, 'content-type': 'application/json' };
    this.maxResponseBytes = config.maxResponseBytes;
    this.statusConnections = https
      ? undefined
      : StatusConnections.create({
          host: this.target.hostname!,
          port: Number(base.port || 80),
          hostHeader: base.host,
          pathPrefix: this.pathPrefix,
          headers: config.headers,
          maxSockets: config.statusSockets,
          maxResponseBytes: config.maxResponseBytes,
        });
  }

  request(
    channel: TransportChannel,
    method: TransportMethod,
    path: string,
    body: string | undefined,
    call: TransportCall,
  ): Promise<TransportResponse> {
    if (channel === 'status' && body !== undefined && this.statusConnections) {
      return this.statusConnections.request(method, path, body, call);
    }
    const options = this.optionsFor(channel, method, path, body);
    const limit = this.maxResponseBytes;
    // Settling twice is a no-op: every path below may call reject without a guard.
    return new Promise<TransportResponse>((resolve, reject) => {
      const req = this.send(options, (res: IncomingMessage) => {
        // The protocol's success answer to a status write: nothing to read, nothing to keep.
        if (res.statusCode === 200 && res.headers['content-length'] === '0') {
          res.resume();
          return resolve(EMPTY_OK);
        }
        const declared = Number(res.headers['content-length']);
        if (declared > limit) {
          req.destroy();
          return reject(new TransportFailure(responseTooLarge(limit)));
        }
        let chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > limit) {
            // Stop reading at once: memory stays bounded by the limit.
            chunks = [];
            req.destroy();
            reject(new TransportFailure(responseTooLarge(limit)));
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => {
          if (channel === 'events' && res.statusCode === 200) {
            // An events page is decoded from its bytes (events-page.decoder.ts): no string of it is made here.
            resolve({ status: 200, body: chunks });
            chunks = [];
            return;
          }
          let text: string;
          try {
            text = chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks).toString('utf8');
          } catch (error) {
            // ERR_STRING_TOO_LONG and friends: a failed request, never an uncaught throw.
            return reject(new TransportFailure(responseUndecodable(errorDetail(error)), { cause: error }));
          }
          chunks = [];
          const retryAfter = res.headers['retry-after'];
          resolve({ status: res.statusCode ?? 0, body: text, retryAfter });
        });
        res.on('error', (error) => reject(new TransportFailure(errorDetail(error), { cause: error })));
        res.on('close', () => {
          if (!res.complete) reject(new TransportFailure(connectionClosedEarly()));
        });
      });
      req.on('error', (error) => reject(error instanceof TransportFailure ? error : new TransportFailure(errorDetail(error), { cause: error })));
      call.onCancel(() => req.destroy(new TransportFailure(requestAborted())));
      req.end(body);
    });
  }

  /**
   * Request options; those of requests with a body (status writes) are built once
   * per method and body length and reused: node:http copies them, never changes them.
   */
  private optionsFor(channel: TransportChannel, method: TransportMethod, path: string, body: string | undefined): RequestOptions {
    if (body === undefined) {
      return { ...this.target, agent: this.agents[channel], method, path: this.pathPrefix + path, headers: this.headers };
    }
    const length = Buffer.byteLength(body);
    const key = `${channel} ${method} ${path} ${length}`;
    let options = this.bodyOptions.get(key);
    if (options === undefined) {
      if (this.bodyOptions.size >= MAX_CACHED_OPTIONS) this.bodyOptions.clear();
      options = {
        ...this.target,
        agent: this.agents[channel],
        method,
        path: this.pathPrefix + path,
        headers: { ...this.jsonHeaders, 'content-length': String(length) },
      };
      this.bodyOptions.set(key, options);
    }
    return options;
  }

  close(): void {
    this.agents.events.destroy();
    this.agents.status.destroy();
    this.statusConnections?.close();
  }
}
