import type { BenchResults, RunMetrics, ScenarioResult } from './results.js';
import { count, ms, ratio } from './stats.js';

type Row = readonly [string, string, string, string, string];

const WIDTHS = [4, 34, 22, 30, 16] as const;

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
    rows.push(['', 'events / s', count(lib.eventsPerSecond), count(ref.eventsPerSecond), '']);
    rows.push(['', 'start → snapshot decoded', ms(lib.snapshotMs), ms(ref.snapshotMs), '']);
  }
  rows.push(['', 'HTTP requests / handler call', lib.requestsPerCall.toFixed(2), ref.requestsPerCall.toFixed(2), '']);
  rows.push([
    '',
    'TCP connections (bound)',
    `${lib.connections} (≤ ${lib.connectionLimit})`,
    `${ref.connections} (≤ ${ref.connectionLimit})`,
    '',
  ]);
  rows.push(['', 'server process CPU', `${lib.serverCpuPct}%`, `${ref.serverCpuPct}%`, '']);
  rows.push(['', 'client process CPU', ms(lib.clientCpuMs), ms(ref.clientCpuMs), '']);
  rows.push(['', 'client peak RSS (heap used)', `${lib.peakRssMB} MB (${lib.peakHeapMB})`, `${ref.peakRssMB} MB (${ref.peakHeapMB})`, '']);
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
