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
  eventOutcome(resourceType: string, eventType: string, result: string): void;
  handlerFinished(handler: string, seconds: number, ok: boolean): void;
  retry(): void;
  poll(ok: boolean): void;
  statusWrite(ok: boolean): void;
  replayFinished(seconds: number): void;
}

type PromClient = typeof import('prom-client');

/**
 * Registers the metrics on the host's registry (never the global one). Names follow
 * controller-runtime's workqueue metrics where one exists.
 */
export async function createPromMetrics(
  registry: PromRegistryLike,
  controller: string,
  state: () => GaugeState,
): Promise<PromMetrics> {
  let prom: PromClient;
  try {
    prom = await import('prom-client');
  } catch (error) {
    throw new Error(`option "metrics" needs the optional peer "prom-client" installed: ${(error as Error).message}`);
  }
  const registers = [registry as unknown as InstanceType<PromClient['Registry']>];
  const c = { controller };
  const counter = (name: string, help: string, labelNames: string[] = []) =>
    new prom.Counter({ name, help, labelNames: ['controller', ...labelNames], registers });
  const gauge = (name: string, help: string, read: (s: GaugeState) => Array<[Record<string, string>, number]>, labelNames: string[] = []) =>
    new prom.Gauge({
      name,
      help,
      labelNames: ['controller', ...labelNames],
      registers,
      collect() {
        const snapshot = state();
        for (const [labels, value] of read(snapshot)) this.set({ ...c, ...labels }, value);
      },
    });

  const events = counter('tenancy_events_total', 'Event attempts by outcome (success, failure, parked).', [
    'resource_type',
    'event_type',
    'result',
  ]);
  const duration = new prom.Histogram({
    name: 'tenancy_handler_duration_seconds',
    help: 'Time one @OnTenancyEvent handler took, per attempt.',
    labelNames: ['controller', 'handler'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers,
  });
  const handlerErrors = counter('tenancy_handler_errors_total', 'Handler attempts that threw or timed out.', ['handler']);
  const retries = counter('tenancy_retries_total', 'Event attempts scheduled for retry after a failure.');
  const polls = counter('tenancy_polls_total', 'Event fetches (replay and incremental) by result.', ['result']);
  const statusWrites = counter('tenancy_status_writes_total', 'Status PUT/DELETE requests by result.', ['result']);
  const replayDuration = new prom.Gauge({
    name: 'tenancy_replay_duration_seconds',
    help: 'Duration of the last replay, from fetch start until every replayed event was handled or parked.',
    labelNames: ['controller'],
    registers,
  });
  gauge('tenancy_queue_depth', 'Fetched events not finished, by phase (queued, in_flight, retrying).', (s) => [
    [{ phase: 'queued' }, s.queued],
    [{ phase: 'in_flight' }, s.inFlight],
    [{ phase: 'retrying' }, s.retrying],
  ], ['phase']);
  gauge('tenancy_active_handlers', 'Events whose handlers are running now.', (s) => [[{}, s.inFlight]]);
  gauge('tenancy_parked_events', 'Events given up on until retry() or a restart.', (s) => [[{}, s.parked]]);
  gauge('tenancy_cursor', 'Highest event-log id fetched.', (s) => [[{}, s.fetchCursor]]);
  gauge('tenancy_cursor_completed', 'Every event-log id at or below this was handled or parked.', (s) => [
    [{}, s.completedEventId],
  ]);
  gauge('tenancy_status_writes_pending', 'Resources with a status write in flight or waiting to retry.', (s) => [
    [{}, s.statusWritesPending],
  ]);
  gauge('tenancy_last_poll_success_timestamp_seconds', 'Unix time of the last successful fetch (0 before any).', (s) => [
    [{}, s.lastPollSuccessAt === null ? 0 : s.lastPollSuccessAt / 1000],
  ]);
  gauge('tenancy_leader', '1 while this replica is the active one (always 1 without coordination).', (s) => [
    [{}, s.leader ? 1 : 0],
  ]);

  return {
    eventOutcome: (resourceType, eventType, result) =>
      events.inc({ ...c, resource_type: resourceType, event_type: eventType, result }),
    handlerFinished: (handler, seconds, ok) => {
      duration.observe({ ...c, handler }, seconds);
      if (!ok) handlerErrors.inc({ ...c, handler });
    },
    retry: () => retries.inc(c),
    poll: (ok) => polls.inc({ ...c, result: ok ? 'success' : 'failure' }),
    statusWrite: (ok) => statusWrites.inc({ ...c, result: ok ? 'success' : 'failure' }),
    replayFinished: (seconds) => replayDuration.set(c, seconds),
  };
}
