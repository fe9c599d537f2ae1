import type { GaugeState } from '../telemetry/tenancy.prometheus.js';
import type { TenancyCounters, TenancyPollerPhase, TenancyStatus } from '../tenancy-status.js';
import type { TenancyRun } from './tenancy-run.js';

/** Counts only (no lists): read by every metrics scrape. */
export function runGauges(phase: TenancyPollerPhase, run: TenancyRun | undefined, leader: boolean): GaugeState {
  const queue = run?.queue;
  const inFlight = queue?.inFlight ?? 0;
  const retrying = queue?.retrying ?? 0;
  return {
    phase,
    queued: Math.max((queue?.size ?? 0) - inFlight - retrying, 0),
    inFlight,
    retrying,
    parked: queue?.parkedCount ?? 0,
    fetchCursor: run?.feed.cursor.fetched ?? 0,
    completedEventId: run?.feed.cursor.completed ?? 0,
    statusWritesPending: run?.status.pending ?? 0,
    lastPollSuccessAt: run?.feed.lastSuccessAt ?? null,
    leader,
  };
}

/** What the poller knows besides its run. */
export interface PollerFacts {
  readonly controller: string;
  readonly phase: TenancyPollerPhase;
  readonly run: TenancyRun | undefined;
  readonly ready: boolean;
  readonly alive: boolean;
  readonly leader: boolean;
  readonly identity: string | null;
  readonly counters: TenancyCounters;
}

/** The full `getStatus()` view, lists included. */
export function runStatus(facts: PollerFacts): TenancyStatus {
  const { run } = facts;
  const gauges = runGauges(facts.phase, run, facts.leader);
  const issues = run?.issues() ?? { parked: [], failing: [] };
  return {
    controller: facts.controller,
    phase: facts.phase,
    ready: facts.ready,
    alive: facts.alive,
    leader: facts.leader,
    identity: facts.identity,
    fetchCursor: gauges.fetchCursor,
    completedEventId: gauges.completedEventId,
    queued: gauges.queued,
    inFlight: gauges.inFlight,
    retrying: gauges.retrying,
    parked: gauges.parked,
    parkedEvents: issues.parked,
    failingEvents: issues.failing,
    statusWritesPending: gauges.statusWritesPending,
    lastPollAttemptAt: toDate(run?.feed.lastAttemptAt ?? null),
    lastPollSuccessAt: toDate(run?.feed.lastSuccessAt ?? null),
    replay: run?.feed.replayProgress?.snapshot() ?? null,
    counters: facts.counters,
  };
}

function toDate(epochMs: number | null): Date | null {
  return epochMs === null ? null : new Date(epochMs);
}
