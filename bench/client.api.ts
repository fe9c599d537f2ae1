import type { CpuMark, IdleMemory } from './process.meter.js';

/** Which implementation a client process runs. */
export type ClientKind = 'library' | 'baseline';

/** What the bench handlers do with each event (the same for both clients). */
export interface HandlerSpec {
  /** Await a timer this long in every handler call; 0 = no-op. */
  readonly delayMs: number;
  /** Handler calls for this resource name always throw. */
  readonly poisonName?: string;
  /** Handler calls for resource names starting with this always throw (fake-tm's `poison-`). */
  readonly poisonPrefix?: string;
  /** Report each resource name's first handler call time (latency scenario). */
  readonly recordCalls?: boolean;
  /** Report each successful handler call's time (poison scenario window). */
  readonly recordSuccesses?: boolean;
}

/** When a client run ends. */
export type StopRule =
  /** When the replay snapshot is fully handled and every status write landed. */
  | { readonly kind: 'replay' }
  /** When this many handler calls succeeded and every status write landed. */
  | { readonly kind: 'handled'; readonly count: number }
  /** After this long, whatever the state. */
  | { readonly kind: 'duration'; readonly ms: number };

/** One client run, sent by main.ts to a fresh client process. */
export interface ClientJob {
  readonly client: ClientKind;
  readonly url: string;
  readonly controllerName: string;
  readonly pollInterval: number;
  readonly pollLimit: number;
  readonly handler: HandlerSpec;
  readonly stop: StopRule;
  /** Safety net: a run that is not done after this long fails the benchmark. */
  readonly timeoutMs: number;
  /** Library `concurrency` (the baseline's agent gets the same maxSockets = concurrency + 2). */
  readonly concurrency: number;
  /** Library `inProgressAfter` (ms); unset: the default (always write in_progress first). Library runs only. */
  readonly inProgressAfter?: number;
  /** Library `transport` by name (a job crosses a process boundary as JSON); unset: the default, 'node'. Library runs only. */
  readonly transport?: 'node' | 'axios';
  /** What-if patches of the library (bench/experiments.ts); library runs only. */
  readonly experiments?: readonly string[];
  /** After the window: idle this long, then sample idle RSS (0: no idle sample). */
  readonly idleMs?: number;
}

/** What a client process measured. Times are epoch ms (sub-ms precision). */
export interface ClientResult {
  readonly client: ClientKind;
  /** Harness ready to start the client (library: modules imported, before the Nest context). */
  readonly startedAt: number;
  /** Replay handled (library: ready, i.e. snapshot fetched and queued). */
  readonly readyAt: number;
  /** Replay snapshot received and decoded (baseline only; library: same as readyAt). */
  readonly snapshotAt: number;
  /** End of the measured window: the last status write has landed. */
  readonly finishedAt: number;
  /** Nest application context creation (library only; 0 for the baseline). */
  readonly bootstrapMs: number;
  readonly handlerCalls: number;
  readonly handlerSuccesses: number;
  readonly handlerFailures: number;
  /** Failures the client reported (log lines at warn/error, onError calls). */
  readonly reportedErrors: number;
  readonly firstCalls: Record<string, number>;
  readonly successes: ReadonlyArray<readonly [string, number]>;
  /** The process's first outgoing HTTP request (null if it made none). */
  readonly firstRequest: CpuMark | null;
  /** CPU of the process (user + system) at {@link finishedAt}, µs since process start. */
  readonly cpuAtFinishMicros: number;
  /** Monotonic clock at {@link finishedAt}, µs (see CpuMark.monoMicros). */
  readonly finishMonoMicros: number;
  /** User + system CPU of the client process from startedAt to finishedAt, ms. */
  readonly cpuMs: number;
  /** Highest `process.memoryUsage().rss` sampled every 50 ms during the run, bytes. */
  readonly peakRssSampled: number;
  /** Highest V8 `heapUsed` sampled every 50 ms, bytes. */
  readonly peakHeapUsed: number;
  /** `process.resourceUsage().maxRSS` at the end of the run, bytes (whole process life). */
  readonly maxRss: number;
  /** RSS after the run, idle (job.idleMs), before and after a full GC. */
  readonly idle?: IdleMemory;
}
