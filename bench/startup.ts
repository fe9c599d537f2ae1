import { runInChild } from './client.control.js';
import type { StartupJob, StartupResult } from './startup.child.js';
import { round } from './stats.js';

export interface StartupReport {
  readonly runs: number;
  /** Medians, ms. */
  readonly nest: { readonly importMs: number; readonly initMs: number; readonly totalMs: number };
  readonly library: { readonly importNestMs: number; readonly importLibraryMs: number; readonly initMs: number; readonly totalMs: number };
  /** library.totalMs − nest.totalMs: the library's own share of start-up (issue 14: ≤ 100 ms). */
  readonly libraryShareMs: number;
  /** Node process start → harness ready (same in both modes). */
  readonly nodeStartMs: number;
}

const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/**
 * Start-up of Nest alone vs Nest + nestjs-tenancy, each in fresh processes,
 * alternating, `runs` times each; medians. The library's share is the difference
 * of "harness ready → application context created".
 */
export async function measureStartup(runs: number, log: (line: string) => void): Promise<StartupReport> {
  const results: Record<StartupJob['mode'], StartupResult[]> = { nest: [], library: [] };
  for (let i = 0; i < runs; i++) {
    for (const mode of ['nest', 'library'] as const) {
      results[mode].push(await runInChild<StartupJob, StartupResult>('./startup.child.js', `startup ${mode}`, { mode }));
    }
  }
  const m = (mode: StartupJob['mode'], key: keyof Omit<StartupResult, 'mode'>) => round(median(results[mode].map((r) => r[key])));
  const report: StartupReport = {
    runs,
    nest: { importMs: m('nest', 'importNestMs'), initMs: m('nest', 'initMs'), totalMs: m('nest', 'totalMs') },
    library: {
      importNestMs: m('library', 'importNestMs'),
      importLibraryMs: m('library', 'importLibraryMs'),
      initMs: m('library', 'initMs'),
      totalMs: m('library', 'totalMs'),
    },
    libraryShareMs: round(m('library', 'totalMs') - m('nest', 'totalMs')),
    nodeStartMs: round(median([...results.nest, ...results.library].map((r) => r.harnessReadyMs))),
  };
  log(`Start-up (${runs} fresh processes per mode, alternating, medians; ms after the harness is loaded, node itself took ${report.nodeStartMs} ms):`);
  log(`  Nest alone:            import @nestjs/core+common ${report.nest.importMs} · createApplicationContext ${report.nest.initMs} · total ${report.nest.totalMs}`);
  log(
    `  Nest + nestjs-tenancy: import Nest ${report.library.importNestMs} · import nestjs-tenancy ${report.library.importLibraryMs}` +
      ` · createApplicationContext (TenancyModule, autoStart false) ${report.library.initMs} · total ${report.library.totalMs}`,
  );
  log(`  library's share of start-up: ${report.libraryShareMs} ms (issue 14 target ≤ 100 ms) ${report.libraryShareMs <= 100 ? 'PASS' : 'MISS'}`);
  return report;
}
