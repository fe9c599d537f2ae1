import type { BenchResults, RunMetrics, ScenarioResult } from './results.js';
import { count, ms, ratio } from './stats.js';

type Row = readonly [string, string, string, string, string];

const WIDTHS = [4, 38, 24, 28, 16] as const;

function line(row: Row): string {
  return row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(WIDTHS[i]))).join(' ').trimEnd();
}

function timeCell(run: RunMetrics): string {
  return run.estimatedMs === undefined ? ms(run.elapsedMs) : `${ms(run.estimatedMs)} (est.)`;
}

function headlineRatio(result: ScenarioResult): string {
  const { headline } = result;
  if (headline.ratio === null) return headline.unit === 'count' ? 'baseline: 0' : 'n/a';
  if (headline.unit === 'count') return `${ratio(headline.ratio)} more`;
  return headline.ratio >= 1 ? `${ratio(headline.ratio)} faster` : `${ratio(1 / headline.ratio)} slower`;
}

/** Lower-is-better figure, library relative to baseline: "0.52× baseline". */
function relative(library: number | null | undefined, baseline: number | null | undefined): string {
  if (library === null || library === undefined || baseline === null || baseline === undefined || baseline === 0) return '';
  return `${ratio(library / baseline)} baseline`;
}

/** Time where shorter wins: "1.20× faster" / "1.3× slower". */
function speed(library: number | null, baseline: number | null): string {
  if (library === null || baseline === null || library <= 0) return '';
  const value = baseline / library;
  return value >= 1 ? `${ratio(value)} faster` : `${ratio(1 / value)} slower`;
}

const maybeMs = (value: number | null) => (value === null ? 'n/a' : ms(value));
const micros = (value: number | null) => (value === null ? 'n/a' : `${count(value)} µs`);

/** The rows of one scenario in the results table. */
function scenarioRows(result: ScenarioResult): Row[] {
  const { library: lib, baseline: ref, headline } = result;
  const id = result.id;
  const rows: Row[] = [];
  if (headline.unit === 'ms' && lib.latencyMs && ref.latencyMs) {
    rows.push([id, 'append → handler p50', ms(lib.latencyMs.p50), ms(ref.latencyMs.p50), headlineRatio(result)]);
    rows.push(['', 'append → handler p95', ms(lib.latencyMs.p95), ms(ref.latencyMs.p95), '']);
    rows.push(['', 'append → handler max', ms(lib.latencyMs.max), ms(ref.latencyMs.max), '']);
  } else if (headline.unit === 'count') {
    rows.push([id, headline.metric, count(headline.library), count(headline.baseline), headlineRatio(result)]);
    rows.push(['', 'handler calls incl. poison retries', count(lib.handlerCalls), count(ref.handlerCalls), '']);
  } else {
    rows.push([id, headline.metric, timeCell(lib), timeCell(ref), headlineRatio(result)]);
    if (ref.estimatedMs !== undefined) {
      rows.push(['', '  measured (capped run)', '', `${ms(ref.elapsedMs)} / ${count(ref.handledEvents)} ev`, '']);
    }
    rows.push(['', '1st request → last status write', maybeMs(lib.windowMs), maybeMs(ref.windowMs), speed(lib.windowMs, ref.windowMs)]);
    rows.push(['', 'events / s', count(lib.eventsPerSecond), count(ref.eventsPerSecond), '']);
    rows.push(['', 'spawn → snapshot decoded', ms(lib.snapshotMs), ms(ref.snapshotMs), '']);
  }
  rows.push(['', 'start-up: spawn → 1st request', maybeMs(lib.startupMs), maybeMs(ref.startupMs), relative(lib.startupMs, ref.startupMs)]);
  // Per status write only where the window is busy work (not a latency or poison window).
  if (headline.unit === 'ms' && !lib.latencyMs) rows.push([
    '',
    'client CPU / status write (window)',
    micros(lib.clientCpuMicrosPerStatus),
    micros(ref.clientCpuMicrosPerStatus),
    relative(lib.clientCpuMicrosPerStatus, ref.clientCpuMicrosPerStatus),
  ]);
  rows.push(['', 'client CPU in window (whole run)', `${maybeMs(lib.clientCpuWindowMs)} (${ms(lib.clientCpuMs)})`, `${maybeMs(ref.clientCpuWindowMs)} (${ms(ref.clientCpuMs)})`, '']);
  if (lib.serverCpuWindowMs !== null || ref.serverCpuWindowMs !== null) {
    rows.push(['', 'server CPU in window', maybeMs(lib.serverCpuWindowMs), maybeMs(ref.serverCpuWindowMs), '']);
    rows.push([
      '',
      'wall ÷ server CPU (window)',
      lib.wallPerServerCpu === null ? 'n/a' : lib.wallPerServerCpu.toFixed(2),
      ref.wallPerServerCpu === null ? 'n/a' : ref.wallPerServerCpu.toFixed(2),
      '',
    ]);
  }
  rows.push(['', 'HTTP requests / event (status)', `${lib.requestsPerEvent.toFixed(2)} (${count(lib.statusRequests)})`, `${ref.requestsPerEvent.toFixed(2)} (${count(ref.statusRequests)})`, '']);
  rows.push([
    '',
    'TCP connections (bound)',
    `${lib.connections} (≤ ${lib.connectionLimit})`,
    `${ref.connections} (≤ ${ref.connectionLimit})`,
    '',
  ]);
  rows.push(['', 'server process CPU', `${lib.serverCpuPct}%`, `${ref.serverCpuPct}%`, '']);
  rows.push(['', 'client peak RSS (heap used), MiB', `${lib.peakRssMB} (${lib.peakHeapMB})`, `${ref.peakRssMB} (${ref.peakHeapMB})`, relative(lib.peakRssMB, ref.peakRssMB)]);
  if (lib.idleRssMB !== undefined || ref.idleRssMB !== undefined) {
    const idle = (run: typeof lib) => (run.idleRssMB === undefined ? 'n/a' : `${run.idleRssMB} / ${run.idleRssAfterGcMB}`);
    rows.push(['', `idle RSS +${((lib.idleMs ?? ref.idleMs ?? 0) / 1000).toFixed(1)} s / after GC, MiB`, idle(lib), idle(ref), relative(lib.idleRssMB, ref.idleRssMB)]);
  }
  if (lib.nestFloorRssMB !== undefined) rows.push(['', 'bare Nest app (no library) RSS, MiB', `${lib.nestFloorRssMB}`, '', '']);
  return rows;
}

/** The whole results table. */
export function formatTable(results: BenchResults): string[] {
  const out = [line(['', 'metric', 'library', 'baseline (reference)', 'ratio'])];
  out.push('-'.repeat(110));
  for (const result of results.scenarios) {
    out.push(...scenarioRows(result).map(line));
    out.push('');
  }
  return out;
}

/** A scenario block, printed as soon as it finishes. */
export function formatScenario(result: ScenarioResult): string[] {
  const out = [`${result.id} ${result.title}`];
  for (const note of result.notes) out.push(`   · ${note}`);
  out.push(...scenarioRows(result).map(line));
  for (const target of result.targets) out.push(`   ${target.pass ? 'PASS' : 'MISS'}  ${target.name}: ${target.actual} (target ${target.target})`);
  for (const check of result.checks) if (!check.ok) out.push(`   INVALID  ${check.name}: ${check.detail}`);
  if (result.profile) out.push(...result.profile.map((entry) => `   ${entry}`));
  return out;
}

/** PASS/MISS per target, one line each. */
export function formatTargets(results: BenchResults): string[] {
  const out = [results.mode === 'quick' ? 'Targets (quick sizes: indicative only, the targets are for the full run)' : 'Targets'];
  for (const result of results.scenarios) {
    for (const target of result.targets) {
      out.push(`  ${target.pass ? 'PASS' : 'MISS'}  ${result.id.padEnd(4)} ${target.name.padEnd(44)} ${target.actual.padEnd(16)} target ${target.target}`);
    }
  }
  return out;
}
