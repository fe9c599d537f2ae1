// One client run per process: the library (in a Nest application context) or the
// baseline, so CPU, RSS and JIT state of one run never leak into another. The job
// comes in the environment (child.runtime.ts), so the work starts at spawn.
import { setTimeout as sleep } from 'node:timers/promises';
import { runJob } from './child.runtime.js';
import type { ClientJob, ClientResult } from './client.api.js';
import { preciseNow } from './clock.js';
import { HandlerBehaviour } from './handler.behaviour.js';
import type { IpcPeer } from './ipc.js';
import { cpuMicros, idleMemory, ProcessMeter, type MeterReading } from './process.meter.js';
import { ReferenceClient } from './reference-client.js';

/** Rejects after the job's safety timeout; a stuck run fails loudly instead of hanging. */
function guard<T>(job: ClientJob, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${job.client} run did not finish within ${job.timeoutMs} ms`)), job.timeoutMs);
  });
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}

/** Ends the window, lets the parent sample (the server's CPU) at that moment, then idles for the idle-RSS sample. */
async function finishWindow(peer: IpcPeer, meter: ProcessMeter, job: ClientJob) {
  const reading: MeterReading = meter.done();
  await peer.request('done');
  const idle = job.idleMs ? await idleMemory(job.idleMs) : undefined;
  meter.stop();
  return { reading, idle };
}

function measuredFields(reading: MeterReading, startCpu: number, idle: ClientResult['idle']) {
  return {
    firstRequest: reading.firstRequest,
    cpuAtFinishMicros: reading.done.cpuMicros,
    finishMonoMicros: reading.done.monoMicros,
    cpuMs: (reading.done.cpuMicros - startCpu) / 1000,
    peakRssSampled: reading.peakRssSampled,
    peakHeapUsed: reading.peakHeapUsed,
    maxRss: reading.maxRss,
    ...(idle ? { idle } : {}),
  };
}

async function runLibrary(job: ClientJob, peer: IpcPeer): Promise<ClientResult> {
  const meter = new ProcessMeter();
  // Imported inside the run so spawn → first request counts them (module loading is start-up).
  const { NestFactory } = await import('@nestjs/core');
  const { TenancyPoller } = await import('nestjs-tenancy');
  const { BenchAppModule, CountingLogger } = await import('./library.app.js');
  if (job.experiments?.length) await (await import('./experiments.js')).applyExperiments(job.experiments);
  const behaviour = new HandlerBehaviour(job.handler);
  let reportedErrors = 0;
  const startCpu = cpuMicros();
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
        inProgressAfter: job.inProgressAfter,
        transport: job.transport,
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
  let window: Awaited<ReturnType<typeof finishWindow>>;
  try {
    readyAt = await finished;
    window = await finishWindow(peer, meter, job);
  } catch (error) {
    // Close even on failure, or the poller keeps the process alive.
    meter.stop();
    await app.close().catch(() => undefined);
    throw error;
  }
  await app.close();
  return {
    client: 'library',
    startedAt,
    readyAt,
    snapshotAt: readyAt,
    finishedAt: window.reading.done.at,
    bootstrapMs,
    ...handlerFields(behaviour),
    reportedErrors,
    ...measuredFields(window.reading, startCpu, window.idle),
  };
}

async function runBaseline(job: ClientJob, peer: IpcPeer): Promise<ClientResult> {
  const meter = new ProcessMeter();
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
  const startCpu = cpuMicros();
  const startedAt = preciseNow();
  const running = client.run(abort.signal);
  if (stop.kind === 'duration') void sleep(stop.ms).then(finish);
  let window: Awaited<ReturnType<typeof finishWindow>>;
  try {
    await guard(job, done);
    window = await finishWindow(peer, meter, job);
  } finally {
    meter.stop();
    abort.abort();
  }
  await running;
  client.close();
  return {
    client: 'baseline',
    startedAt,
    readyAt,
    snapshotAt,
    finishedAt: window.reading.done.at,
    bootstrapMs: 0,
    ...handlerFields(behaviour),
    reportedErrors,
    ...measuredFields(window.reading, startCpu, window.idle),
  };
}

runJob<ClientJob, ClientResult>((job, peer) => (job.client === 'library' ? runLibrary(job, peer) : runBaseline(job, peer)));

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
