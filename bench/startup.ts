import { runInChild } from './client.control.js';
import type { StartupJob, StartupResult } from './startup.child.js';
import { round } from './stats.js';

export interface StartupReport {
  readonly runs: number;
  /** Medians, ms. */
  readonly nest: { readonly importMs: number; readonly initMs: number; readonly totalMs: number };
  readonly library: {
    readonly importNestMs: number;
    readonly importLibraryMs: number;
    readonly initMs: number;
    readonly totalMs: number;
    /** Medians of the import time of each runtime dependency, then of the library's own code. */
    readonly importByPackageMs: Record<string, number>;
  };
  /** library.importLibraryMs + library.initMs − nest.initMs: the library's share of start-up (issue 14: ≤ 100 ms). */
  readonly libraryShareMs: number;
  /** Node process start → harness ready (same in both modes). */
  readonly nodeStartMs: number;
}

const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/**
 * Start-up of Nest alone vs Nest + nestjs-tenancy, each in fresh processes,
 * alternating, `runs` times each; medians. The library's share is importing it
 * (after Nest) plus what its module adds to creating the application context.
 */
export async function measureStartup(runs: number, log: (line: string) => void): Promise<StartupReport> {
  const results: Record<StartupJob['mode'], StartupResult[]> = { nest: [], library: [] };
  for (let i = 0; i < runs; i++) {
    for (const mode of ['nest', 'library'] as const) {
      results[mode].push(await runInChild<StartupJob, StartupResult>('./startup.child.js', `startup ${mode}`, { mode }));
    }
  }
  const m = (mode: StartupJob['mode'], key: keyof Omit<StartupResult, 'mode' | 'dependencies'>) => round(median(results[mode].map((r) => r[key])));
  const report: StartupReport = {
    runs,
    nest: { importMs: m('nest', 'importNestMs'), initMs: m('nest', 'initMs'), totalMs: m('nest', 'totalMs') },
    library: {
      importNestMs: m('library', 'importNestMs'),
      importLibraryMs: m('library', 'importLibraryMs'),
      initMs: m('library', 'initMs'),
      totalMs: m('library', 'totalMs'),
      importByPackageMs: Object.fromEntries(
        Object.keys(results.library[0]?.dependencies ?? {}).map((name) => [name, round(median(results.library.map((r) => r.dependencies[name] ?? 0)))]),
      ),
    },
    // The library's own steps: its import, and what its module adds to context creation.
    // (A difference of totals would carry the run-to-run noise of importing Nest.)
    libraryShareMs: round(m('library', 'importLibraryMs') + m('library', 'initMs') - m('nest', 'initMs')),
    nodeStartMs: round(median([...results.nest, ...results.library].map((r) => r.harnessReadyMs))),
  };
  log(`Start-up (${runs} fresh processes per mode, alternating, medians; ms after the harness is loaded, node itself took ${report.nodeStartMs} ms):`);
  log(`  Nest alone:            import @nestjs/core+common ${report.nest.importMs} · createApplicationContext ${report.nest.initMs} · total ${report.nest.totalMs}`);
  log(
    `  Nest + nestjs-tenancy: import Nest ${report.library.importNestMs} · import nestjs-tenancy ${report.library.importLibraryMs}` +
      ` · createApplicationContext (TenancyModule, autoStart false) ${report.library.initMs} · total ${report.library.totalMs}`,
  );
  const parts = Object.entries(report.library.importByPackageMs).map(([name, value]) => `${name} ${value}`);
  if (parts.length > 0) log(`  import nestjs-tenancy, by package: ${parts.join(' · ')}`);
  log(`  library's share of start-up (its import + context creation beyond Nest alone): ${report.libraryShareMs} ms (issue 14 target ≤ 100 ms) ${report.libraryShareMs <= 100 ? 'PASS' : 'MISS'}`);
  return report;
}
