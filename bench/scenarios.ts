import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BusyLoad } from './busy-load.js';
import type { ClientJob, ClientKind, ClientResult, HandlerSpec, StopRule } from './client.api.js';
import { runClient, runInChild, type Spawned } from './client.control.js';
import type { NestFloorJob, NestFloorResult } from './nest-floor.child.js';
import { summarizeProfile } from './profile-summary.js';
import type { CorrectnessCheck, RunMetrics, ScenarioResult, TargetCheck } from './results.js';
import type { ArrangeOp, ServerStats, Slot } from './server.api.js';
import type { ServerProcess } from './server.control.js';
import { count, ms, ratio, round, summarize } from './stats.js';

/** S1P's `inProgressAfter`: far longer than a no-op handler takes. */
const IN_PROGRESS_AFTER_MS = 1_000;

/** The library's default concurrency, which the targets assume. */
export const LIBRARY_CONCURRENCY = 8;
/** The baseline is sequential: one connection in use, +2 slack like the library's bound. */
const BASELINE_CONNECTION_LIMIT = 1 + 2;
const BOTH: readonly Slot[] = ['library', 'baseline'];
const CONTROLLER: Record<ClientKind, string> = { library: 'bench-library', baseline: 'bench-baseline' };

/** Sizes per mode. Quick runs everything small, in seconds. */
export interface Sizes {
  readonly s1: { orgs: number; projects: number };
  readonly s1r: { orgs: number; projects: number; latencyMs: number };
  readonly s2: { orgs: number; projects: number; delayMs: number };
  readonly s3: { orgs: number; projects: number; pollInterval: number; pollLimit: number; baselineCap: number };
  readonly s4: { events: number; spacingMs: number; pollInterval: number };
  readonly s5: { events: number; orgs: number; windowMs: number; pollInterval: number };
  readonly s6: { orgs: number; projects: number; baselineCap: number };
  /** How long a client idles after its replay before the idle-RSS sample (S1, S6). */
  readonly idleMs: number;
  readonly timeoutMs: number;
}

export const FULL: Sizes = {
  s1: { orgs: 1_000, projects: 9 },
  s1r: { orgs: 200, projects: 9, latencyMs: 1 },
  s2: { orgs: 200, projects: 9, delayMs: 5 },
  s3: { orgs: 200, projects: 9, pollInterval: 5_000, pollLimit: 100, baselineCap: 500 },
  // At least 1.3 s apart, arrival phases stratified over the poll period (see S4).
  s4: { events: 20, spacingMs: 1_300, pollInterval: 1_000 },
  s5: { events: 200, orgs: 20, windowMs: 10_000, pollInterval: 1_000 },
  s6: { orgs: 10_000, projects: 9, baselineCap: 10_000 },
  idleMs: 3_000,
  timeoutMs: 300_000,
};

export const QUICK: Sizes = {
  s1: { orgs: 20, projects: 9 },
  s1r: { orgs: 20, projects: 9, latencyMs: 1 },
  s2: { orgs: 20, projects: 9, delayMs: 5 },
  s3: { orgs: 30, projects: 9, pollInterval: 1_000, pollLimit: 100, baselineCap: 300 },
  s4: { events: 5, spacingMs: 1_300, pollInterval: 1_000 },
  s5: { events: 50, orgs: 5, windowMs: 3_000, pollInterval: 1_000 },
  s6: { orgs: 500, projects: 9, baselineCap: 1_000 },
  idleMs: 300,
  timeoutMs: 60_000,
};

export interface BenchContext {
  readonly server: ServerProcess;
  readonly sizes: Sizes;
  /** When set, library runs are CPU-profiled into this directory. */
  readonly profileDir?: string;
  /** What-if patches applied to library runs (bench/experiments.ts). */
  readonly experiments: readonly string[];
  /** Library concurrency (default {@link LIBRARY_CONCURRENCY}). */
  readonly concurrency: number;
  /** Extra node flags for library processes (what-if, e.g. a heap cap). */
  readonly nodeFlags: readonly string[];
  readonly log: (line: string) => void;
}

interface Measured {
  readonly result: Spawned<ClientResult>;
  readonly stats: ServerStats;
  readonly serverCpuPct: number;
  readonly concurrency: number;
  /** Server process CPU when the client's window ended (single-client runs only: else shared). */
  readonly serverCpuAtDoneMicros: number | null;
}

interface Planned {
  readonly slot: Slot;
  readonly job: ClientJob;
  readonly onReady?: () => void;
}

export type Scenario = (ctx: BenchContext) => Promise<ScenarioResult>;

export const SCENARIOS: Readonly<Record<string, Scenario>> = {
  S1: replayNoop,
  S1L: replayNoopLoaded,
  S1R: replayWithLatency,
  S1P: replayNoopInProgressAfter,
  S1A: replayNoopAxios,
  S2: replaySlowHandler,
  S3: backlogDrain,
  S4: steadyStateLatency,
  S5: poison,
  S6: scale,
};

// --- scenarios ------------------------------------------------------------------

async function replayNoop(ctx: BenchContext): Promise<ScenarioResult> {
  const { orgs, projects } = ctx.sizes.s1;
  return replayScenario(ctx, {
    id: 'S1',
    title: `replay, no-op handler`,
    orgs,
    projects,
    handler: { delayMs: 0 },
    minSpeedup: 3,
    issue14: true,
    idle: true,
  });
}

async function replayNoopLoaded(ctx: BenchContext): Promise<ScenarioResult> {
  const { orgs, projects } = ctx.sizes.s1;
  return replayScenario(ctx, {
    id: 'S1L',
    title: `replay, no-op handler, while another process keeps one core busy`,
    orgs,
    projects,
    handler: { delayMs: 0 },
    loaded: true,
    issue14: true,
    note:
      'S1 with a busy-loop process (started before the client is spawned, killed when its window ends) taking one of the cores: ' +
      'client and server share what is left, as they do when other work runs on the machine.',
  });
}

/** Issue 14 item 3: S1 with `inProgressAfter`, as on a restart replay of converged resources. */
async function replayNoopInProgressAfter(ctx: BenchContext): Promise<ScenarioResult> {
  const { orgs, projects } = ctx.sizes.s1;
  return replayScenario(ctx, {
    id: 'S1P',
    title: `replay, no-op handler, library with inProgressAfter ${IN_PROGRESS_AFTER_MS} ms`,
    orgs,
    projects,
    handler: { delayMs: 0 },
    inProgressAfter: IN_PROGRESS_AFTER_MS,
    note:
      `S1 with the library option inProgressAfter: ${IN_PROGRESS_AFTER_MS}: a handler done sooner gets one status write (completed), ` +
      'not in_progress then completed. The baseline (reference algorithm) always writes twice.',
  });
}

/** Issue 11: S1 on the axios transport, so `npm run bench` reports the cost of each transport. */
async function replayNoopAxios(ctx: BenchContext): Promise<ScenarioResult> {
  const { orgs, projects } = ctx.sizes.s1;
  return replayScenario(ctx, {
    id: 'S1A',
    title: `replay, no-op handler, library with transport 'axios'`,
    orgs,
    projects,
    handler: { delayMs: 0 },
    transport: 'axios',
    idle: true,
    note:
      "Informational, no target (#11): S1 with the library option transport: 'axios' (a fresh axios instance instead of node:http). " +
      'Compare its client CPU per status write, wall, RSS and connections with S1 (the default transport); the baseline is the same reference client.',
  });
}

async function replayWithLatency(ctx: BenchContext): Promise<ScenarioResult> {
  const { orgs, projects, latencyMs } = ctx.sizes.s1r;
  return replayScenario(ctx, {
    id: 'S1R',
    title: `replay, no-op handler, every response delayed ${latencyMs} ms (simulated network)`,
    orgs,
    projects,
    handler: { delayMs: 0 },
    latencyMs,
    note:
      'Informational, no target: S1 on loopback has no network latency to hide, so it measures CPU per ' +
      `request; here the server holds every response ${latencyMs} ms (setTimeout, so ≥ ${latencyMs} ms), as an in-cluster hop would.`,
  });
}

async function replaySlowHandler(ctx: BenchContext): Promise<ScenarioResult> {
  const { orgs, projects, delayMs } = ctx.sizes.s2;
  return replayScenario(ctx, {
    id: 'S2',
    title: `replay, handler awaits a ${delayMs} ms timer`,
    orgs,
    projects,
    handler: { delayMs },
    minSpeedup: 10,
    note:
      `Ceiling at concurrency ${ctx.concurrency}: with handler time h and status round trip r, the baseline ` +
      `needs h + 2r per event and the library at best h per event per slot, so at most ` +
      `${ctx.concurrency} × (h + 2r) ÷ h, i.e. about ${ctx.concurrency}–${ctx.concurrency + 1}× for a ${delayMs} ms timer.`,
  });
}

async function replayScenario(
  ctx: BenchContext,
  spec: {
    id: string;
    title: string;
    orgs: number;
    projects: number;
    handler: HandlerSpec;
    /** Target speed-up; none for informational scenarios. */
    minSpeedup?: number;
    /** Server-side delay per response. */
    latencyMs?: number;
    note?: string;
    /** Run every client while a busy loop keeps one core busy. */
    loaded?: boolean;
    /** Judge by issue 14's S1 targets (client CPU per status request, wall ÷ server CPU, RSS). */
    issue14?: boolean;
    /** Sample idle RSS after the replay. */
    idle?: boolean;
    /** Library option `inProgressAfter` (ms). */
    inProgressAfter?: number;
    /** Library option `transport`; unset: the default ('node'). */
    transport?: 'node' | 'axios';
  },
): Promise<ScenarioResult> {
  const total = spec.orgs * (1 + spec.projects);
  await ctx.server.call('reset', { slots: BOTH });
  await ctx.server.call('seed', { slots: BOTH, orgs: spec.orgs, projectsPerOrg: spec.projects, prefix: spec.id.toLowerCase() });
  if (spec.latencyMs) await ctx.server.call('delay', { slots: BOTH, ms: spec.latencyMs });
  const base = {
    pollInterval: 5_000,
    pollLimit: 100,
    handler: spec.handler,
    stop: { kind: 'replay' } as const,
    idleMs: spec.idle ? ctx.sizes.idleMs : 0,
  };
  const lib = await measureOne(ctx, spec.id, 'library', { ...base, inProgressAfter: spec.inProgressAfter, transport: spec.transport }, spec.loaded);
  const ref = await measureOne(ctx, spec.id, 'baseline', base, spec.loaded);
  const floor = spec.idle ? await nestFloor(base.idleMs) : undefined;
  const library = { ...metrics(lib, total), ...(floor ? { nestFloorRssMB: floor } : {}) };
  const baseline = metrics(ref, total);
  const speedup = baseline.elapsedMs / library.elapsedMs;
  return {
    id: spec.id,
    title: `${spec.title}: ${count(spec.orgs)} orgs × ${spec.projects} projects = ${count(total)} events`,
    params: {
      orgs: spec.orgs,
      projectsPerOrg: spec.projects,
      events: total,
      handlerDelayMs: spec.handler.delayMs,
      ...(spec.latencyMs ? { responseDelayMs: spec.latencyMs } : {}),
      ...(spec.transport ? { transport: spec.transport } : {}),
    },
    notes: [
      'Headline: client process spawned → its last status write arrived at the server (includes process start-up and, for the library, creating the Nest application context).',
      ...(spec.note ? [spec.note] : []),
    ],
    headline: { metric: 'spawn → last status write', unit: 'ms', library: library.elapsedMs, baseline: baseline.elapsedMs, ratio: speedup },
    library,
    baseline,
    targets: [
      ...(spec.minSpeedup === undefined
        ? []
        : [{ name: 'speed-up vs baseline', target: `≥ ${spec.minSpeedup}×`, actual: ratio(speedup), pass: speedup >= spec.minSpeedup }]),
      ...(spec.issue14 ? issue14ReplayTargets(library, baseline, { rss: !spec.loaded }) : []),
      ...(spec.inProgressAfter === undefined
        ? []
        : [
            {
              name: 'requests per event with inProgressAfter (#14)',
              target: '1.00',
              actual: library.requestsPerEvent.toFixed(2),
              pass: library.requestsPerEvent.toFixed(2) === '1.00',
            },
          ]),
      keepAliveTarget(library, baseline),
    ],
    checks: [...allCompleted('library', lib, total), ...allCompleted('baseline', ref, total)],
    profile: profileOf(ctx, spec.id, lib),
  };
}

async function backlogDrain(ctx: BenchContext): Promise<ScenarioResult> {
  const { orgs, projects, pollInterval, pollLimit, baselineCap } = ctx.sizes.s3;
  const total = orgs * (1 + projects);
  const cap = Math.min(baselineCap, total);
  await ctx.server.call('reset', { slots: BOTH });
  await ctx.server.call('seed', { slots: BOTH, orgs, projectsPerOrg: projects, prefix: 's3' });
  // The replay answers "nothing yet, lastEventId 0", so the whole log is a backlog
  // the clients must reach by polling.
  await ctx.server.call('emptyReplay', { slots: BOTH, lastEventId: 0, count: 1 });
  const handler: HandlerSpec = { delayMs: 0 };
  const lib = await measureOne(ctx, 'S3', 'library', { pollInterval, pollLimit, handler, stop: { kind: 'handled', count: total } });
  const ref = await measureOne(ctx, 'S3', 'baseline', { pollInterval, pollLimit, handler, stop: { kind: 'handled', count: cap } });
  const refSpawned = ref.result.spawnedAt;
  const library = metrics(lib, total);
  const capped = cap < total;
  const baseline = metrics(ref, total, capped
    ? {
        estimatedMs: ((ref.result.finishedAt - refSpawned) * total) / cap,
        estimate: `measured on the first ${count(cap)} of ${count(total)} events (${cap / pollLimit} ticks), extrapolated linearly ×${round(total / cap, 2)}`,
      }
    : undefined);
  const baselineMs = baseline.estimatedMs ?? baseline.elapsedMs;
  const speedup = baselineMs / library.elapsedMs;
  return {
    id: 'S3',
    title: `backlog drain: ${count(total)} incremental events after an empty replay, pollInterval ${pollInterval / 1000} s, pollLimit ${pollLimit}`,
    params: { events: total, pollInterval, pollLimit, baselineMeasuredEvents: cap },
    notes: [
      'The replay is fault-injected once to answer {"events":[],"lastEventId":0}; the events wait in the log.',
      capped
        ? `Baseline: ${baseline.estimate} (it fetches one page per tick and never refetches on a full page).`
        : 'Baseline: run on the full backlog.',
    ],
    headline: { metric: 'spawn → last status write', unit: 'ms', library: library.elapsedMs, baseline: baselineMs, ratio: speedup },
    library,
    baseline,
    targets: [
      { name: 'speed-up vs baseline', target: '≥ 50×', actual: ratio(speedup), pass: speedup >= 50 },
      keepAliveTarget(library, baseline),
    ],
    checks: [...allCompleted('library', lib, total), ...allCompleted('baseline', ref, cap)],
    profile: profileOf(ctx, 'S3', lib),
  };
}

async function steadyStateLatency(ctx: BenchContext): Promise<ScenarioResult> {
  const { events, spacingMs, pollInterval } = ctx.sizes.s4;
  await ctx.server.call('reset', { slots: BOTH, trackPolls: true });
  const handler: HandlerSpec = { delayMs: 0, recordCalls: true };
  const ready = { library: deferred(), baseline: deferred() };
  const job = { pollInterval, pollLimit: 100, handler, stop: { kind: 'handled', count: events } as const };
  const runs = measureParallel(ctx, 'S4', [
    { slot: 'library', job: jobFor(ctx, 'library', job), onReady: ready.library.resolve },
    { slot: 'baseline', job: jobFor(ctx, 'baseline', job), onReady: ready.baseline.resolve },
  ]);
  await Promise.race([Promise.all([ready.library.promise, ready.baseline.promise]), runs]);
  // Let both settle into their poll rhythm before the first append.
  await sleep(pollInterval);
  // Stratified arrival phases: event k lands (j + ½)/N of a poll interval after that
  // client's latest poll (j a fixed permutation of 0..N-1), so both clients see the
  // same even spread of phases. With 20 free-running arrivals the p50 would swing
  // ±50 ms (±10%) with where the phases happened to fall, whoever the client.
  const stride = coprimeStride(events);
  const offsets = Array.from({ length: events }, (_, i) => ((((i * stride) % events) + 0.5) / events) * pollInterval);
  const appended: Record<Slot, Record<string, number>> = { library: {}, baseline: {} };
  await Promise.all(
    BOTH.map(async (slot) => {
      let notBefore = 0;
      for (let i = 0; i < events; i++) {
        const name = `s4-${i + 1}`;
        const { at } = await ctx.server.call('appendAtPhase', { slot, name, offsetMs: offsets[i], notBefore });
        appended[slot][name] = at;
        notBefore = at + spacingMs;
      }
    }),
  );
  const [lib, ref] = await runs;
  const delays = (slot: Slot, measured: Measured) =>
    Object.keys(appended[slot]).flatMap((name) => {
      const called = measured.result.firstCalls[name];
      return called === undefined ? [] : [called - appended[slot][name]];
    });
  const libraryDelays = delays('library', lib);
  const baselineDelays = delays('baseline', ref);
  const library = { ...metrics(lib, events), latencyMs: summarize(libraryDelays), latencySamplesMs: libraryDelays.map((d) => round(d)) };
  const baseline = { ...metrics(ref, events), latencyMs: summarize(baselineDelays), latencySamplesMs: baselineDelays.map((d) => round(d)) };
  const limit = baseline.latencyMs.p50 * 1.1;
  return {
    id: 'S4',
    title: `steady-state latency: ${events} events appended ≥ ${spacingMs / 1000} s apart, pollInterval ${pollInterval / 1000} s`,
    params: { events, spacingMs, pollInterval },
    notes: [
      'Delay from the event being appended on the server to the handler being called.',
      `Events are at least ${spacingMs / 1000} s apart; event k is appended (j+½)/${events} of a poll interval after that client's latest poll answer (j a fixed permutation), so both clients get the same even spread of arrival phases.`,
      'Library and baseline run at the same time, each against its own emulator in the server process.',
    ],
    headline: {
      metric: 'p50 append → handler',
      unit: 'ms',
      library: library.latencyMs.p50,
      baseline: baseline.latencyMs.p50,
      ratio: baseline.latencyMs.p50 / library.latencyMs.p50,
    },
    library,
    baseline,
    targets: [
      {
        name: 'p50 within 10% of baseline',
        target: `≤ ${ms(limit)}`,
        actual: ms(library.latencyMs.p50),
        pass: library.latencyMs.p50 <= limit,
      },
      keepAliveTarget(library, baseline),
    ],
    checks: [
      sawAll('library', library.latencyMs.samples, events),
      sawAll('baseline', baseline.latencyMs.samples, events),
    ],
  };
}

async function poison(ctx: BenchContext): Promise<ScenarioResult> {
  const { events, orgs, windowMs, pollInterval } = ctx.sizes.s5;
  const poisonName = 's5-poison';
  await ctx.server.call('reset', { slots: BOTH });
  const setup: ArrangeOp[] = [['org', 's5-poison-org']];
  for (let i = 1; i <= orgs; i++) setup.push(['org', `s5-org-${i}`]);
  const marks = await ctx.server.call('arrange', { slots: BOTH, ops: setup });
  // Same lastEventId on both emulators: identical arrangement.
  await ctx.server.call('emptyReplay', { slots: BOTH, lastEventId: marks['library'], count: 1 });
  // The poison project is the first event of the backlog and alone in its org (one
  // org's events are ordered by design, so its org-mates would wait behind it).
  const backlog: ArrangeOp[] = [['project', 's5-poison-org', poisonName]];
  for (let i = 1; i < events; i++) backlog.push(['project', `s5-org-${((i - 1) % orgs) + 1}`, `s5-${i}`]);
  await ctx.server.call('arrange', { slots: BOTH, ops: backlog });
  const handler: HandlerSpec = { delayMs: 0, poisonName, recordSuccesses: true };
  const job = { pollInterval, pollLimit: 100, handler, stop: { kind: 'duration', ms: windowMs } as const };
  const [lib, ref] = await measureParallel(ctx, 'S5', [
    { slot: 'library', job: jobFor(ctx, 'library', job) },
    { slot: 'baseline', job: jobFor(ctx, 'baseline', job) },
  ]);
  const others = (measured: Measured) =>
    new Set(
      measured.result.successes
        .filter(([name, at]) => name !== poisonName && at - measured.result.startedAt <= windowMs)
        .map(([name]) => name),
    ).size;
  const library = { ...metrics(lib, events), othersCompleted: others(lib) };
  const baseline = { ...metrics(ref, events), othersCompleted: others(ref) };
  const expected = events - 1;
  return {
    id: 'S5',
    title: `poison: ${count(events)}-event backlog, one project's handler always fails, ${windowMs / 1000} s window`,
    params: { events, orgs, windowMs, pollInterval, pollLimit: 100 },
    notes: [
      `Other events completed within ${windowMs / 1000} s of client start. The poison project is the first backlog event, alone in its org; the rest are spread over ${orgs} orgs.`,
      'Both clients poll every 1 s (so the baseline polls within the window), in parallel, each against its own emulator.',
    ],
    headline: {
      metric: `others completed in ${windowMs / 1000} s`,
      unit: 'count',
      library: library.othersCompleted,
      baseline: baseline.othersCompleted,
      ratio: baseline.othersCompleted > 0 ? library.othersCompleted / baseline.othersCompleted : null,
    },
    library,
    baseline,
    targets: [
      {
        name: `all ${expected} others complete`,
        target: `${expected}`,
        actual: `${library.othersCompleted}`,
        pass: library.othersCompleted === expected,
      },
      keepAliveTarget(library, baseline),
    ],
    checks: [
      { name: 'library: poison row is error', ok: (lib.stats.statusRows['error'] ?? 0) === 1, detail: JSON.stringify(lib.stats.statusRows) },
      { name: 'baseline: poison row is error', ok: (ref.stats.statusRows['error'] ?? 0) === 1, detail: JSON.stringify(ref.stats.statusRows) },
    ],
    profile: profileOf(ctx, 'S5', lib),
  };
}

async function scale(ctx: BenchContext): Promise<ScenarioResult> {
  const { orgs, projects, baselineCap } = ctx.sizes.s6;
  const total = orgs * (1 + projects);
  const cap = Math.min(baselineCap, total);
  await ctx.server.call('reset', { slots: BOTH });
  await ctx.server.call('seed', { slots: BOTH, orgs, projectsPerOrg: projects, prefix: 's6' });
  const handler: HandlerSpec = { delayMs: 0 };
  const lib = await measureOne(ctx, 'S6', 'library', { pollInterval: 5_000, pollLimit: 100, handler, stop: { kind: 'replay' }, idleMs: ctx.sizes.idleMs });
  const ref = await measureOne(ctx, 'S6', 'baseline', {
    pollInterval: 5_000,
    pollLimit: 100,
    handler,
    stop: cap < total ? { kind: 'handled', count: cap } : { kind: 'replay' },
  });
  const library = metrics(lib, total);
  const fetchMs = ref.result.snapshotAt - ref.result.spawnedAt;
  const perEvent = (ref.result.finishedAt - ref.result.snapshotAt) / cap;
  const baseline = metrics(ref, total, cap < total
    ? {
        estimatedMs: fetchMs + perEvent * total,
        estimate: `ran the first ${count(cap)} of ${count(total)} replayed events; estimate = snapshot fetch (${ms(fetchMs)}) + ${count(total)} × ${perEvent.toFixed(3)} ms`,
      }
    : undefined);
  const baselineMs = baseline.estimatedMs ?? baseline.elapsedMs;
  return {
    id: 'S6',
    title: `scale: replay of ${count(total)} events (${count(orgs)} orgs × ${projects} projects)`,
    params: { orgs, projectsPerOrg: projects, events: total, baselineMeasuredEvents: cap },
    notes: [
      'Peak RSS is the client process only (its own process; kernel maxRSS and 50 ms samples).',
      cap < total
        ? `The baseline is not run to the end (it would take minutes): ${baseline.estimate}. Its RSS is with the whole snapshot loaded.`
        : 'Baseline: run on the full replay.',
    ],
    headline: { metric: 'spawn → last status write', unit: 'ms', library: library.elapsedMs, baseline: baselineMs, ratio: baselineMs / library.elapsedMs },
    library,
    baseline,
    targets: [
      { name: 'time', target: '< 20 s', actual: ms(library.elapsedMs), pass: library.elapsedMs < 20_000 },
      { name: 'peak RSS', target: '< 400 MB', actual: `${library.peakRssMB} MiB`, pass: library.peakRssMB < 400 },
      { name: 'peak RSS (#14)', target: '≤ 250 MiB', actual: `${library.peakRssMB} MiB`, pass: library.peakRssMB <= 250 },
      ...idleRssTarget(library),
      keepAliveTarget(library, baseline),
    ],
    checks: [...allCompleted('library', lib, total), ...allCompleted('baseline', ref, cap)],
    profile: profileOf(ctx, 'S6', lib),
  };
}

// --- running clients ----------------------------------------------------------------

type JobShape = Pick<ClientJob, 'pollInterval' | 'pollLimit' | 'handler' | 'idleMs' | 'inProgressAfter' | 'transport'> & { stop: StopRule };

function jobFor(ctx: BenchContext, client: ClientKind, shape: JobShape): ClientJob {
  const experiments = client === 'library' ? ctx.experiments : [];
  return {
    client,
    url: '',
    controllerName: CONTROLLER[client],
    timeoutMs: ctx.sizes.timeoutMs,
    concurrency: ctx.concurrency,
    experiments,
    ...shape,
  };
}

/**
 * One client alone against its emulator, so the server's CPU over the client's
 * window is the client's: sampled by the server at the first request and by the
 * orchestrator when the client says its window ended. `loaded`: a busy loop takes
 * a core for the run (started before the spawn, always killed after).
 */
async function measureOne(ctx: BenchContext, id: string, client: ClientKind, shape: JobShape, loaded = false): Promise<Measured> {
  const load = loaded ? await BusyLoad.start(ctx.sizes.timeoutMs) : undefined;
  try {
    const [measured] = await measureParallel(ctx, id, [{ slot: client, job: jobFor(ctx, client, shape) }]);
    return measured;
  } finally {
    await load?.stop();
  }
}

/** Runs the clients at the same time, each against its slot's emulator. */
async function measureParallel(ctx: BenchContext, id: string, planned: readonly Planned[]): Promise<Measured[]> {
  const urls = await ctx.server.call('urls');
  const before = await ctx.server.call('cpu');
  let serverCpuAtDoneMicros: number | null = null;
  const onDone = async () => {
    serverCpuAtDoneMicros = (await ctx.server.call('cpu')).cpuMicros;
  };
  const results = await Promise.all(
    planned.map(({ slot, job, onReady }) => {
      ctx.log(`  ${id} ${job.client}: running…`);
      const execArgv =
        job.client !== 'library'
          ? []
          : [
              ...ctx.nodeFlags,
              ...(ctx.profileDir
                ? ['--cpu-prof', `--cpu-prof-dir=${ctx.profileDir}`, `--cpu-prof-name=${id}-library.cpuprofile`]
                : []),
            ];
      return runClient({ ...job, url: urls[slot] }, { execArgv, onReady, ...(planned.length === 1 ? { onDone } : {}) });
    }),
  );
  const after = await ctx.server.call('cpu');
  const serverCpuPct = round(((after.cpuMicros - before.cpuMicros) / 1000 / (after.at - before.at)) * 100, 0);
  const measured: Measured[] = [];
  for (const [index, { slot, job }] of planned.entries()) {
    const stats = await ctx.server.call('stats', { slot, controller: job.controllerName });
    measured.push({ result: results[index], stats, serverCpuPct, concurrency: job.concurrency, serverCpuAtDoneMicros });
  }
  return measured;
}

function metrics(measured: Measured, scenarioEvents: number, extrapolation?: { estimatedMs: number; estimate: string }): RunMetrics {
  const { result, stats, serverCpuPct } = measured;
  const isLibrary = result.client === 'library';
  // Server clock for both ends of the wall-time figures: arrival of the last status write.
  const lastStatusAt = stats.lastStatusAt ?? result.finishedAt;
  const elapsedMs = round(lastStatusAt - result.spawnedAt);
  const first = result.firstRequest;
  const windowMs = stats.firstRequest && stats.lastStatusAt !== null ? stats.lastStatusAt - stats.firstRequest.at : null;
  const clientCpuWindowMs = first ? (result.cpuAtFinishMicros - first.cpuMicros) / 1000 : null;
  const serverCpuWindowMs =
    measured.serverCpuAtDoneMicros !== null && stats.firstRequest ? (measured.serverCpuAtDoneMicros - stats.firstRequest.cpuMicros) / 1000 : null;
  const mib = (bytes: number) => round(bytes / 1024 / 1024, 0);
  return {
    elapsedMs,
    ...(extrapolation ? { estimatedMs: round(extrapolation.estimatedMs), estimate: extrapolation.estimate } : {}),
    startupMs: first ? round(first.at - result.spawnedAt) : null,
    windowMs: windowMs === null ? null : round(windowMs),
    scenarioEvents,
    handledEvents: result.handlerSuccesses,
    handlerCalls: result.handlerCalls,
    eventsPerSecond: round((result.handlerSuccesses / elapsedMs) * 1000, 0),
    requests: stats.requests,
    requestsPerCall: round(stats.requests / Math.max(1, result.handlerCalls), 2),
    requestsPerEvent: round(stats.requests / Math.max(1, result.handlerSuccesses), 3),
    statusRequests: stats.statusRequests,
    connections: stats.connections,
    connectionLimit: isLibrary ? measured.concurrency + 2 : BASELINE_CONNECTION_LIMIT,
    serverCpuPct,
    clientCpuMs: round(result.cpuMs, 0),
    clientCpuWindowMs: clientCpuWindowMs === null ? null : round(clientCpuWindowMs, 0),
    clientCpuMicrosPerStatus:
      clientCpuWindowMs === null || stats.statusRequests === 0 ? null : round((clientCpuWindowMs * 1000) / stats.statusRequests, 0),
    serverCpuWindowMs: serverCpuWindowMs === null ? null : round(serverCpuWindowMs, 0),
    wallPerServerCpu: serverCpuWindowMs === null || windowMs === null || serverCpuWindowMs <= 0 ? null : round(windowMs / serverCpuWindowMs, 2),
    peakRssMB: mib(Math.max(result.maxRss, result.peakRssSampled)),
    peakHeapMB: mib(result.peakHeapUsed),
    ...(result.idle
      ? { idleRssMB: mib(result.idle.rss), idleRssAfterGcMB: mib(result.idle.rssAfterGc), idleHeapAfterGcMB: mib(result.idle.heapUsedAfterGc), idleMs: result.idle.idleMs }
      : {}),
    snapshotMs: round(result.snapshotAt - result.spawnedAt),
    bootstrapMs: round(result.bootstrapMs),
    reportedErrors: result.reportedErrors,
    statusRows: stats.statusRows,
  };
}

/** Issue 14's targets for S1 (quiet) and S1L (loaded); RSS only on the quiet run. */
function issue14ReplayTargets(library: RunMetrics, baseline: RunMetrics, { rss }: { rss: boolean }): TargetCheck[] {
  const cpu = library.clientCpuMicrosPerStatus;
  const wall = library.wallPerServerCpu;
  const ahead = library.windowMs !== null && baseline.windowMs !== null ? baseline.windowMs / library.windowMs : null;
  return [
    { name: 'client CPU per status request (#14)', target: '≤ 100 µs', actual: cpu === null ? 'n/a' : `${cpu} µs`, pass: cpu !== null && cpu <= 100 },
    { name: 'wall ÷ server CPU, 1st req → last write (#14)', target: '≤ 1.3', actual: wall === null ? 'n/a' : wall.toFixed(2), pass: wall !== null && wall <= 1.3 },
    {
      name: 'ahead of baseline, 1st req → last write (#14)',
      target: '> 1×',
      actual: ahead === null ? 'n/a' : ratio(ahead),
      pass: ahead !== null && ahead > 1,
    },
    {
      name: 'requests per event (#14)',
      target: '2.00',
      actual: library.requestsPerEvent.toFixed(2),
      pass: library.requestsPerEvent.toFixed(2) === '2.00',
    },
    ...(rss
      ? [
          { name: 'peak RSS (#14)', target: '≤ 100 MiB', actual: `${library.peakRssMB} MiB`, pass: library.peakRssMB <= 100 },
          ...idleRssTarget(library),
        ]
      : []),
  ];
}

/** RSS of a bare Nest application context (no library) after the same idle time, MiB. */
async function nestFloor(idleMs: number): Promise<number> {
  const floor = await runInChild<NestFloorJob, NestFloorResult>('./nest-floor.child.js', 'nest floor', { idleMs });
  return round(floor.rss / 1024 / 1024, 0);
}

function idleRssTarget(library: RunMetrics): TargetCheck[] {
  if (library.idleRssMB === undefined) return [];
  return [{ name: 'idle RSS after the replay (#14)', target: '≤ 70 MiB', actual: `${library.idleRssMB} MiB`, pass: library.idleRssMB <= 70 }];
}

function keepAliveTarget(library: RunMetrics, baseline: RunMetrics): TargetCheck {
  return {
    name: 'keep-alive: connections ≤ concurrency + 2',
    target: `≤ ${library.connectionLimit} / ≤ ${baseline.connectionLimit}`,
    actual: `${library.connections} / ${baseline.connections}`,
    pass: library.connections <= library.connectionLimit && baseline.connections <= baseline.connectionLimit,
  };
}

function allCompleted(client: ClientKind, measured: Measured, expected: number): CorrectnessCheck[] {
  const completed = measured.stats.statusRows['completed'] ?? 0;
  return [
    {
      name: `${client}: ${count(expected)} handler successes`,
      ok: measured.result.handlerSuccesses >= expected,
      detail: `${count(measured.result.handlerSuccesses)} successes, ${measured.result.handlerFailures} failures`,
    },
    {
      name: `${client}: ${count(expected)} status rows completed`,
      ok: completed >= expected,
      detail: JSON.stringify(measured.stats.statusRows),
    },
  ];
}

function sawAll(client: ClientKind, seen: number, expected: number): CorrectnessCheck {
  return { name: `${client}: handled all ${expected} appended events`, ok: seen === expected, detail: `${seen} seen` };
}

/** The library run's CPU profile, cut to its window (first request → last status write) when known. */
function profileOf(ctx: BenchContext, id: string, measured?: Measured): string[] | undefined {
  if (!ctx.profileDir) return undefined;
  const first = measured?.result.firstRequest;
  const window =
    measured && first && measured.stats.statusRequests > 0
      ? { fromMicros: first.monoMicros, toMicros: measured.result.finishMonoMicros, requests: measured.stats.statusRequests }
      : undefined;
  return summarizeProfile(join(ctx.profileDir, `${id}-library.cpuprofile`), 15, window);
}

/** A step ≥ 3 with gcd(step, n) = 1, so i × step mod n visits every slot once. */
function coprimeStride(n: number): number {
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  for (let step = 7; step < 7 + n; step++) if (gcd(step, n) === 1) return step % n || 1;
  return 1;
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
