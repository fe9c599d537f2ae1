import type { GaugeState } from '../telemetry/tenancy.prometheus.js';
import type { TenancyCounters, TenancyPollerPhase, TenancyStatus } from '../tenancy-status.js';
import type { ResolvedTenancyOptions } from '../tenancy-options.js';
import type { RunState, TenancyRun } from './tenancy-run.js';

/** Liveness tolerates this many loop periods without an attempt. */
const LIVENESS_PERIODS = 3;

/**
 * Liveness: the loop that should be running (the fetch loop, or the election loop
 * standing by) made an attempt within 3 × max(pollInterval, maxBackoff, httpTimeout).
 * It does not depend on the Tenant Manager answering, so an outage never restarts pods.
 */
export function isAlive(
  phase: TenancyPollerPhase,
  lastAttemptAt: number | null,
  options: Pick<ResolvedTenancyOptions, 'pollInterval' | 'maxBackoff' | 'httpTimeout'>,
): boolean {
  if (phase === 'idle' || phase === 'stopping') return true;
  if (phase === 'stopped' || lastAttemptAt === null) return false;
  const period = Math.max(options.pollInterval, options.maxBackoff, options.httpTimeout);
  return Date.now() - lastAttemptAt < LIVENESS_PERIODS * period;
}

/**
 * The poller's phase: its own (`idle`, `standby`, `stopping`, `stopped`), or, while a
 * run was started (`replaying`), how far the run got.
 */
export function pollerPhase(own: TenancyPollerPhase, run: RunState | undefined, coordinated: boolean): TenancyPollerPhase {
  if (own !== 'replaying') return own;
  if (run === 'polling' || run === 'replaying') return run;
  return coordinated ? 'standby' : 'stopped';
}

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
