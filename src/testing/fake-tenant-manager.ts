import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { ResourceType } from '../tenancy-event.js';
import { FakeMessages } from './fake-tenant-manager.messages.js';
import { FaultInjector, type InjectedFault, type MatchableRequest, type RequestMatcher } from './fault-injector.js';
import { errorReply, type ParsedBody, readBody, sendReply, splitUrl } from './http-io.js';
import { HttpRouter } from './http-router.js';
import { InternalApiRoutes } from './internal-api.routes.js';
import { PublicApiRoutes } from './public-api.routes.js';
import { type RecordedRequest, RequestRecorder } from './request-recorder.js';
import { type OrgStatusBody, type ProjectStatusBody, ResourceViews } from './resource-views.js';
import {
  type CleanupResult,
  type FakeOrg,
  type FakeProject,
  type RegisteredControllers,
  type StatusRow,
  TenantStore,
  TenantStoreError,
  toFakeOrg,
  toFakeProject,
  type WireEvent,
} from './tenant-store.js';

/** Registered controllers: one list for both resource types, or one per type. */
export type ControllersOption =
  | readonly string[]
  | { readonly org?: readonly string[]; readonly project?: readonly string[] };

/** Options of {@link FakeTenantManager}; every field is optional. */
export interface FakeTenantManagerOptions {
  /** When set, `/v1/events` and `/v1/status` require `X-Internal-Token: <secret>` (else 401). */
  readonly internalToken?: string;
  /** Controllers the status derivation and the hard-delete cleanup wait for; default none. */
  readonly controllers?: ControllersOption;
  /** Org used by `PUT /v1/projects/{name}` when `?org` is omitted (it is not created). */
  readonly defaultOrg?: string;
  /** Period (ms) of the background hard-delete sweep; default `false` (only `runCleanup()`). */
  readonly cleanupInterval?: number | false;
  /** Log events older than this (ms) are pruned in the background; default `false` (kept). */
  readonly eventRetention?: number | false;
  /** One line per request to the console (`true`) or to a function; default off. */
  readonly logRequests?: boolean | ((line: string) => void);
  /** Keep a request log: `true` (default) the last 10,000, a number that many, `false` none. */
  readonly recordRequests?: boolean | number;
}

/** Responses are always complete with a content-length, so idle sockets can be reused. */
const KEEP_ALIVE_TIMEOUT_MS = 5000;
/** Pruning period bounds: often enough to honour short retentions in tests, never busy. */
const MIN_PRUNE_PERIOD_MS = 10;
const MAX_PRUNE_PERIOD_MS = 1000;

/**
 * An in-process emulator of the whole Tenant Manager REST API (PROTOCOL.md) on a
 * loopback port: event replay and paging, status rows, the public org/project API
 * with derived status, soft and hard deletes, event pruning, plus a programmatic
 * API for arranging state and injecting faults. State survives `stop()`/`start()`,
 * so a test can restart "the service" under a running client.
 */
export class FakeTenantManager {
  private readonly store = new TenantStore();
  private readonly controllers: RegisteredControllers;
  private readonly views: ResourceViews;
  private readonly router: HttpRouter;
  private readonly faults = new FaultInjector();
  private readonly recorder: RequestRecorder;
  private readonly logLine: ((line: string) => void) | undefined;
  private readonly cleanupInterval: number | false;
  private readonly eventRetention: number | false;

  private server: Server | undefined;
  private readonly openSockets = new Set<Socket>();
  private baseUrl: string | undefined;
  private stopping: Promise<void> | undefined;
  private timers: NodeJS.Timeout[] = [];
  /** Pending `delay()` sleeps, woken by `stop()` so no handler outlives the server. */
  private readonly sleepers = new Map<NodeJS.Timeout, () => void>();
  private connectionCount = 0;
  private handledCount = 0;

  constructor(options: FakeTenantManagerOptions = {}) {
    this.controllers = normalizeControllers(options.controllers);
    this.cleanupInterval = validPeriod('cleanupInterval', options.cleanupInterval);
    this.eventRetention = validPeriod('eventRetention', options.eventRetention);
    this.recorder = new RequestRecorder(options.recordRequests ?? true);
    const log = options.logRequests;
    this.logLine = typeof log === 'function' ? log : log === true ? (line) => console.log(line) : undefined;
    this.views = new ResourceViews(this.store, this.controllers);
    this.router = new HttpRouter(
      new InternalApiRoutes(this.store),
      new PublicApiRoutes(this.store, this.views, options.defaultOrg),
      options.internalToken,
    );
  }

  // --- lifecycle --------------------------------------------------------------

  /** Listens on `host:port` (port 0 = any free port) and resolves to the base URL. */
  async start(port = 0, host = '127.0.0.1'): Promise<string> {
    if (this.stopping !== undefined) await this.stopping;
    if (this.server !== undefined) throw new Error(FakeMessages.alreadyStarted());
    const server = createServer((req, res) => this.onRequest(req, res));
    server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
    server.on('connection', (socket) => {
      this.connectionCount++;
      this.openSockets.add(socket);
      socket.once('close', () => this.openSockets.delete(socket));
    });
    this.server = server;
    this.connectionCount = 0;
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      this.server = undefined;
      throw error;
    }
    const { port: actualPort } = server.address() as AddressInfo;
    this.baseUrl = `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`;
    this.startTimers();
    return this.baseUrl;
  }

  /**
   * Closes the server and every open connection, keep-alive or in flight, and
   * stops the background timers. Idempotent; data is kept for a later `start()`.
   */
  stop(): Promise<void> {
    if (this.stopping !== undefined) return this.stopping;
    const server = this.server;
    if (server === undefined) return Promise.resolve();
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    for (const [timer, wake] of this.sleepers) {
      clearTimeout(timer);
      wake();
    }
    this.sleepers.clear();
    this.stopping = new Promise<void>((resolve) => {
      server.close(() => resolve());
      // close() alone waits for idle keep-alive sockets to time out.
      server.closeAllConnections();
    }).finally(() => {
      this.server = undefined;
      this.baseUrl = undefined;
      this.stopping = undefined;
    });
    return this.stopping;
  }

  /** Base URL, e.g. `http://127.0.0.1:41234`; throws before `start()`. */
  get url(): string {
    if (this.baseUrl === undefined) throw new Error(FakeMessages.notStarted());
    return this.baseUrl;
  }

  /** TCP connections accepted since the last `start()` (proves keep-alive in benchmarks). */
  get connections(): number {
    return this.connectionCount;
  }

  /** TCP connections open right now: a client that closed cleanly leaves none. */
  get openConnections(): number {
    return this.openSockets.size;
  }

  /** Requests received since construction; counted even when recording is off. */
  get requestCount(): number {
    return this.handledCount;
  }

  // --- arranging state --------------------------------------------------------

  /** Creates an org (logs `created`); throws when the name is taken, even by a deleted org. */
  createOrg(name: string, description = ''): FakeOrg {
    return toFakeOrg(this.store.createOrg(name, description));
  }

  /** Creates a project in an active org (logs `created`). */
  createProject(orgName: string, name: string, description = ''): FakeProject {
    return toFakeProject(this.store.createProject(orgName, name, description));
  }

  /** Soft-deletes the org's projects, then the org (one `deleted` event each, in that order). */
  deleteOrg(name: string): void {
    this.store.deleteOrg(name);
  }

  /** Soft-deletes a project (logs `deleted`). */
  deleteProject(orgName: string, name: string): void {
    this.store.deleteProject(this.store.lookupProject(name, orgName));
  }

  /** The org, active or soft-deleted, until hard-deleted. */
  org(name: string): FakeOrg | undefined {
    const org = this.store.findOrg(name);
    return org === undefined ? undefined : toFakeOrg(org);
  }

  /** The project, active or soft-deleted, until hard-deleted. */
  project(orgName: string, name: string): FakeProject | undefined {
    const project = this.store.findProject(orgName, name);
    return project === undefined ? undefined : toFakeProject(project);
  }

  /**
   * Bulk-creates `orgs` orgs named `<prefix>-<i>`, each followed by `projectsPerOrg`
   * projects named `<prefix>-<i>-p<j>` (1-based; project names are globally unique).
   */
  seed(orgs: number, projectsPerOrg: number, prefix = 'seed'): void {
    for (let i = 1; i <= orgs; i++) {
      const orgName = `${prefix}-${i}`;
      this.store.createOrg(orgName);
      for (let j = 1; j <= projectsPerOrg; j++) this.store.createProject(orgName, `${orgName}-p${j}`);
    }
  }

  // --- observing state --------------------------------------------------------

  /** The event log after pruning, oldest first, exactly as served on the wire. */
  get events(): readonly WireEvent[] {
    return this.store.events();
  }

  /** Highest event id ever issued (0 before any); pruning does not lower it. */
  get lastEventId(): number {
    return this.store.lastEventId;
  }

  /** All status rows (registered controllers or not), or one controller's. */
  statusRows(controller?: string): StatusRow[] {
    return this.store.statusRows(controller);
  }

  /** One status row. */
  statusOf(controller: string, resourceType: string, resourceId: string): StatusRow | undefined {
    return this.store.statusRow(controller, resourceType, resourceId);
  }

  /** What `GET /v1/orgs/{name}/status` would answer; `undefined` when there is no such org. */
  derivedStatus(resourceType: 'org', name: string): OrgStatusBody | undefined;
  /**
   * What `GET /v1/projects/{name}/status[?org=]` would answer; `undefined` when absent.
   * Throws when `orgName` is omitted and the name exists in several orgs.
   */
  derivedStatus(resourceType: 'project', name: string, orgName?: string): ProjectStatusBody | undefined;
  derivedStatus(
    resourceType: ResourceType,
    name: string,
    orgName?: string,
  ): OrgStatusBody | ProjectStatusBody | undefined {
    if (resourceType === ResourceType.Org) {
      const org = this.store.findOrg(name);
      return org === undefined ? undefined : this.views.orgStatus(org);
    }
    try {
      return this.views.projectStatus(this.store.lookupProject(name, orgName));
    } catch (error) {
      if (error instanceof TenantStoreError && error.code === 'not_found') return undefined;
      throw error;
    }
  }

  /** Recorded requests, oldest first (the most recent ones when the log is capped). */
  get requests(): readonly RecordedRequest[] {
    return this.recorder.list();
  }

  /** Empties the request log (`requestCount` keeps counting). */
  clearRequests(): void {
    this.recorder.clear();
  }

  // --- background work, on demand ---------------------------------------------

  /**
   * One hard-delete sweep: soft-deleted projects, then soft-deleted orgs with no
   * projects left, once no registered controller has a status row for them.
   */
  runCleanup(): CleanupResult {
    return this.store.cleanup(this.controllers);
  }

  /** Drops log events at least `olderThanMs` old (0: all); returns how many. `lastEventId` stays. */
  pruneEvents(olderThanMs = 0): number {
    return this.store.pruneEventsBefore(Date.now() - olderThanMs);
  }

  // --- fault injection --------------------------------------------------------

  /**
   * The next `count` requests matching `fault.match` get the fault instead of being
   * handled: status (default 500) with `{"error":"injected fault"}` or `fault.body`
   * sent raw (with `status: 200`, a malformed-body injection), or a dropped connection.
   */
  failNext(count: number, fault: InjectedFault = {}): void {
    this.faults.failNext(count, fault);
  }

  /** Chaos: each matching request fails with probability `rate`; `0` turns it off. */
  failRandomly(rate: number, fault: InjectedFault = {}, random: () => number = Math.random): void {
    this.faults.failRandomly(rate, fault, random);
  }

  /** Delays the next `count` matching responses by `ms` (before any fault or handling). */
  delay(ms: number, match?: RequestMatcher, count = Infinity): void {
    this.faults.delay(ms, match, count);
  }

  /** Cancels every pending `failNext`, `failRandomly` and `delay`. */
  clearFaults(): void {
    this.faults.clear();
  }

  // --- internals --------------------------------------------------------------

  private startTimers(): void {
    if (this.cleanupInterval !== false) {
      this.timers.push(setInterval(() => this.runCleanup(), this.cleanupInterval).unref());
    }
    const retention = this.eventRetention;
    if (retention !== false) {
      const period = Math.min(MAX_PRUNE_PERIOD_MS, Math.max(MIN_PRUNE_PERIOD_MS, retention));
      this.timers.push(setInterval(() => this.pruneEvents(retention), period).unref());
    }
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    this.handle(req, res).catch((error: unknown) => {
      if (res.headersSent || res.destroyed) return;
      sendReply(res, errorReply(500, FakeMessages.internalError(String(error))));
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const startedAt = performance.now();
    const method = (req.method ?? 'GET').toUpperCase();
    const rawUrl = req.url ?? '/';
    const { path, query } = splitUrl(rawUrl);
    let body: ParsedBody;
    try {
      body = await readBody(req);
    } catch {
      return; // the client went away mid-body: nobody to answer
    }
    this.handledCount++;
    const bodyValue = body.isJson ? body.json : body.raw === '' ? undefined : body.raw;
    const record = this.recorder.add({
      method,
      path,
      query,
      headers: req.headers,
      body: bodyValue,
      status: 0,
      at: Date.now(),
    });
    const matchable: MatchableRequest = { method, path, query, body: bodyValue };

    const delayMs = this.faults.takeDelay(matchable);
    if (delayMs > 0) await this.sleep(delayMs);
    if (res.destroyed || req.socket.destroyed) return; // stopped while delayed

    const action = this.faults.takeFault(matchable);
    if (action?.destroy === true) {
      res.destroy();
      this.logLine?.(`${method} ${rawUrl} (connection dropped)`);
      return;
    }
    const reply = action?.reply ?? this.router.handle({ method, path, query, headers: req.headers, body });
    record.status = reply.status;
    sendReply(res, reply);
    if (this.logLine !== undefined) {
      const elapsed = (performance.now() - startedAt).toFixed(1);
      this.logLine(`${method} ${rawUrl} ${reply.status} ${elapsed}ms${action === undefined ? '' : ' (injected)'}`);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.sleepers.delete(timer);
        resolve();
      }, ms);
      this.sleepers.set(timer, resolve);
    });
  }
}

function normalizeControllers(option: ControllersOption | undefined): RegisteredControllers {
  const list = (names: readonly string[] | undefined, field: string): readonly string[] => {
    for (const name of names ?? []) {
      if (typeof name !== 'string' || name === '') {
        throw new TypeError(`controllers${field}: names must be non-empty strings, got ${JSON.stringify(name)}`);
      }
    }
    return Object.freeze([...new Set(names ?? [])]);
  };
  if (option === undefined || Array.isArray(option)) {
    const both = list(option as readonly string[] | undefined, '');
    return Object.freeze({ org: both, project: both });
  }
  const perType = option as { readonly org?: readonly string[]; readonly project?: readonly string[] };
  return Object.freeze({ org: list(perType.org, '.org'), project: list(perType.project, '.project') });
}

function validPeriod(name: string, value: number | false | undefined): number | false {
  if (value === undefined || value === false) return false;
  if (!(Number.isFinite(value) && value > 0)) {
    throw new RangeError(`${name} must be a positive number of milliseconds or false, got ${value}`);
  }
  return value;
}

/**
 * The store behind a fake, for the emulator's `--data` persistence. Internal: not
 * exported from `nestjs-tenancy/testing`.
 */
export function tenantStoreOf(fake: FakeTenantManager): TenantStore {
  return fake['store'];
}
