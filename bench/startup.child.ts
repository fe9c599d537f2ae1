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
  /** Library mode: import time of each dependency and required peer beyond Nest, then of its own code. */
  readonly dependencies: Record<string, number>;
}

/** Already loaded by the Nest-only baseline: importing them again costs nothing. */
const LOADED_BY_NEST = new Set(['@nestjs/common', '@nestjs/core', 'reflect-metadata', 'rxjs']);

/**
 * Dependencies the library imports on demand only, never at start-up: class-validator
 * is loaded for the first event the wire decoder's fast check does not accept.
 */
const LOADED_ON_DEMAND = new Set(['class-validator']);

/**
 * What importing the library pulls in besides its own code, from its package.json:
 * `dependencies`, and the required peers a host installs for it (optional peers are
 * loaded lazily, if at all, so they are not start-up).
 */
async function runtimeDependencies(): Promise<string[]> {
  const { readFile } = await import('node:fs/promises');
  const manifest = JSON.parse(await readFile(new URL(import.meta.resolve('nestjs-tenancy/package.json')), 'utf8')) as {
    dependencies?: Record<string, string>;
    peerDependencies?: Record<string, string>;
    peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  };
  const peers = Object.keys(manifest.peerDependencies ?? {}).filter((name) => !manifest.peerDependenciesMeta?.[name]?.optional);
  return [...Object.keys(manifest.dependencies ?? {}), ...peers].filter((name) => !LOADED_BY_NEST.has(name) && !LOADED_ON_DEMAND.has(name));
}

async function measure(job: StartupJob): Promise<StartupResult> {
  const harnessReadyMs = performance.now();
  await import('reflect-metadata');
  await import('@nestjs/common');
  const { NestFactory } = await import('@nestjs/core');
  const nestImported = performance.now();
  let libraryImported = nestImported;
  let module: unknown;
  const dependencies: Record<string, number> = {};
  if (job.mode === 'library') {
    // What the library pulls in first, each timed, so the last step is its own code.
    for (const name of await runtimeDependencies()) {
      const before = performance.now();
      await import(name);
      dependencies[name] = performance.now() - before;
    }
    const ownStart = performance.now();
    await import('nestjs-tenancy');
    libraryImported = performance.now();
    dependencies['nestjs-tenancy (own code)'] = libraryImported - ownStart;
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
    dependencies,
  };
}

runJob<StartupJob, StartupResult>((job) => measure(job));
