// Smoke test of `npm run bench -- --quick`: it runs, exits 0, and writes a result
// for every scenario with numbers in both columns. No timing assertions: this
// machine's speed is not what is under test.
//
// Runs in a private copy of the repository (node_modules linked), like the package
// tier: the bench builds dist/, and other specs delete and rebuild the repo's dist/
// in parallel workers.
import { execFile } from 'node:child_process';
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

let workDir: string;
let run: { code: number | null; stdout: string; stderr: string };
let results: Results;

describe('npm run bench -- --quick', () => {
  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'nestjs-tenancy-bench-'));
    const repo = join(workDir, 'repo');
    await cp(REPO, repo, {
      recursive: true,
      filter: (source) => {
        const path = relative(REPO, source).split('\\').join('/');
        return !NOT_STAGED.has(path) && !/\.(tgz|cpuprofile)$/.test(basename(source));
      },
    });
    await symlink(join(REPO, 'node_modules'), join(repo, 'node_modules'), 'dir');
    const out = join(workDir, 'results.json');
    run = await new Promise((resolve) => {
      execFile(
        process.execPath,
        [join(repo, 'scripts/bench.js'), '--quick', '--out', out],
        { cwd: repo, timeout: RUN_TIMEOUT_MS, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 },
        (error, stdout, stderr) => {
          const code = error === null ? 0 : typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : null;
          resolve({ code, stdout: String(stdout), stderr: String(stderr) });
        },
      );
    });
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
    expect(results.scenarios.map((s) => s.id)).toEqual(['S1', 'S1L', 'S1R', 'S2', 'S3', 'S4', 'S5', 'S6']);
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
});
