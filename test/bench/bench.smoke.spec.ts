// Smoke test of `npm run bench -- --quick`: it runs, exits 0, and writes a result
// for every scenario with numbers in both columns. No timing assertions: this
// machine's speed is not what is under test.
//
// Runs in a private copy of the repository (node_modules linked), like the package
// tier: the bench builds dist/, and other specs delete and rebuild the repo's dist/
// in parallel workers.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const RUN_TIMEOUT_MS = 240_000;
const NOT_STAGED = new Set(['.git', 'node_modules', 'dist', 'coverage', '.tmp', 'sample-app/dist', 'sample-app/data']);

interface Headline {
  readonly library: unknown;
  readonly baseline: unknown;
}
interface Scenario {
  readonly id: string;
  readonly headline: Headline;
  readonly library: { readonly elapsedMs: unknown; readonly requests: unknown; readonly connections: unknown };
  readonly baseline: { readonly elapsedMs: unknown; readonly requests: unknown; readonly connections: unknown };
  readonly targets: ReadonlyArray<{ readonly pass: unknown }>;
}
interface Results {
  readonly mode: string;
  readonly machine: { readonly cpus: unknown; readonly node: unknown };
  readonly date: unknown;
  readonly scenarios: readonly Scenario[];
}

interface BenchRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Stages a private copy of the repository in `workDir` and runs scripts/bench.js there with `args`. */
async function runBench(workDir: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<BenchRun> {
  const repo = join(workDir, 'repo');
  await cp(REPO, repo, {
    recursive: true,
    filter: (source) => {
      const path = relative(REPO, source).split('\\').join('/');
      return !NOT_STAGED.has(path) && !/\.(tgz|cpuprofile|heapsnapshot)$/.test(basename(source));
    },
  });
  await symlink(join(REPO, 'node_modules'), join(repo, 'node_modules'), 'dir');
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(repo, 'scripts/bench.js'), ...args],
      { cwd: repo, timeout: RUN_TIMEOUT_MS, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024, env: { ...process.env, ...env } },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : null;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

let workDir: string;
let run: BenchRun;
let results: Results;

describe('npm run bench -- --quick', () => {
  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'nestjs-tenancy-bench-'));
    const out = join(workDir, 'results.json');
    run = await runBench(workDir, ['--quick', '--out', out]);
    if (run.code === 0) results = JSON.parse(await readFile(out, 'utf8')) as Results;
  }, RUN_TIMEOUT_MS + 30_000);

  afterAll(async () => {
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('exits 0', () => {
    expect(run.code, `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`).toBe(0);
  });

  it('writes machine info and every scenario', () => {
    expect(results.mode).toBe('quick');
    expect(results.machine.cpus).toEqual(expect.any(Number));
    expect(results.machine.node).toBe(process.version);
    expect(results.date).toEqual(expect.any(String));
    expect(results.scenarios.map((s) => s.id)).toEqual(['S1', 'S1L', 'S1R', 'S1P', 'S1A', 'S2', 'S3', 'S4', 'S5', 'S6']);
  });

  it('has numbers for both columns of every scenario', () => {
    for (const scenario of results.scenarios) {
      for (const value of [
        scenario.headline.library,
        scenario.headline.baseline,
        scenario.library.elapsedMs,
        scenario.baseline.elapsedMs,
        scenario.library.requests,
        scenario.baseline.requests,
        scenario.library.connections,
        scenario.baseline.connections,
      ]) {
        expect(Number.isFinite(value), `${scenario.id}: ${JSON.stringify(scenario.headline)}`).toBe(true);
      }
      for (const target of scenario.targets) expect(target.pass).toEqual(expect.any(Boolean));
    }
  });

  it('prints the results table and a PASS/MISS line per target', () => {
    expect(run.stdout).toContain('baseline (reference)');
    expect(run.stdout).toMatch(/^ {2}(PASS|MISS) {2}S1 /m);
  });

  it('reports client CPU per status write and server CPU over the window for S1', () => {
    const s1 = results.scenarios.find((s) => s.id === 'S1') as unknown as Record<'library' | 'baseline', Record<string, unknown>>;
    for (const column of [s1.library, s1.baseline]) {
      for (const key of ['clientCpuMicrosPerStatus', 'serverCpuWindowMs', 'wallPerServerCpu', 'startupMs', 'windowMs', 'requestsPerEvent', 'idleRssMB']) {
        expect(Number.isFinite(column[key]), `${key}: ${String(column[key])}`).toBe(true);
      }
    }
  });
});

// The extra modes, once, small: they must run (or, for --fake-tm without the
// shared fake TM, say they were skipped) and exit 0. Never timings.
const FAKE_TM = join(REPO, '..', 'shared', 'bench', 'fake-tm.mjs');

interface ModeResults {
  readonly fakeTm: { readonly skipped?: string; readonly scenarios?: ReadonlyArray<{ readonly id: string; readonly median: Record<string, unknown> }> };
  readonly startup: { readonly libraryShareMs: unknown };
  readonly floor: ReadonlyArray<{ readonly client: string; readonly clientCpuMicrosPerRequest: unknown }>;
  readonly memory: { readonly stages: ReadonlyArray<{ readonly stage: string; readonly events: unknown }> };
}

describe('npm run bench -- --quick --fake-tm --startup --floor --memory', () => {
  let modesDir: string;
  let modesRun: BenchRun;
  let modes: ModeResults;
  const fakeTmPresent = existsSync(FAKE_TM);

  beforeAll(async () => {
    modesDir = await mkdtemp(join(tmpdir(), 'nestjs-tenancy-bench-modes-'));
    const out = join(modesDir, 'results.json');
    // The staged copy has no ../shared: point at the real one, or at nothing to exercise the skip.
    const fakeTm = fakeTmPresent ? FAKE_TM : join(modesDir, 'no-such-fake-tm.mjs');
    modesRun = await runBench(modesDir, ['--quick', '--fake-tm', '--startup', '--floor', '--memory', '--out', out], { BENCH_FAKE_TM: fakeTm });
    if (modesRun.code === 0) modes = JSON.parse(await readFile(out, 'utf8')) as ModeResults;
  }, RUN_TIMEOUT_MS + 30_000);

  afterAll(async () => {
    if (modesDir) await rm(modesDir, { recursive: true, force: true });
  });

  it('exits 0', () => {
    expect(modesRun.code, `stdout:\n${modesRun.stdout}\nstderr:\n${modesRun.stderr}`).toBe(0);
  });

  it('runs the fake-tm scenarios when the shared fake TM is there, and says it skipped them when not', () => {
    if (fakeTmPresent) {
      expect(modes.fakeTm.scenarios?.map((s) => s.id)).toEqual(['S1', 'S2', 'S3']);
      for (const scenario of modes.fakeTm.scenarios ?? []) {
        expect(scenario.median['reached'], scenario.id).toBe(true);
        expect(Number.isFinite(scenario.median['clientCpuMicrosPerStatus']), scenario.id).toBe(true);
      }
    } else {
      expect(modes.fakeTm.skipped).toContain('not found');
      expect(modesRun.stdout).toContain('--fake-tm mode skipped');
    }
  });

  it('measures start-up, the transport floor and the replay memory', () => {
    expect(Number.isFinite(modes.startup.libraryShareMs)).toBe(true);
    expect(modes.floor.length).toBeGreaterThanOrEqual(2);
    for (const row of modes.floor) expect(Number.isFinite(row.clientCpuMicrosPerRequest), row.client).toBe(true);
    expect(modes.memory.stages.map((s) => s.stage)).toEqual(['decode', 'library']);
    for (const stage of modes.memory.stages) expect(stage.events, stage.stage).toBe(5_000);
  });
});
