import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

/** What a test may match a request on (fault injection). */
export interface LeaseRequestInfo {
  readonly method: string;
  readonly path: string;
  /** `spec.holderIdentity` of a POST/PUT body. */
  readonly holderIdentity?: string | null;
}

/** One request the fake received, with the status it answered (0: never answered). */
export interface RecordedLeaseRequest extends LeaseRequestInfo {
  /** `metadata.resourceVersion` of a POST/PUT body. */
  readonly resourceVersion?: string;
  readonly status: number;
}

/** Options of {@link FakeKubernetesApi.failNext}. */
export interface FailNextOptions {
  /** HTTP status of the failure (default 500). */
  readonly status?: number;
  /** Only requests this accepts fail (and count). Default: every request. */
  readonly match?: (request: LeaseRequestInfo) => boolean;
}

/** Lease as stored and served. */
export interface FakeLease {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: {
    name: string;
    namespace: string;
    resourceVersion: string;
    uid: string;
    creationTimestamp: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: FakeLeaseSpec;
}

/** Lease spec as JSON on the wire. */
export interface FakeLeaseSpec {
  holderIdentity?: string | null;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
  [field: string]: unknown;
}

/** A POST/PUT body that passed {@link invalidLease}. */
interface SentLease {
  metadata: {
    name: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: FakeLeaseSpec;
}

interface Rule {
  remaining: number;
  readonly status: number;
  readonly match?: (request: LeaseRequestInfo) => boolean;
}

const LEASE_PATH = /^\/apis\/coordination\.k8s\.io\/v1\/namespaces\/([^/]+)\/leases(?:\/([^/]+))?$/;
// metav1.MicroTime is parsed with Go's RFC3339Micro layout: exactly six fraction digits.
const MICRO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}(Z|[+-]\d{2}:\d{2})$/;
const RESOURCE = 'leases.coordination.k8s.io';

/**
 * A Kubernetes API server on loopback that knows only Leases
 * (`coordination.k8s.io/v1`, get / create / replace), with the semantics the Lease
 * coordinator relies on: `resourceVersion` bumped on every write, a stale one on PUT
 * refused with 409 Conflict, POST of an existing name refused with 409 AlreadyExists,
 * `Status` bodies on errors, bearer-token auth, MicroTime format checks. Faults can
 * be injected per request or at a random rate.
 */
export class FakeKubernetesApi {
  /** Every request, in arrival order. */
  readonly requests: RecordedLeaseRequest[] = [];
  /** The bearer token requests must carry. */
  readonly token: string;
  /** Failures answered by {@link failNext} and {@link failRandomly} so far. */
  injectedFailures = 0;

  private readonly leases = new Map<string, FakeLease>();
  private readonly failures: Rule[] = [];
  private readonly stalls: Rule[] = [];
  private randomFailures?: { rate: number; random: () => number };
  private version = 0;
  private uids = 0;
  private server?: Server;
  private address?: string;

  constructor(options: { token?: string } = {}) {
    this.token = options.token ?? 'fake-token';
  }

  /** Starts listening on 127.0.0.1 (a free port) and resolves to the base URL. */
  async start(): Promise<string> {
    if (this.address) return this.address;
    const server = createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        if (!response.headersSent) this.sendStatus(response, 500, 'InternalError', String(error));
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.address = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this.address;
  }

  /** The base URL; throws before {@link start}. */
  get url(): string {
    if (!this.address) throw new Error('FakeKubernetesApi: not started');
    return this.address;
  }

  /** Closes the server and every connection, stalled ones included. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.address = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  /** The next `count` requests (that `match` accepts) fail with `status` (default 500) and a Status body. */
  failNext(count: number, options: FailNextOptions = {}): void {
    this.failures.push({ remaining: count, status: options.status ?? 500, match: options.match });
  }

  /** Each request fails with 500 at probability `rate` (0 turns it off). Draws from `random` once per request. */
  failRandomly(rate: number, random: () => number = Math.random): void {
    this.randomFailures = rate > 0 ? { rate, random } : undefined;
  }

  /** The next `count` requests (that `match` accepts) are never answered (until {@link stop}). */
  stallNext(count: number, options: Pick<FailNextOptions, 'match'> = {}): void {
    this.stalls.push({ remaining: count, status: 0, match: options.match });
  }

  /** Creates or overwrites a Lease (a write: bumps resourceVersion). Returns a copy. */
  setLease(namespace: string, name: string, spec: FakeLeaseSpec): FakeLease {
    const existing = this.leases.get(key(namespace, name));
    const lease: FakeLease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: existing
        ? { ...existing.metadata, resourceVersion: this.nextVersion() }
        : this.newMetadata(namespace, name),
      spec: structuredClone(spec),
    };
    this.leases.set(key(namespace, name), lease);
    return structuredClone(lease);
  }

  /** A copy of the stored Lease, or undefined. */
  lease(namespace: string, name: string): FakeLease | undefined {
    const lease = this.leases.get(key(namespace, name));
    return lease ? structuredClone(lease) : undefined;
  }

  /** Removes a Lease. */
  deleteLease(namespace: string, name: string): void {
    this.leases.delete(key(namespace, name));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const method = request.method ?? 'GET';
    const path = new URL(request.url ?? '/', 'http://fake').pathname;
    const raw = await readBody(request);
    let body: unknown;
    if (raw !== '') {
      try {
        body = JSON.parse(raw);
      } catch {
        body = undefined;
      }
    }
    const spec = objectField(body, 'spec');
    const metadata = objectField(body, 'metadata');
    const info: LeaseRequestInfo = {
      method,
      path,
      ...(spec && 'holderIdentity' in spec ? { holderIdentity: spec.holderIdentity as string | null } : {}),
    };
    const record = (status: number) =>
      this.requests.push({
        ...info,
        ...(typeof metadata?.resourceVersion === 'string' ? { resourceVersion: metadata.resourceVersion } : {}),
        status,
      });

    if (takeRule(this.stalls, info)) {
      record(0);
      return; // never answered: the client must time out on its own
    }
    const failure = takeRule(this.failures, info);
    const failStatus = failure?.status ?? this.randomFailure();
    if (failStatus !== undefined) {
      this.injectedFailures += 1;
      record(failStatus);
      this.sendStatus(response, failStatus, reasonFor(failStatus), 'injected failure');
      return;
    }

    const answer = this.route(method, path, raw, body, request.headers.authorization);
    record(answer.status);
    if ('lease' in answer) sendJson(response, answer.status, answer.lease);
    else this.sendStatus(response, answer.status, answer.reason, answer.message);
  }

  private route(
    method: string,
    path: string,
    raw: string,
    body: unknown,
    authorization: string | undefined,
  ): { status: number; lease: FakeLease } | { status: number; reason: string; message: string } {
    if (authorization !== `Bearer ${this.token}`) return failure(401, 'Unauthorized', 'Unauthorized');
    const match = LEASE_PATH.exec(path);
    if (!match) return failure(404, 'NotFound', `the server could not find the requested resource (${path})`);
    const namespace = decodeURIComponent(match[1]);
    const name = match[2] === undefined ? undefined : decodeURIComponent(match[2]);

    if (method === 'GET' && name !== undefined) {
      const lease = this.leases.get(key(namespace, name));
      return lease ? { status: 200, lease } : failure(404, 'NotFound', `${RESOURCE} "${name}" not found`);
    }
    if ((method === 'POST' && name === undefined) || (method === 'PUT' && name !== undefined)) {
      if (raw === '' || body === undefined) return failure(400, 'BadRequest', 'request body is not JSON');
      const invalid = invalidLease(body, namespace, name);
      if (invalid) return failure(400, 'BadRequest', invalid);
      const sent = body as SentLease;
      const target = name ?? sent.metadata.name;
      const existing = this.leases.get(key(namespace, target));
      if (method === 'POST') {
        if (existing) return failure(409, 'AlreadyExists', `${RESOURCE} "${target}" already exists`);
        return { status: 201, lease: this.store(namespace, target, sent, this.newMetadata(namespace, target)) };
      }
      if (!existing) return failure(404, 'NotFound', `${RESOURCE} "${target}" not found`);
      const expected = sent.metadata.resourceVersion;
      // An update without resourceVersion is unconditional (Leases allow it); a stale one is refused.
      if (expected !== undefined && expected !== '' && expected !== existing.metadata.resourceVersion) {
        return failure(
          409,
          'Conflict',
          `Operation cannot be fulfilled on ${RESOURCE} "${target}": the object has been modified; please apply your changes to the latest version and try again`,
        );
      }
      return {
        status: 200,
        lease: this.store(namespace, target, sent, { ...existing.metadata, resourceVersion: this.nextVersion() }),
      };
    }
    return failure(405, 'MethodNotAllowed', `${method} is not supported on ${path}`);
  }

  private store(
    namespace: string,
    name: string,
    sent: SentLease,
    metadata: FakeLease['metadata'],
  ): FakeLease {
    const lease: FakeLease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        ...metadata,
        ...(sent.metadata.labels ? { labels: sent.metadata.labels } : {}),
        ...(sent.metadata.annotations ? { annotations: sent.metadata.annotations } : {}),
      },
      spec: withoutNulls(sent.spec ?? {}),
    };
    this.leases.set(key(namespace, name), lease);
    return lease;
  }

  private newMetadata(namespace: string, name: string): FakeLease['metadata'] {
    this.uids += 1;
    return {
      name,
      namespace,
      resourceVersion: this.nextVersion(),
      uid: `00000000-0000-4000-8000-${String(this.uids).padStart(12, '0')}`,
      creationTimestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    };
  }

  private nextVersion(): string {
    this.version += 1;
    return String(this.version);
  }

  private randomFailure(): number | undefined {
    const chaos = this.randomFailures;
    return chaos && chaos.random() < chaos.rate ? 500 : undefined;
  }

  private sendStatus(response: ServerResponse, code: number, reason: string, message: string): void {
    sendJson(response, code, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
  }
}

/**
 * A KubeConfig for the fake: one cluster at `url`, a token user, TLS checks off
 * (the fake speaks plain HTTP on loopback).
 */
export function kubeConfigFor(url: string, token = 'fake-token'): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'fake', server: url, skipTLSVerify: true }],
    users: [{ name: 'fake', token }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'fake' }],
    currentContext: 'fake',
  });
  return kubeConfig;
}

function key(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

function failure(status: number, reason: string, message: string): { status: number; reason: string; message: string } {
  return { status, reason, message };
}

function reasonFor(status: number): string {
  const reasons: Record<number, string> = {
    400: 'BadRequest',
    401: 'Unauthorized',
    403: 'Forbidden',
    404: 'NotFound',
    409: 'Conflict',
    429: 'TooManyRequests',
    503: 'ServiceUnavailable',
    504: 'Timeout',
  };
  return reasons[status] ?? 'InternalError';
}

function takeRule(rules: Rule[], info: LeaseRequestInfo): Rule | undefined {
  const rule = rules.find((candidate) => candidate.remaining > 0 && (candidate.match?.(info) ?? true));
  if (rule) rule.remaining -= 1;
  return rule;
}

/** What the API server would refuse in a Lease body (400 BadRequest), or undefined. */
function invalidLease(body: unknown, namespace: string, name: string | undefined): string | undefined {
  if (typeof body !== 'object' || body === null) return 'body is not an object';
  const lease = body as { apiVersion?: unknown; kind?: unknown; metadata?: unknown; spec?: unknown };
  if (lease.kind !== undefined && lease.kind !== 'Lease') return `kind ${String(lease.kind)} is not Lease`;
  if (lease.apiVersion !== undefined && lease.apiVersion !== 'coordination.k8s.io/v1') {
    return `apiVersion ${String(lease.apiVersion)} is not coordination.k8s.io/v1`;
  }
  const metadata = objectField(body, 'metadata');
  if (!metadata || typeof metadata.name !== 'string' || metadata.name === '') return 'metadata.name is required';
  if (name !== undefined && metadata.name !== name) {
    return `the name of the object (${metadata.name}) does not match the name on the URL (${name})`;
  }
  if (metadata.namespace !== undefined && metadata.namespace !== namespace) {
    return 'the namespace of the provided object does not match the namespace sent on the request';
  }
  if (metadata.resourceVersion !== undefined && typeof metadata.resourceVersion !== 'string') {
    return 'metadata.resourceVersion must be a string';
  }
  const spec = objectField(body, 'spec');
  if (!spec) return lease.spec === undefined ? undefined : 'spec must be an object';
  for (const field of ['acquireTime', 'renewTime']) {
    const value = spec[field];
    if (value !== undefined && value !== null && (typeof value !== 'string' || !MICRO_TIME.test(value))) {
      return `spec.${field}: parsing time ${JSON.stringify(value)} as "2006-01-02T15:04:05.000000Z07:00" failed`;
    }
  }
  for (const field of ['leaseDurationSeconds', 'leaseTransitions']) {
    const value = spec[field];
    if (value !== undefined && value !== null && !Number.isInteger(value)) return `spec.${field} must be an integer`;
  }
  const holder = spec.holderIdentity;
  if (holder !== undefined && holder !== null && typeof holder !== 'string') return 'spec.holderIdentity must be a string';
  return undefined;
}

function objectField(body: unknown, field: string): Record<string, unknown> | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const value = (body as Record<string, unknown>)[field];
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function withoutNulls(spec: FakeLeaseSpec): FakeLeaseSpec {
  return Object.fromEntries(Object.entries(spec).filter(([, value]) => value !== null && value !== undefined));
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}
