// One client run per process: the library (in a Nest application context) or the
// baseline, so CPU, RSS and JIT state of one run never leak into another.
import { setTimeout as sleep } from 'node:timers/promises';
import type { ClientJob, ClientResult } from './client.api.js';
import { preciseNow } from './clock.js';
import { HandlerBehaviour } from './handler.behaviour.js';
import { IpcPeer } from './ipc.js';
import { ReferenceClient } from './reference-client.js';

const peer = IpcPeer.toParent();

/** CPU and RSS of this process over one run. */
class ProcessMeter {
  private readonly cpuAtStart = process.cpuUsage();
  private peak = 0;
  private peakHeap = 0;
  private readonly timer = setInterval(() => this.sample(), 50);

  constructor() {
    this.sample();
  }

  sample(): void {
    const { rss, heapUsed } = process.memoryUsage();
    if (rss > this.peak) this.peak = rss;
    if (heapUsed > this.peakHeap) this.peakHeap = heapUsed;
  }

  stop(): { cpuMs: number; peakRssSampled: number; peakHeapUsed: number; maxRss: number } {
    clearInterval(this.timer);
    this.sample();
    const cpu = process.cpuUsage(this.cpuAtStart);
    return {
      cpuMs: (cpu.user + cpu.system) / 1000,
      peakRssSampled: this.peak,
      peakHeapUsed: this.peakHeap,
      maxRss: process.resourceUsage().maxRSS * 1024,
    };
  }
}

/** Rejects after the job's safety timeout; a stuck run fails loudly instead of hanging. */
function guard<T>(job: ClientJob, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${job.client} run did not finish within ${job.timeoutMs} ms`)), job.timeoutMs);
  });
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}

async function runLibrary(job: ClientJob): Promise<ClientResult> {
  // Loaded before the clock starts: module loading is process start-up, not work.
  const { NestFactory } = await import('@nestjs/core');
  const { TenancyPoller } = await import('nestjs-tenancy');
  const { BenchAppModule, CountingLogger } = await import('./library.app.js');
  if (job.experiments?.length) await (await import('./experiments.js')).applyExperiments(job.experiments);
  const behaviour = new HandlerBehaviour(job.handler);
  let reportedErrors = 0;
  const meter = new ProcessMeter();
  const startedAt = preciseNow();
  // autoStart (the default): the poller starts on application bootstrap, so the
  // measured time includes creating the Nest application context.
  const app = await NestFactory.createApplicationContext(
    BenchAppModule.register(
      {
        url: job.url,
        controllerName: job.controllerName,
        pollInterval: job.pollInterval,
        pollLimit: job.pollLimit,
        concurrency: job.concurrency,
        onError: () => {
          reportedErrors += 1;
        },
      },
      behaviour,
    ),
    { logger: new CountingLogger(), abortOnError: false },
  );
  const bootstrapMs = preciseNow() - startedAt;
  const poller = app.get(TenancyPoller);
  const finished = guard(
    job,
    (async () => {
      await poller.whenReady();
      const readyAt = preciseNow();
      peer.emit('ready');
      const stop = job.stop;
      if (stop.kind === 'duration') {
        await sleep(Math.max(0, startedAt + stop.ms - preciseNow()));
      } else {
        if (stop.kind === 'handled') await behaviour.whenSucceeded(stop.count);
        await poller.whenIdle();
      }
      return readyAt;
    })(),
  );
  let readyAt: number;
  try {
    readyAt = await finished;
  } catch (error) {
    // Close even on failure, or the poller keeps the process alive.
    await app.close().catch(() => undefined);
    throw error;
  }
  const finishedAt = preciseNow();
  const measured = meter.stop();
  await app.close();
  return {
    client: 'library',
    startedAt,
    readyAt,
    snapshotAt: readyAt,
    finishedAt,
    bootstrapMs,
    ...handlerFields(behaviour),
    reportedErrors,
    ...measured,
  };
}

async function runBaseline(job: ClientJob): Promise<ClientResult> {
  const behaviour = new HandlerBehaviour(job.handler);
  const abort = new AbortController();
  let reportedErrors = 0;
  let snapshotAt = 0;
  let readyAt = 0;
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  const stop = job.stop;
  const client = new ReferenceClient({
    url: job.url,
    controllerName: job.controllerName,
    pollInterval: job.pollInterval,
    pollLimit: job.pollLimit,
    // The library's agent has maxSockets = concurrency + 2.
    maxSockets: job.concurrency + 2,
    handler: (event) => behaviour.handle(event),
    onError: () => {
      reportedErrors += 1;
    },
    onSnapshot: () => {
      snapshotAt = preciseNow();
    },
    onReplayDone: () => {
      readyAt = preciseNow();
      peer.emit('ready');
      if (stop.kind === 'replay') finish();
    },
    onEventDone: () => {
      if (stop.kind === 'handled' && behaviour.successes >= stop.count) finish();
    },
  });
  const meter = new ProcessMeter();
  const startedAt = preciseNow();
  const running = client.run(abort.signal);
  if (stop.kind === 'duration') void sleep(stop.ms).then(finish);
  try {
    await guard(job, done);
  } finally {
    abort.abort();
  }
  const finishedAt = preciseNow();
  const measured = meter.stop();
  await running;
  client.close();
  return {
    client: 'baseline',
    startedAt,
    readyAt,
    snapshotAt,
    finishedAt,
    bootstrapMs: 0,
    ...handlerFields(behaviour),
    reportedErrors,
    ...measured,
  };
}

peer.handle('run', (job: ClientJob) => (job.client === 'library' ? runLibrary(job) : runBaseline(job)));
peer.handle('exit', () => {
  // After the answer has been flushed; --cpu-prof writes its profile on exit.
  setImmediate(() => process.exit(0));
  return null;
});
peer.emit('started');

/** What both clients report about their handlers. */
function handlerFields(behaviour: HandlerBehaviour) {
  return {
    handlerCalls: behaviour.calls,
    handlerSuccesses: behaviour.successes,
    handlerFailures: behaviour.failures,
    firstCalls: behaviour.firstCalls,
    successes: behaviour.successLog,
  };
}
