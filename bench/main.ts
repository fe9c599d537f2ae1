// `npm run bench [-- --quick] [--out <file>] [--only S1,S3] [--profile]`
//                 [--fake-tm] [--runs N] [--floor [--floor-server fake-tm]] [--startup] [--memory]
//
// Runs each scenario against the library (in a real Nest application context) and
// against the baseline (bench/reference-client.ts, the reference Go client's
// algorithm), each client in its own process, the Tenant Manager emulator in a third.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { EXPERIMENTS } from './experiments.js';
import { runFakeTmMode, type FakeTmReport } from './fake-tm.mode.js';
import { fakeTmPath } from './fake-tm.process.js';
import { emulatorFloorServer, fakeTmFloorServer, type FloorRow, measureFloor } from './floor.js';
import { formatScenario, formatTable, formatTargets } from './report.js';
import type { BenchResults, ScenarioResult } from './results.js';
import { FULL, LIBRARY_CONCURRENCY, QUICK, SCENARIOS } from './scenarios.js';
import { ServerProcess } from './server.control.js';
import { measureMemory, type MemoryReport } from './memory.js';
import { measureStartup, type StartupReport } from './startup.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

const SERVER_DESCRIPTION =
  'FakeTenantManager (nestjs-tenancy/testing) in a separate child process, one emulator instance per client; ' +
  'server CPU is not charged to the clients';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      out: { type: 'string' },
      only: { type: 'string' },
      profile: { type: 'boolean', default: false },
      experiment: { type: 'string' },
      concurrency: { type: 'string' },
      floor: { type: 'boolean', default: false },
      'floor-server': { type: 'string', default: 'emulator' },
      'fake-tm': { type: 'boolean', default: false },
      runs: { type: 'string' },
      startup: { type: 'boolean', default: false },
      memory: { type: 'boolean', default: false },
      'node-flags': { type: 'string' },
    },
    strict: true,
  });
  const quick = values.quick ?? false;
  const experiments = values.experiment ? values.experiment.split(',').map((name) => name.trim()) : [];
  for (const name of experiments) if (!(EXPERIMENTS as readonly string[]).includes(name)) throw new Error(`unknown experiment ${name} (have ${EXPERIMENTS.join(', ')})`);

  const only = values.only ? values.only.split(',').map((id) => id.trim().toUpperCase()) : Object.keys(SCENARIOS);
  for (const id of only) if (!SCENARIOS[id]) throw new Error(`unknown scenario ${id} (have ${Object.keys(SCENARIOS).join(', ')})`);
  const concurrency = values.concurrency === undefined ? LIBRARY_CONCURRENCY : Number(values.concurrency);
  if (!(Number.isInteger(concurrency) && concurrency > 0)) throw new Error(`--concurrency must be a positive integer`);
  const runs = values.runs === undefined ? (quick ? 1 : 3) : Number(values.runs);
  if (!(Number.isInteger(runs) && runs > 0)) throw new Error(`--runs must be a positive integer`);
  const floorServer = values['floor-server'];
  if (floorServer !== 'emulator' && floorServer !== 'fake-tm') throw new Error(`--floor-server must be emulator or fake-tm`);
  // The extra modes run instead of the scenarios unless --only asks for some too.
  const extraModes = [values.floor && 'floor', values['fake-tm'] && 'fake-tm', values.startup && 'startup', values.memory && 'memory'].filter((m): m is string => Boolean(m));
  const runScenarios = extraModes.length === 0 || values.only !== undefined;
  // Partial, what-if and floor runs never overwrite the reference results.
  const tag = [
    ...(values.only ? [only.join('-')] : []),
    ...experiments,
    ...(concurrency === LIBRARY_CONCURRENCY ? [] : [`c${concurrency}`]),
    ...(values['node-flags'] ? ['node-flags'] : []),
    ...extraModes,
  ].join('+');
  const defaultOut =
    tag !== ''
      ? `.tmp/bench-results.${tag}${quick ? '.quick' : ''}.json`
      : quick
        ? 'bench/results.quick.json'
        : 'bench/results.json';
  const out = resolve(values.out ?? resolve(root, defaultOut));
  const nodeFlags = values['node-flags'] ? values['node-flags'].split(/\s+/).filter(Boolean) : [];
  const profileDir = values.profile ? resolve(root, '.tmp/bench-profiles') : undefined;
  if (profileDir) mkdirSync(profileDir, { recursive: true });

  const started = performance.now();
  const loadAtStart = loadavg();
  const machine = {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    totalMemoryMB: Math.round(totalmem() / 1024 / 1024),
    node: process.version,
    platform: process.platform,
    arch: process.arch,
  };
  console.log(`nestjs-tenancy bench (${quick ? 'quick' : 'full'}) · ${machine.cpus} CPUs (${machine.cpuModel}) · Node ${machine.node}`);
  console.log(`server: ${SERVER_DESCRIPTION}`);
  console.log(
    `library: TenancyModule in NestFactory.createApplicationContext, @OnTenancyEvent handlers, concurrency ${concurrency}` +
      (concurrency === LIBRARY_CONCURRENCY ? ' (default)' : ' (NOT the default: what-if run)'),
  );
  console.log('baseline: bench/reference-client.ts, the reference Go client algorithm (PROTOCOL.md), node:http keep-alive agent');
  console.log(`load average at start: ${loadavg().map((l) => l.toFixed(2)).join(' ')} (other work on this machine skews timings)`);
  if (quick) console.log('quick mode: small sizes; PASS/MISS is indicative only, the targets are for the full run');
  if (nodeFlags.length > 0) console.log(`WHAT-IF: library processes run with node ${nodeFlags.join(' ')}`);
  if (experiments.length > 0) console.log(`EXPERIMENT: library patched with ${experiments.join(', ')} (bench/experiments.ts), not the library as built`);
  console.log('');

  const log = (text: string) => console.log(text);
  const server = await ServerProcess.start();
  const scenarios: ScenarioResult[] = [];
  let floor: FloorRow[] | undefined;
  let fakeTm: FakeTmReport | undefined;
  let startup: StartupReport | undefined;
  let memory: MemoryReport | undefined;
  try {
    if (values.memory) {
      const tmp = resolve(root, '.tmp');
      mkdirSync(tmp, { recursive: true });
      memory = await measureMemory(server, quick ? 500 : 10_000, tmp, log);
      console.log('');
    }
    if (values.startup) {
      startup = await measureStartup(quick ? 3 : 9, log);
      console.log('');
    }
    if (values.floor) {
      const target =
        floorServer === 'fake-tm' && existsSync(fakeTmPath(root)) ? fakeTmFloorServer(fakeTmPath(root)) : emulatorFloorServer(server);
      if (floorServer === 'fake-tm' && !existsSync(fakeTmPath(root))) log(`${fakeTmPath(root)} not found: floor runs against the emulator`);
      floor = await measureFloor(target, quick ? 2_000 : 20_000, quick ? 1 : 3, log);
      console.log('');
    }
    if (values['fake-tm']) {
      fakeTm = await runFakeTmMode(root, quick, runs, log);
      console.log('');
    }
    const ctx = { server, sizes: quick ? QUICK : FULL, profileDir, experiments, concurrency, nodeFlags, log };
    for (const id of runScenarios ? only : []) {
      const result = await SCENARIOS[id](ctx);
      scenarios.push(result);
      console.log(formatScenario(result).join('\n'));
      console.log('');
    }
  } finally {
    await server.stop();
  }

  const results: BenchResults = {
    mode: quick ? 'quick' : 'full',
    date: new Date().toISOString(),
    machine,
    server: SERVER_DESCRIPTION,
    libraryConcurrency: concurrency,
    loadAverage: { start: loadAtStart, end: loadavg() },
    experiments,
    libraryNodeFlags: nodeFlags,
    scenarios,
    ...(floor ? { floor } : {}),
    ...(fakeTm ? { fakeTm } : {}),
    ...(startup ? { startup } : {}),
    ...(memory ? { memory } : {}),
    runtimeMs: Math.round(performance.now() - started),
  };
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);

  if (scenarios.length > 0) {
    console.log(formatTable(results).join('\n'));
    console.log(formatTargets(results).join('\n'));
  }
  const invalid = scenarios.flatMap((s) => s.checks.filter((check) => !check.ok).map((check) => `${s.id} ${check.name}: ${check.detail}`));
  for (const problem of invalid) console.log(`INVALID ${problem}`);
  const loadAtEnd = results.loadAverage.end.map((l) => l.toFixed(2)).join(' ');
  console.log(`\nwrote ${out} · total ${(results.runtimeMs / 1000).toFixed(1)} s · load average at end: ${loadAtEnd}`);
  // Targets are reported, not enforced; a run whose clients did not do the work is an error.
  return invalid.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
