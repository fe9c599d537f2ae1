// One start-up measurement per process (`--startup`): how long importing Nest and
// creating an application context takes, with or without nestjs-tenancy
// (TenancyModule.forRoot with autoStart: false, one @OnTenancyEvent handler
// class, so discovery runs). Every import is dynamic so each step is timed.
import { runJob } from './child.runtime.js';

export interface StartupJob {
  readonly mode: 'nest' | 'library';
}

/** Milliseconds since the process started (performance.timeOrigin). */
export interface StartupResult {
  readonly mode: StartupJob['mode'];
  readonly harnessReadyMs: number;
  readonly importNestMs: number;
  /** Importing nestjs-tenancy (with its dependencies), after Nest; 0 in nest mode. */
  readonly importLibraryMs: number;
  /** NestFactory.createApplicationContext until it resolved. */
  readonly initMs: number;
  /** From harness ready to context created. */
  readonly totalMs: number;
}

async function measure(job: StartupJob): Promise<StartupResult> {
  const harnessReadyMs = performance.now();
  await import('reflect-metadata');
  await import('@nestjs/common');
  const { NestFactory } = await import('@nestjs/core');
  const nestImported = performance.now();
  let libraryImported = nestImported;
  let module: unknown;
  if (job.mode === 'library') {
    await import('nestjs-tenancy');
    libraryImported = performance.now();
    const { BenchAppModule } = await import('./library.app.js');
    const { HandlerBehaviour } = await import('./handler.behaviour.js');
    module = BenchAppModule.register(
      { url: 'http://127.0.0.1:9', controllerName: 'bench-startup', autoStart: false },
      new HandlerBehaviour({ delayMs: 0 }),
    );
  } else {
    module = (await import('./startup.nest-app.js')).PlainAppModule;
  }
  const initStart = performance.now();
  const app = await NestFactory.createApplicationContext(module as never, { logger: false });
  const initEnd = performance.now();
  await app.close();
  return {
    mode: job.mode,
    harnessReadyMs,
    importNestMs: nestImported - harnessReadyMs,
    importLibraryMs: libraryImported - nestImported,
    initMs: initEnd - initStart,
    totalMs: initEnd - harnessReadyMs,
  };
}

runJob<StartupJob, StartupResult>((job) => measure(job));
