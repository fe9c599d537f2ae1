import type { PromRegistryLike } from '../tenancy-options.js';
import type { TenancyPollerPhase } from '../tenancy-status.js';

/** Live values the gauges read at scrape time. */
export interface GaugeState {
  readonly phase: TenancyPollerPhase;
  readonly queued: number;
  readonly inFlight: number;
  readonly retrying: number;
  readonly parked: number;
  readonly fetchCursor: number;
  readonly completedEventId: number;
  readonly statusWritesPending: number;
  readonly lastPollSuccessAt: number | null;
  readonly leader: boolean;
}

/** The prom-client metrics of one controller; labels never carry an org or project id. */
export interface PromMetrics {
  /** True when another module instance with the same controller name already uses this registry. */
  readonly sharedController: boolean;
  eventOutcome(resourceType: string, eventType: string, result: string): void;
  handlerFinished(handler: string, seconds: number, ok: boolean): void;
  retry(): void;
  poll(ok: boolean): void;
  statusWrite(ok: boolean): void;
  replayFinished(seconds: number): void;
  /**
   * Leaves the registry: removes this controller's series (unless another instance
   * with the same controller name still uses them) and unregisters every metric
   * whose last user this was. Idempotent.
   */
  release(): Promise<void>;
}

type PromClient = typeof import('prom-client');
type Registry = InstanceType<PromClient['Registry']>;
type Labels = Record<string, string>;

/** What every metric of ours can do, whatever its type. */
interface SharedMetric {
  readonly labelNames?: readonly string[];
  get(): Promise<{ values: Array<{ labels: Record<string, string | number> }> }>;
  remove(labels: Labels): void;
  [USERS]?: MetricUser[];
}

/** One module instance using a metric: its controller label and where its gauges read. */
interface MetricUser {
  readonly controller: string;
  readonly read: () => GaugeState;
}

// Symbol.for: two copies of this library in one process recognise each other's metrics.
const USERS = Symbol.for('nestjs-tenancy.metric-users');

type GaugeReading = (s: GaugeState) => Array<[Labels, number]>;

interface MetricSpec {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  /** Besides `controller`, which every metric has. */
  readonly labelNames?: readonly string[];
  readonly buckets?: number[];
  /** Gauges read at scrape time, once per controller using the registry. */
  readonly read?: GaugeReading;
}

// Names follow controller-runtime's workqueue metrics where one exists. The README's
// metrics table lists the same names and labels.
const METRICS = {
  events: {
    name: 'tenancy_events_total',
    help: 'Event attempts by outcome (success, failure, parked).',
    type: 'counter',
    labelNames: ['resource_type', 'event_type', 'result'],
  },
  handlerDuration: {
    name: 'tenancy_handler_duration_seconds',
    help: 'Time one @OnTenancyEvent handler took, per attempt.',
    type: 'histogram',
    labelNames: ['handler'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  },
  handlerErrors: {
    name: 'tenancy_handler_errors_total',
    help: 'Handler attempts that threw or timed out.',
    type: 'counter',
    labelNames: ['handler'],
  },
  retries: { name: 'tenancy_retries_total', help: 'Event attempts scheduled for retry after a failure.', type: 'counter' },
  polls: {
    name: 'tenancy_polls_total',
    help: 'Event fetches (replay and incremental) by result.',
    type: 'counter',
    labelNames: ['result'],
  },
  statusWrites: {
    name: 'tenancy_status_writes_total',
    help: 'Status PUT/DELETE requests by result.',
    type: 'counter',
    labelNames: ['result'],
  },
  replayDuration: {
    name: 'tenancy_replay_duration_seconds',
    help: 'Duration of the last replay or resync, from the fetched snapshot being queued until every event in it was handled or parked.',
    type: 'gauge',
  },
  queueDepth: {
    name: 'tenancy_queue_depth',
    help: 'Fetched events not finished, by phase (queued, in_flight, retrying).',
    type: 'gauge',
    labelNames: ['phase'],
    read: (s) => [
      [{ phase: 'queued' }, s.queued],
      [{ phase: 'in_flight' }, s.inFlight],
      [{ phase: 'retrying' }, s.retrying],
    ],
  },
  activeHandlers: {
    name: 'tenancy_active_handlers',
    help: 'Events whose handlers are running now.',
    type: 'gauge',
    read: (s) => [[{}, s.inFlight]],
  },
  parked: {
    name: 'tenancy_parked_events',
    help: 'Events given up on until retry() or a restart.',
    type: 'gauge',
    read: (s) => [[{}, s.parked]],
  },
  cursor: { name: 'tenancy_cursor', help: 'Highest event-log id fetched.', type: 'gauge', read: (s) => [[{}, s.fetchCursor]] },
  cursorCompleted: {
    name: 'tenancy_cursor_completed',
    help: 'Every event-log id at or below this was handled or parked.',
    type: 'gauge',
    read: (s) => [[{}, s.completedEventId]],
  },
  statusWritesPending: {
    name: 'tenancy_status_writes_pending',
    help: 'Resources with a status write in flight or waiting to retry.',
    type: 'gauge',
    read: (s) => [[{}, s.statusWritesPending]],
  },
  lastPollSuccess: {
    name: 'tenancy_last_poll_success_timestamp_seconds',
    help: 'Unix time of the last successful fetch (0 before any).',
    type: 'gauge',
    read: (s) => [[{}, s.lastPollSuccessAt === null ? 0 : s.lastPollSuccessAt / 1000]],
  },
  leader: {
    name: 'tenancy_leader',
    help:
      '1 while this replica leads and its poller runs (without coordination: while the poller runs); ' +
      '0 before start, while standing by, and after stop.',
    type: 'gauge',
    read: (s) => [[{}, s.leader ? 1 : 0]],
  },
} as const satisfies Record<string, MetricSpec>;

/**
 * Joins the host's registry (never the global one) as `controller`. Metrics already
 * registered there by another TenancyModule (another controller name, or an app
 * started before this one) are reused, so several apps share one registry, told
 * apart by the `controller` label. Gauges read each controller's own state.
 */
export async function createPromMetrics(
  registryLike: PromRegistryLike,
  controller: string,
  state: () => GaugeState,
): Promise<PromMetrics> {
  let prom: PromClient;
  try {
    prom = await import('prom-client');
  } catch (error) {
    throw new Error(`option "metrics" needs the optional peer "prom-client" installed: ${(error as Error).message}`);
  }
  const registry = registryLike as unknown as Registry;
  const user: MetricUser = { controller, read: state };
  // Check every name before joining any, so a refusal leaves the registry untouched.
  for (const spec of Object.values(METRICS)) checkReusable(registry, spec);
  const sharedController = Object.values(METRICS).some((spec) =>
    usersOf(registry.getSingleMetric(spec.name))?.some((u) => u.controller === controller),
  );
  const joined = new Map<string, SharedMetric>();
  const join = <M>(spec: MetricSpec): M => {
    const metric = (registry.getSingleMetric(spec.name) as SharedMetric | undefined) ?? create(prom, registry, spec);
    (metric[USERS] ??= []).push(user);
    joined.set(spec.name, metric);
    return metric as M;
  };
  type Counter = InstanceType<PromClient['Counter']>;
  type Gauge = InstanceType<PromClient['Gauge']>;
  type Histogram = InstanceType<PromClient['Histogram']>;
  const events = join<Counter>(METRICS.events);
  const duration = join<Histogram>(METRICS.handlerDuration);
  const handlerErrors = join<Counter>(METRICS.handlerErrors);
  const retries = join<Counter>(METRICS.retries);
  const polls = join<Counter>(METRICS.polls);
  const statusWrites = join<Counter>(METRICS.statusWrites);
  const replayDuration = join<Gauge>(METRICS.replayDuration);
  for (const spec of Object.values(METRICS)) if ('read' in spec) join(spec);

  const c = { controller };
  // Label children bound once: status writes and polls count on every request.
  const retried = retries.labels(c);
  const pollsBy = { success: polls.labels({ ...c, result: 'success' }), failure: polls.labels({ ...c, result: 'failure' }) };
  const writesBy = {
    success: statusWrites.labels({ ...c, result: 'success' }),
    failure: statusWrites.labels({ ...c, result: 'failure' }),
  };
  let released: Promise<void> | undefined;
  return {
    sharedController,
    eventOutcome: (resourceType, eventType, result) =>
      events.inc({ ...c, resource_type: resourceType, event_type: eventType, result }),
    handlerFinished: (handler, seconds, ok) => {
      duration.observe({ ...c, handler }, seconds);
      if (!ok) handlerErrors.inc({ ...c, handler });
    },
    retry: () => retried.inc(),
    poll: (ok) => (ok ? pollsBy.success : pollsBy.failure).inc(),
    statusWrite: (ok) => (ok ? writesBy.success : writesBy.failure).inc(),
    replayFinished: (seconds) => replayDuration.set(c, seconds),
    release: () => (released ??= leave(registry, joined, user)),
  };
}

function usersOf(metric: unknown): MetricUser[] | undefined {
  return (metric as SharedMetric | undefined)?.[USERS];
}

/** A metric of this name may be joined only when this module registered it, with the same labels. */
function checkReusable(registry: Registry, spec: MetricSpec): void {
  const existing = registry.getSingleMetric(spec.name) as SharedMetric | undefined;
  if (existing === undefined) return;
  const labels = ['controller', ...(spec.labelNames ?? [])];
  if (usersOf(existing) === undefined || existing.labelNames?.join() !== labels.join()) {
    throw new Error(
      `option "metrics": the registry already has a metric named ${spec.name} that TenancyModule did not register ` +
        `(or with other labels than ${labels.join(', ')})`,
    );
  }
}

function create(prom: PromClient, registry: Registry, spec: MetricSpec): SharedMetric {
  const common = { name: spec.name, help: spec.help, labelNames: ['controller', ...(spec.labelNames ?? [])], registers: [registry] };
  let metric: unknown;
  if (spec.type === 'counter') metric = new prom.Counter(common);
  else if (spec.type === 'histogram') metric = new prom.Histogram({ ...common, buckets: spec.buckets });
  else if (spec.read === undefined) metric = new prom.Gauge(common);
  else metric = new prom.Gauge({ ...common, collect: collector(spec.read) });
  const shared = metric as SharedMetric;
  shared[USERS] = [];
  return shared;
}

/** A scrape-time collect that sets the series of every controller using the metric, and only those. */
function collector(read: GaugeReading) {
  return function collect(this: InstanceType<PromClient['Gauge']>): void {
    this.reset();
    // The newest instance of a controller speaks for it (an older one is shutting down).
    const latest = new Map<string, () => GaugeState>();
    for (const user of (this as unknown as SharedMetric)[USERS] ?? []) latest.set(user.controller, user.read);
    for (const [controller, state] of latest) {
      for (const [labels, value] of read(state())) this.set({ controller, ...labels }, value);
    }
  };
}

async function leave(registry: Registry, joined: ReadonlyMap<string, SharedMetric>, user: MetricUser): Promise<void> {
  const emptied: Array<[string, SharedMetric]> = [];
  const stillUsed: SharedMetric[] = [];
  for (const [name, metric] of joined) {
    const users = metric[USERS] ?? [];
    const at = users.indexOf(user);
    if (at >= 0) users.splice(at, 1);
    if (users.length === 0) emptied.push([name, metric]);
    else if (!users.some((u) => u.controller === user.controller)) stillUsed.push(metric);
  }
  // Unregister at once (synchronously), so an app starting right now registers afresh.
  for (const [name, metric] of emptied) {
    if (registry.getSingleMetric(name) === (metric as unknown)) registry.removeSingleMetric(name);
  }
  await Promise.all(stillUsed.map((metric) => removeSeries(metric, user.controller)));
}

/** Removes every series of `controller`; other controllers' series stay. */
async function removeSeries(metric: SharedMetric, controller: string): Promise<void> {
  const { values } = await metric.get();
  // A new instance of the same controller may have joined while we waited: its series stay.
  if ((metric[USERS] ?? []).some((u) => u.controller === controller)) return;
  const seen = new Set<string>();
  for (const { labels } of values) {
    if (labels.controller !== controller) continue;
    // Histogram values carry `le` (and _sum/_count share labels): remove by the metric's own labels.
    const own: Labels = {};
    for (const name of metric.labelNames ?? []) if (labels[name] !== undefined) own[name] = String(labels[name]);
    const key = JSON.stringify(own);
    if (seen.has(key)) continue;
    seen.add(key);
    metric.remove(own);
  }
}
