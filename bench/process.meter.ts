import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { preciseNow } from './clock.js';

/** User + system CPU of this process so far, microseconds. */
export function cpuMicros(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

/**
 * Channels on which an HTTP client announces a new outgoing request: node:http's,
 * and undici's (in case the library's transport moves there). Whichever fires first
 * marks the end of start-up, whatever the client's HTTP stack.
 */
const REQUEST_CHANNELS = ['http.client.request.start', 'undici:request:create'] as const;

/** A point in this process's life: wall clock and CPU used so far. */
export interface CpuMark {
  /** Epoch ms, sub-ms precision (comparable across the bench's processes). */
  readonly at: number;
  readonly cpuMicros: number;
  /** Monotonic clock, µs (the clock of `--cpu-prof` sample timestamps), to cut a profile to the window. */
  readonly monoMicros: number;
}

function mark(): CpuMark {
  return { at: preciseNow(), cpuMicros: cpuMicros(), monoMicros: Number(process.hrtime.bigint() / 1000n) };
}

/** What {@link ProcessMeter} measured. */
export interface MeterReading {
  /** The process's first outgoing HTTP request (null: it made none). */
  readonly firstRequest: CpuMark | null;
  /** When the work was done (the run's last status write had landed). */
  readonly done: CpuMark;
  /** Highest RSS sampled every 50 ms, and the kernel's maxRSS for the process's life. */
  readonly peakRssSampled: number;
  readonly maxRss: number;
  /** Highest V8 heapUsed sampled every 500 ms. */
  readonly peakHeapUsed: number;
}

/**
 * CPU and memory of the process it runs in, over the measured window: from the
 * first outgoing HTTP request (so process and framework start-up are excluded) to
 * {@link done}. The first request is seen through diagnostics_channel, so the
 * client under test needs no hook. RSS is sampled every 50 ms.
 */
export class ProcessMeter {
  private firstRequest: CpuMark | null = null;
  private peak = 0;
  private peakHeap = 0;
  private readonly timer = setInterval(() => this.sample(), 50);
  private readonly onRequest = () => this.markFirstRequest();

  constructor() {
    for (const name of REQUEST_CHANNELS) subscribe(name, this.onRequest);
    this.sample();
  }

  private ticks = 0;

  /**
   * RSS every tick (cheap), the V8 heap every 10th: a full `memoryUsage()` walks
   * the heap spaces and showed up in the measured client's CPU profile.
   */
  sample(): void {
    const rss = process.memoryUsage.rss();
    if (rss > this.peak) this.peak = rss;
    if (this.ticks++ % 10 !== 0) return;
    const heapUsed = getHeapStatistics().used_heap_size;
    if (heapUsed > this.peakHeap) this.peakHeap = heapUsed;
  }

  /** Ends the window: CPU now, RSS peaks so far. Sampling goes on until {@link stop}. */
  done(): MeterReading {
    const done = mark();
    this.ticks = 0;
    this.sample();
    return {
      firstRequest: this.firstRequest,
      done,
      peakRssSampled: this.peak,
      maxRss: process.resourceUsage().maxRSS * 1024,
      peakHeapUsed: this.peakHeap,
    };
  }

  stop(): void {
    clearInterval(this.timer);
    this.unsubscribe();
  }

  private markFirstRequest(): void {
    if (this.firstRequest) return;
    this.firstRequest = mark();
    // Unsubscribed at once: later requests publish nothing and cost nothing extra.
    this.unsubscribe();
  }

  private unsubscribe(): void {
    for (const name of REQUEST_CHANNELS) unsubscribe(name, this.onRequest);
  }
}

/** RSS of an idle process: after `idleMs` of idling, and again after a full GC. */
export interface IdleMemory {
  readonly idleMs: number;
  readonly rss: number;
  readonly heapUsed: number;
  readonly rssAfterGc: number;
  readonly heapUsedAfterGc: number;
}

/**
 * Lets the process idle for `idleMs` (its timers and polls go on), samples RSS,
 * then forces a full GC and samples again. The GC is reached without a node flag
 * (`--expose-gc` set at run time), and only after everything else was measured.
 */
export async function idleMemory(idleMs: number): Promise<IdleMemory> {
  await new Promise((resolve) => setTimeout(resolve, idleMs));
  const before = process.memoryUsage();
  fullGc();
  const after = process.memoryUsage();
  return { idleMs, rss: before.rss, heapUsed: before.heapUsed, rssAfterGc: after.rss, heapUsedAfterGc: after.heapUsed };
}

/** A full, synchronous garbage collection, without starting node with --expose-gc. */
export function fullGc(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}
