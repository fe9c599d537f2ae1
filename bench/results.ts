import type { MemoryReport } from './memory.js';
import type { FakeTmReport } from './fake-tm.mode.js';
import type { FloorRow } from './floor.js';
import type { StartupReport } from './startup.js';
import type { LatencySummary } from './stats.js';

/** What one client column measured in one scenario. */
export interface RunMetrics {
  /** Client process spawned → its last status write arrived at the server. */
  readonly elapsedMs: number;
  /** Spawn → the client's first outgoing HTTP request (process + framework start-up). */
  readonly startupMs: number | null;
  /** First request → last status write, both as the server saw them (server clock). */
  readonly windowMs: number | null;
  /** When the run was capped: the linear extrapolation to the full size, and how. */
  readonly estimatedMs?: number;
  readonly estimate?: string;
  /** Events in the scenario, and events this run got through (capped runs: fewer). */
  readonly scenarioEvents: number;
  readonly handledEvents: number;
  readonly handlerCalls: number;
  readonly eventsPerSecond: number;
  /** HTTP requests the server answered for this client, and per handler call. */
  readonly requests: number;
  readonly requestsPerCall: number;
  /** HTTP requests per handled event (issue 14: 2.00 in default mode), and status writes. */
  readonly requestsPerEvent: number;
  readonly statusRequests: number;
  /** TCP connections the server accepted from this client, and the keep-alive bound. */
  readonly connections: number;
  readonly connectionLimit: number;
  /** Server process CPU over the run's wall time (shared when clients ran in parallel). */
  readonly serverCpuPct: number;
  /** Client CPU from its harness start (after imports) to the end of the window. */
  readonly clientCpuMs: number;
  /** Client CPU over the window (first request → last status write landed), and per status write, µs. */
  readonly clientCpuWindowMs: number | null;
  readonly clientCpuMicrosPerStatus: number | null;
  /** Server process CPU over the same window (single-client runs), and window ÷ that. */
  readonly serverCpuWindowMs: number | null;
  readonly wallPerServerCpu: number | null;
  /** RSS after idling idleMs after the replay, and after a forced full GC (S1, S6). */
  readonly idleRssMB?: number;
  readonly idleRssAfterGcMB?: number;
  readonly idleHeapAfterGcMB?: number;
  readonly idleMs?: number;
  /** Library column of S1/S6: RSS of a bare Nest application context (no library) after the same idle time. */
  readonly nestFloorRssMB?: number;
  /** Peak RSS of the client process (max of kernel maxRSS and 50 ms samples). */
  readonly peakRssMB: number;
  /** Peak V8 heapUsed of the client process (50 ms samples). */
  readonly peakHeapMB: number;
  /** Spawn → replay snapshot fetched and decoded (library: and queued). */
  readonly snapshotMs: number;
  /** Nest application context creation, included in elapsedMs (library only). */
  readonly bootstrapMs: number;
  readonly reportedErrors: number;
  /** This client's status rows on the server after the run, by status. */
  readonly statusRows: Record<string, number>;
  readonly latencyMs?: LatencySummary;
  /** Latency scenario: every append → handler delay, in append order. */
  readonly latencySamplesMs?: readonly number[];
  /** Poison scenario: other resources completed within the window. */
  readonly othersCompleted?: number;
}

export interface TargetCheck {
  readonly name: string;
  readonly target: string;
  readonly actual: string;
  readonly pass: boolean;
}

export interface CorrectnessCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

/** The figure a scenario is judged by, for both columns. */
export interface Headline {
  readonly metric: string;
  readonly unit: 'ms' | 'count';
  readonly library: number;
  readonly baseline: number;
  /** For times: baseline ÷ library (>1: the library is faster). For counts: library ÷ baseline. Null when undefined. */
  readonly ratio: number | null;
}

export interface ScenarioResult {
  readonly id: string;
  readonly title: string;
  readonly params: Record<string, string | number>;
  readonly notes: readonly string[];
  readonly headline: Headline;
  readonly library: RunMetrics;
  readonly baseline: RunMetrics;
  readonly targets: readonly TargetCheck[];
  readonly checks: readonly CorrectnessCheck[];
  /** Top frames of the library's CPU profile, when run with --profile. */
  readonly profile?: readonly string[];
}

export interface BenchResults {
  readonly mode: 'full' | 'quick';
  readonly date: string;
  readonly machine: {
    readonly cpus: number;
    readonly cpuModel: string;
    readonly totalMemoryMB: number;
    readonly node: string;
    readonly platform: string;
    readonly arch: string;
  };
  readonly server: string;
  readonly libraryConcurrency: number;
  /** 1/5/15-minute load averages when the run started and ended (other work skews timings). */
  readonly loadAverage: { readonly start: readonly number[]; readonly end: readonly number[] };
  /** What-if patches the library ran with (empty: the library as built). */
  readonly experiments: readonly string[];
  /** Extra node flags the library processes ran with (`--node-flags`; empty: none). */
  readonly libraryNodeFlags: readonly string[];
  readonly scenarios: readonly ScenarioResult[];
  /** `--floor`: status-write cost per HTTP client, no library. */
  readonly floor?: readonly FloorRow[];
  /** `--fake-tm`: the library against ../shared/bench/fake-tm.mjs. */
  readonly fakeTm?: FakeTmReport;
  /** `--startup`: import + module init, Nest alone vs Nest + nestjs-tenancy. */
  readonly startup?: StartupReport;
  /** `--memory`: where a large replay's memory goes. */
  readonly memory?: MemoryReport;
  readonly runtimeMs: number;
}
