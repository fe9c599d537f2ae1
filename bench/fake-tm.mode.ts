// `npm run bench -- --fake-tm`: the library against ../shared/bench/fake-tm.mjs, the
// fake Tenant Manager issue 14's figures were taken with, running its S1/S2/S3 as
// its README describes them (fresh fake TM per run, client spawned with
// TENANT_MANAGER_URL, /admin/wait, /admin/stats), so figures from both harnesses
// can be put side by side. The client is fake-tm.client.ts.
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { preciseNow } from './clock.js';
import { FakeTmProcess, fakeTmPath } from './fake-tm.process.js';
import { IpcPeer } from './ipc.js';
import type { IdleMemory, MeterReading } from './process.meter.js';
import { count, ms, round } from './stats.js';

interface Phase {
  readonly statusCalls: number;
  readonly firstCallAt: number | null;
  readonly lastCallAt: number | null;
  readonly lastFinalAt: number | null;
}

/** The parts of fake-tm's /admin/stats this mode reads. */
interface FakeTmStats {
  readonly firstRequestAt: number | null;
  readonly connections: number;
  readonly requests: { readonly total: number; readonly poll: number; readonly pollFull: number; readonly pollEmpty: number; readonly statusPut: number; readonly statusDelete: number; readonly rejected: number };
  readonly phases: Record<'replay' | 'incremental' | 'unknown', Phase>;
  readonly polls: { readonly count: number; readonly all?: ReadonlyArray<{ readonly at: number; readonly returned: number; readonly limit: number }> };
}

interface Spec {
  readonly id: 'S1' | 'S2' | 'S3';
  readonly title: string;
  readonly args: readonly string[];
  readonly events: number;
  readonly phase: 'replay' | 'incremental';
  readonly delayMs: number;
  /** Idle RSS sample after the run (S1). */
  readonly idle: boolean;
}

/** One run's figures. Times in ms; null when the fake TM did not see it. */
export interface FakeTmRun {
  readonly spawnToLastMs: number | null;
  readonly windowMs: number | null;
  readonly startupMs: number | null;
  readonly perEventMs: number | null;
  readonly requests: number;
  readonly requestsPerEvent: number;
  readonly statusCalls: number;
  readonly connections: number;
  readonly clientCpuMicrosPerStatus: number | null;
  readonly serverCpuMs: number | null;
  readonly wallPerServerCpu: number | null;
  readonly peakRssMB: number;
  readonly idleRssMB: number | null;
  readonly idleRssAfterGcMB: number | null;
  readonly polls: number;
  readonly pollFull: number;
  /** Gap from a full page's poll to the next poll (ms, median): ~0 when the client fetches again at once. */
  readonly gapAfterFullPageMs: number | null;
  readonly reached: boolean;
}

export interface FakeTmScenario {
  readonly id: string;
  readonly title: string;
  readonly runs: readonly FakeTmRun[];
  /** Per-figure median over the runs. */
  readonly median: FakeTmRun;
}

export type FakeTmReport = { readonly skipped: string } | { readonly script: string; readonly runsPerScenario: number; readonly scenarios: readonly FakeTmScenario[] };

function specs(quick: boolean): Spec[] {
  const s1 = quick ? 100 : 1_000;
  const s2 = quick ? 20 : 200;
  const s3 = quick ? 300 : 2_000;
  return [
    { id: 'S1', title: `replay, no-op handler: --orgs ${s1} --projects 9`, args: ['--orgs', `${s1}`, '--projects', '9'], events: s1 * 10, phase: 'replay', delayMs: 0, idle: true },
    { id: 'S2', title: `replay, 5 ms handler: --orgs ${s2} --projects 9`, args: ['--orgs', `${s2}`, '--projects', '9'], events: s2 * 10, phase: 'replay', delayMs: 5, idle: false },
    { id: 'S3', title: `backlog drain: --backlog ${s3}`, args: ['--backlog', `${s3}`], events: s3, phase: 'incremental', delayMs: 0, idle: false },
  ];
}

const median = (values: ReadonlyArray<number | null>): number | null => {
  const present = values.filter((v): v is number => v !== null && Number.isFinite(v)).sort((a, b) => a - b);
  return present.length === 0 ? null : present[Math.floor(present.length / 2)];
};

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

async function runOnce(script: string, spec: Spec, idleMs: number, timeoutMs: number): Promise<FakeTmRun> {
  const fake = await FakeTmProcess.start(script, spec.args);
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  try {
    const serverCpuBefore = fake.cpuMicros();
    const spawnedAt = preciseNow();
    child = fork(fileURLToPath(new URL('./fake-tm.client.js', import.meta.url)), [], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, TENANT_MANAGER_URL: fake.url, BENCH_HANDLER_DELAY_MS: `${spec.delayMs}` },
    });
    const running = child;
    exited = new Promise((resolve) => running.once('exit', () => resolve()));
    const peer = IpcPeer.toChild(child);
    const wait = await fake.get<{ reached: boolean }>(`/admin/wait?phase=${spec.phase}&final=${spec.events}&timeoutMs=${timeoutMs}`);
    const sample = await peer.request<MeterReading>('sample');
    const serverCpuAfter = fake.cpuMicros();
    const stats = await fake.get<FakeTmStats>('/admin/stats?polls=1');
    const idle = spec.idle ? await peer.request<IdleMemory>('idle', { ms: idleMs }) : undefined;
    const phase = stats.phases[spec.phase];
    const last = spec.phase === 'incremental' ? phase.lastFinalAt : phase.lastCallAt;
    const statusCalls = stats.requests.statusPut + stats.requests.statusDelete;
    const windowMs = last !== null && stats.firstRequestAt !== null ? last - stats.firstRequestAt : null;
    const serverCpuMs = serverCpuBefore === null || serverCpuAfter === null ? null : (serverCpuAfter - serverCpuBefore) / 1000;
    const clientCpu = sample.firstRequest ? sample.done.cpuMicros - sample.firstRequest.cpuMicros : null;
    const polls = stats.polls.all ?? [];
    const gaps = polls.slice(0, -1).flatMap((poll, i) => (poll.returned === poll.limit ? [polls[i + 1].at - poll.at] : []));
    const mib = (bytes: number) => round(bytes / 1024 / 1024, 0);
    return {
      spawnToLastMs: last === null ? null : round(last - spawnedAt),
      windowMs: windowMs === null ? null : round(windowMs),
      startupMs: stats.firstRequestAt === null ? null : round(stats.firstRequestAt - spawnedAt),
      perEventMs: windowMs === null ? null : round(windowMs / spec.events, 3),
      requests: stats.requests.total,
      requestsPerEvent: round(stats.requests.total / spec.events, 3),
      statusCalls,
      connections: stats.connections,
      clientCpuMicrosPerStatus: clientCpu === null || statusCalls === 0 ? null : round(clientCpu / statusCalls, 0),
      serverCpuMs: serverCpuMs === null ? null : round(serverCpuMs, 0),
      wallPerServerCpu: serverCpuMs && windowMs !== null ? round(windowMs / serverCpuMs, 2) : null,
      peakRssMB: mib(Math.max(sample.maxRss, sample.peakRssSampled)),
      idleRssMB: idle ? mib(idle.rss) : null,
      idleRssAfterGcMB: idle ? mib(idle.rssAfterGc) : null,
      polls: stats.requests.poll,
      pollFull: stats.requests.pollFull,
      gapAfterFullPageMs: median(gaps) === null ? null : round(median(gaps)!),
      reached: wait.reached,
    };
  } finally {
    if (child) await stopChild(child, exited);
    await fake.stop();
  }
}

function medianRun(runs: readonly FakeTmRun[]): FakeTmRun {
  const pick = <K extends keyof FakeTmRun>(key: K) => median(runs.map((run) => run[key] as number | null));
  return {
    spawnToLastMs: pick('spawnToLastMs'),
    windowMs: pick('windowMs'),
    startupMs: pick('startupMs'),
    perEventMs: pick('perEventMs'),
    requests: pick('requests') ?? 0,
    requestsPerEvent: pick('requestsPerEvent') ?? 0,
    statusCalls: pick('statusCalls') ?? 0,
    connections: pick('connections') ?? 0,
    clientCpuMicrosPerStatus: pick('clientCpuMicrosPerStatus'),
    serverCpuMs: pick('serverCpuMs'),
    wallPerServerCpu: pick('wallPerServerCpu'),
    peakRssMB: pick('peakRssMB') ?? 0,
    idleRssMB: pick('idleRssMB'),
    idleRssAfterGcMB: pick('idleRssAfterGcMB'),
    polls: pick('polls') ?? 0,
    pollFull: pick('pollFull') ?? 0,
    gapAfterFullPageMs: pick('gapAfterFullPageMs'),
    reached: runs.every((run) => run.reached),
  };
}

const cell = (value: number | null, unit = '') => (value === null ? 'n/a' : `${value}${unit}`);

function formatRun(id: string, run: FakeTmRun): string[] {
  return [
    `  ${id} spawn → last status ${run.spawnToLastMs === null ? 'n/a' : ms(run.spawnToLastMs)} · 1st request → last ${run.windowMs === null ? 'n/a' : ms(run.windowMs)}` +
      ` (${cell(run.perEventMs, ' ms')}/event) · start-up ${run.startupMs === null ? 'n/a' : ms(run.startupMs)}`,
    `     client CPU ${cell(run.clientCpuMicrosPerStatus, ' µs')}/status call · fake-TM CPU ${run.serverCpuMs === null ? 'n/a' : ms(run.serverCpuMs)}` +
      ` · wall ÷ server CPU ${cell(run.wallPerServerCpu)} · peak RSS ${run.peakRssMB} MiB` +
      (run.idleRssMB === null ? '' : ` · idle RSS ${run.idleRssMB} MiB (${run.idleRssAfterGcMB} after GC)`),
    `     requests ${count(run.requests)} (${run.requestsPerEvent.toFixed(2)}/event, ${count(run.statusCalls)} status) · connections ${run.connections}` +
      ` · polls ${run.polls} (${run.pollFull} full, gap after a full page ${cell(run.gapAfterFullPageMs, ' ms')})${run.reached ? '' : ' · WAIT TIMED OUT'}`,
  ];
}

/** Runs S1–S3 against fake-tm.mjs; skipped (never failed) when the script is not there. */
export async function runFakeTmMode(repoRoot: string, quick: boolean, runs: number, log: (line: string) => void): Promise<FakeTmReport> {
  const script = fakeTmPath(repoRoot);
  if (!existsSync(script)) {
    const skipped = `${script} not found: --fake-tm mode skipped`;
    log(skipped);
    return { skipped };
  }
  log(`fake-tm mode: the library (bench/fake-tm.client.ts) against ${script}, ${runs} run(s) per scenario, fresh fake TM per run, medians`);
  const scenarios: FakeTmScenario[] = [];
  for (const spec of specs(quick)) {
    const results: FakeTmRun[] = [];
    for (let i = 0; i < runs; i++) results.push(await runOnce(script, spec, quick ? 300 : 3_000, quick ? 60_000 : 200_000));
    const scenario = { id: spec.id, title: spec.title, runs: results, median: medianRun(results) };
    scenarios.push(scenario);
    log(`${spec.id} ${spec.title} (${spec.events} events)`);
    for (const line of formatRun('median', scenario.median)) log(line);
  }
  return { script, runsPerScenario: runs, scenarios };
}
