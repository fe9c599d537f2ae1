// The packaging tier (`npm run test:package`): what `npm publish` would ship,
// installed and used the way a consumer would. Builds and packs the library once,
// checks the tarball (attw, publint --strict), then makes two apps shaped like
// `nest new` makes them today (./templates: Nest 12 ESM + Vitest, Nest 11 CommonJS
// + Jest), copies the README's marked snippets into them verbatim, and runs the
// template's tsc, its e2e runner, and a boot against the emulator bin. Plain JS/TS
// fixtures from ./fixtures check import, require() and the bin.
//
// Installs are cached: each template's package.json is installed once into
// node_modules/.cache/nestjs-tenancy-package/<name>-<hash>/ and copied from there;
// only the tarball is installed per run. Needs the npm registry for a cold cache.
//
// The build runs in a private copy of the repository (node_modules linked), not in
// the repo's own dist/: other specs (the `npm start` smoke test) build into dist/ in
// parallel workers, and `npm run build` starts by deleting it.
//
// Set NESTJS_TENANCY_KEEP_PKG_TMP=1 to keep the temporary directories for debugging.
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, cp, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stripVTControlCharacters } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/wait-for.js';
import { collectSnippets, forCommonJsJest, type Snippet } from './support/readme-snippets.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const TEMPLATES = fileURLToPath(new URL('./templates/', import.meta.url));
const INSTALL_CACHE = join(REPO, 'node_modules', '.cache', 'nestjs-tenancy-package');
const SLOW = { timeout: 300_000 };
const HOOK_TIMEOUT = 300_000;
/** A consumer script that is still running after this long left a handle open. */
const SCRIPT_TIMEOUT_MS = 60_000;
const INSTALL_FLAGS = ['install', '--no-audit', '--no-fund', '--prefer-offline'];
/** Below the hook timeout, so a stuck install fails with its output rather than the hook. */
const INSTALL_TIMEOUT_MS = 240_000;

interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly timedOut: boolean;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/** Runs a command to completion (or the timeout, then SIGKILL); never rejects. */
function run(command: string, args: readonly string[], cwd: string, timeoutMs: number): Promise<RunResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { cwd, env: childEnv(), timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const failure = error as (Error & { code?: number | string; killed?: boolean; signal?: NodeJS.Signals }) | null;
        resolve({
          code: failure === null ? 0 : typeof failure.code === 'number' ? failure.code : null,
          signal: failure?.signal ?? null,
          timedOut: failure?.killed === true,
          stdout: String(stdout),
          stderr: String(stderr),
          ms: Date.now() - started,
        });
      },
    );
  });
}

function describeRun(what: string, result: RunResult): string {
  const ending = result.timedOut
    ? `was killed after ${result.ms} ms`
    : `exited with code ${result.code}${result.signal ? ` (signal ${result.signal})` : ''}`;
  return `${what} ${ending}\n--- stdout ---\n${result.stdout.slice(-8000)}\n--- stderr ---\n${result.stderr.slice(-8000)}`;
}

/** Runs a command and throws with its output unless it exits 0. */
async function runOk(what: string, command: string, args: readonly string[], cwd: string, timeoutMs: number) {
  const result = await run(command, args, cwd, timeoutMs);
  if (result.code !== 0) throw new Error(describeRun(what, result));
  return result;
}

/**
 * The environment minus what `npm run` / `npx` inject about *this* package, so the
 * child npm and node see the consumer dir as their project (registry, cache, proxy
 * and CA settings are kept).
 */
function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of Object.keys(env)) {
    if (/^npm_(package_|lifecycle_|command$|config_local_prefix$)/i.test(key)) delete env[key];
  }
  return env;
}

/**
 * Runs a fixture script with node and parses its `RESULT {json}` line. It must exit 0
 * by itself: the fixtures never call process.exit, so a leaked handle is a timeout.
 */
async function runScript(cwd: string, script: string, args: readonly string[] = []): Promise<Record<string, unknown>> {
  const result = await run(process.execPath, [script, ...args], cwd, SCRIPT_TIMEOUT_MS);
  const line = result.stdout.split('\n').find((candidate) => candidate.startsWith('RESULT '));
  if (result.timedOut && line !== undefined) {
    throw new Error(describeRun(`${script} printed its result but did not exit on its own (a handle was left open):`, result));
  }
  if (result.code !== 0 || line === undefined) throw new Error(describeRun(`${script}`, result));
  return JSON.parse(line.slice('RESULT '.length)) as Record<string, unknown>;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

interface Manifest {
  readonly name: string;
  readonly exports: unknown;
  readonly main?: string;
  readonly types?: string;
  readonly typesVersions?: Record<string, Record<string, string[]>>;
  readonly bin?: string | Record<string, string>;
}

/** The package.json inside the tarball, as npm will publish it. */
async function packedManifest(): Promise<Manifest> {
  const extracted = await runOk('tar -xzOf', 'tar', ['-xzOf', tarball, 'package/package.json'], workDir, 60_000);
  return JSON.parse(extracted.stdout) as Manifest;
}

/** `bin` as a name -> path map (a string bin is named after the package). */
function binsOf(manifest: Manifest): Record<string, string> {
  if (manifest.bin === undefined) return {};
  return typeof manifest.bin === 'string' ? { [manifest.name]: manifest.bin } : manifest.bin;
}

/** Every string target of an `exports` map (all conditions, all subpaths). */
function exportTargets(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (value === null || typeof value !== 'object') return [];
  return Object.values(value).flatMap(exportTargets);
}

/** Not copied into the staging repo: VCS, installs and build output (as in .gitignore). */
const NOT_STAGED = new Set(['.git', 'node_modules', 'dist', 'coverage', '.tmp', 'sample-app/dist', 'sample-app/data']);

/** Copies the repository (minus {@link NOT_STAGED}) to `dir` and links its node_modules. */
async function stageRepo(dir: string): Promise<void> {
  await cp(REPO, dir, {
    recursive: true,
    filter: (source) => {
      const path = relative(REPO, source).split('\\').join('/');
      return !NOT_STAGED.has(path) && !/\.(tgz|cpuprofile)$/.test(basename(source));
    },
  });
  await symlink(join(REPO, 'node_modules'), join(dir, 'node_modules'), 'dir');
}

let workDir: string;
let version: string;
let tarball: string;
let entries: string[];

/** A consumer-app template under ./templates and how its test runner wants the snippets. */
interface Template {
  readonly name: 'nest12' | 'nest11';
  readonly nestMajor: number;
  /** Applied to every snippet: the README's documented edit for CommonJS + Jest apps. */
  readonly adapt: (code: string) => string;
}

const NEST12: Template = { name: 'nest12', nestMajor: 12, adapt: (code) => code };
const NEST11: Template = { name: 'nest11', nestMajor: 11, adapt: forCommonJsJest };

/**
 * The template's dependencies, installed once per content hash of its package.json
 * (node_modules/.cache/nestjs-tenancy-package/<name>-<hash>). Built in a scratch dir
 * and renamed into place, so an interrupted install is never mistaken for a cache.
 */
async function cachedInstall(template: Template): Promise<string> {
  const manifest = await readFile(join(TEMPLATES, template.name, 'package.json'));
  const hash = createHash('sha256').update(manifest).update(process.version.split('.')[0] ?? '').digest('hex').slice(0, 16);
  const cached = join(INSTALL_CACHE, `${template.name}-${hash}`);
  if (await stat(join(cached, 'node_modules')).then(() => true, () => false)) return cached;
  const scratch = await mkdtemp(join(workDir, `install-${template.name}-`));
  await writeFile(join(scratch, 'package.json'), manifest);
  const install = await runOk(`npm install (${template.name})`, 'npm', INSTALL_FLAGS, scratch, INSTALL_TIMEOUT_MS);
  console.log(`[package] ${template.name}: cold npm install took ${seconds(install.ms)}`);
  await mkdir(INSTALL_CACHE, { recursive: true });
  const partial = `${cached}.partial-${process.pid}`;
  await cp(scratch, partial, { recursive: true, verbatimSymlinks: true });
  await rm(cached, { recursive: true, force: true });
  await rename(partial, cached);
  return cached;
}

/**
 * `<workDir>/consumer-<template>`: the template's files, its cached dependencies, the
 * packed tarball, the README's snippets (verbatim, plus the template's documented
 * adaptation) and the plain fixtures.
 */
async function createConsumer(template: Template, snippets: readonly Snippet[]): Promise<string> {
  const dir = join(workDir, `consumer-${template.name}`);
  const cached = await cachedInstall(template);
  await cp(cached, dir, { recursive: true, verbatimSymlinks: true });
  await cp(join(TEMPLATES, template.name), dir, { recursive: true });
  const install = await runOk(`npm install tarball (${template.name})`, 'npm', [...INSTALL_FLAGS, tarball], dir, INSTALL_TIMEOUT_MS);
  console.log(`[package] ${template.name}: npm install of the tarball took ${seconds(install.ms)}`);
  // Peers the tarball declares must be satisfied as installed, not just resolvable.
  // Only our problems count: today's Nest 12 template has one of its own
  // (vite-tsconfig-paths → tsconfck wants typescript ^5, the template installs 6).
  const ls = await run('npm', ['ls', '--all'], dir, 60_000);
  expect(ls.stdout, describeRun('npm ls --all', ls)).toContain(`nestjs-tenancy@${version}`);
  const ours = ls.stdout.split('\n').filter((line) => /invalid|UNMET|missing|extraneous/.test(line) && line.includes('nestjs-tenancy'));
  expect(ours, describeRun('npm ls --all', ls)).toEqual([]);
  for (const snippet of snippets) {
    const target = join(dir, snippet.target);
    await mkdir(join(target, '..'), { recursive: true });
    await writeFile(target, template.adapt(snippet.code));
  }
  for (const fixture of ['boot.mjs', 'require.cjs']) await copyFile(join(FIXTURES, fixture), join(dir, fixture));
  return dir;
}

/** `npm run <script>` in a consumer app; throws with its output unless it exits 0. */
async function npmRun(dir: string, script: string, timeoutMs = SCRIPT_TIMEOUT_MS * 2): Promise<RunResult> {
  const result = await runOk(`npm run ${script} (${basename(dir)})`, 'npm', ['run', script], dir, timeoutMs);
  console.log(`[package] ${basename(dir)}: npm run ${script} took ${seconds(result.ms)}`);
  return result;
}

/** The app's own `tsc --noEmit` with its template tsconfig.json: snippets, tests and main.ts. */
async function templateTypeCheck(dir: string): Promise<void> {
  const tsc = await runOk(
    `tsc --noEmit -p tsconfig.json (${basename(dir)})`,
    process.execPath,
    [join(dir, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '-p', 'tsconfig.json'],
    dir,
    SCRIPT_TIMEOUT_MS * 2,
  );
  console.log(`[package] ${basename(dir)}: tsc --noEmit took ${seconds(tsc.ms)}`);
}

/** The repo's type-level fixture under a nodenext tsconfig, in a folder of its own. */
async function fixtureTypeCheck(dir: string): Promise<void> {
  const fixtureDir = join(dir, 'types-fixture');
  await mkdir(fixtureDir);
  await copyFile(join(FIXTURES, 'consumer-types.ts'), join(fixtureDir, 'consumer-types.ts'));
  await copyFile(join(FIXTURES, 'consumer-tsconfig.json'), join(fixtureDir, 'tsconfig.json'));
  await runOk(
    `tsc --noEmit (${basename(dir)}/types-fixture)`,
    process.execPath,
    [join(dir, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'],
    fixtureDir,
    SCRIPT_TIMEOUT_MS * 2,
  );
}

/** A child process whose stdout is collected, and a promise of its exit code. */
interface Spawned {
  readonly output: () => string;
  /** The exit code, or the signal that ended it. */
  readonly exited: Promise<number | string | null>;
  readonly kill: (signal: NodeJS.Signals) => void;
  readonly running: () => boolean;
}

function spawnCollecting(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv): Spawned {
  const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | string | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)));
  return {
    output: () => output,
    exited,
    kill: (signal) => void child.kill(signal),
    running: () => child.exitCode === null && child.signalCode === null,
  };
}

/** Starts the installed emulator bin on a free port; resolves to it and its URL. */
async function startEmulator(dir: string, args: readonly string[]): Promise<{ emulator: Spawned; url: string }> {
  const emulator = spawnCollecting(join(dir, 'node_modules', '.bin', 'nestjs-tenancy-emulator'), ['--port', '0', ...args], dir, childEnv());
  const listening = () => /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(emulator.output())?.[1];
  await waitFor(() => listening() !== undefined || !emulator.running(), {
    timeout: SCRIPT_TIMEOUT_MS,
    message: 'the emulator to print its URL',
  });
  const url = listening();
  if (url === undefined) throw new Error(`the emulator did not start:\n${emulator.output()}`);
  return { emulator, url };
}

/** The emulator's derived status indicator of a project, or undefined while it cannot answer. */
async function projectIndicator(url: string, org: string, project: string): Promise<string | undefined> {
  try {
    const response = await fetch(`${url}/v1/projects/${project}/status?org=${org}`);
    if (!response.ok) return undefined;
    return ((await response.json()) as { projectStatus?: { statusIndicator?: string } }).projectStatus?.statusIndicator;
  } catch {
    return undefined;
  }
}

/**
 * Builds the app with its own build script and boots `node dist/main` against the
 * emulator (TENANT_MANAGER_URL), as the README's "run it against the emulator" says:
 * every demo project ends IDLE (handled and reported), then SIGTERM stops the app
 * cleanly (enableShutdownHooks).
 */
async function bootAgainstEmulator(dir: string): Promise<void> {
  await npmRun(dir, 'build');
  const { emulator, url } = await startEmulator(dir, ['--controllers', 'my-controller', '--seed', 'demo']);
  const app = spawnCollecting(process.execPath, ['dist/main.js'], dir, { ...childEnv(), TENANT_MANAGER_URL: url, PORT: '0' });
  try {
    for (const project of ['alpha', 'beta', 'gamma']) {
      await waitFor(async () => !app.running() || (await projectIndicator(url, 'demo', project)) === 'STATUS_INDICATION_IDLE', {
        timeout: SCRIPT_TIMEOUT_MS,
        interval: 100,
        message: `demo/${project} to be handled by the booted app`,
      });
      expect(app.running(), `the app exited early:\n${app.output()}`).toBe(true);
    }
    app.kill('SIGTERM');
    // Nest closes the app, then re-raises the signal to end the process by it.
    expect([0, 'SIGTERM'], app.output()).toContain(await app.exited);
    expect(app.output()).not.toMatch(/ERROR/);
    emulator.kill('SIGINT');
    expect(await emulator.exited, emulator.output()).toBe(0);
  } finally {
    if (app.running()) app.kill('SIGKILL');
    if (emulator.running()) emulator.kill('SIGKILL');
  }
}

async function installedVersion(dir: string, pkg: string): Promise<string> {
  const manifest = JSON.parse(await readFile(join(dir, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string };
  return manifest.version;
}

/** The ESM boot fixture's assertions, the same for every Nest major. */
function expectBooted(result: Record<string, unknown>, nestMajor: number, withSchedule: boolean): void {
  const expected = result['expected'] as { replayed: string; live: string };
  expect(String(result['nestCore']).split('.')[0]).toBe(String(nestMajor));
  expect(result['tenancyVersion']).toBe(version);
  expect(result['seen']).toEqual([
    { id: expected.replayed, name: 'web', replay: true },
    { id: expected.live, name: 'api', replay: false },
  ]);
  expect(result['status']).toEqual({ replayed: 'completed', live: 'completed' });
  expect(result['deepImport']).toBe('ERR_PACKAGE_PATH_NOT_EXPORTED');
  if (withSchedule) expect(result['scheduledTimer']).toBe('tenancy:pkg-controller:poll');
  else expect(result['scheduledTimer']).toBeNull();
}

function expectRequired(result: Record<string, unknown>): void {
  expect(result['types']).toEqual({
    TenancyModule: 'function',
    OnTenancyEvent: 'function',
    TenancyPoller: 'function',
    FakeTenantManager: 'function',
    TenancyHealthIndicator: 'function',
  });
  expect(result['resolved']).toEqual(['dist/cjs/index.js', 'dist/cjs/testing/index.js', 'dist/cjs/terminus/index.js']);
  expect(result['deepRequire']).toBe('ERR_PACKAGE_PATH_NOT_EXPORTED');
}

describe('the published package', () => {
  let snippets: Snippet[];

  beforeAll(async () => {
    snippets = await collectSnippets(REPO);
    workDir = await mkdtemp(join(tmpdir(), 'nestjs-tenancy-pkg-'));
    const staging = join(workDir, 'repo');
    await stageRepo(staging);
    version = (JSON.parse(await readFile(join(staging, 'package.json'), 'utf8')) as { version: string }).version;
    const build = await runOk('npm run build', 'npm', ['run', 'build'], staging, INSTALL_TIMEOUT_MS);
    const packDir = join(workDir, 'pack');
    await mkdir(packDir);
    // --ignore-scripts: built just above; prepack would build a second time.
    const pack = await runOk('npm pack', 'npm', ['pack', '--ignore-scripts', '--pack-destination', packDir], staging, INSTALL_TIMEOUT_MS);
    const tarballs = (await readdir(packDir)).filter((file) => file.endsWith('.tgz'));
    expect(tarballs).toHaveLength(1);
    tarball = join(packDir, tarballs[0] as string);
    const listing = await runOk('tar -tzf', 'tar', ['-tzf', tarball], workDir, 60_000);
    entries = listing.stdout.split('\n').filter((entry) => entry !== '');
    console.log(`[package] build took ${seconds(build.ms)}, pack ${seconds(pack.ms)}: ${tarball} (${entries.length} files)`);
  }, HOOK_TIMEOUT);

  afterAll(async () => {
    if (workDir === undefined) return;
    if (process.env['NESTJS_TENANCY_KEEP_PKG_TMP']) console.log(`[package] kept ${workDir}`);
    else await rm(workDir, { recursive: true, force: true });
  }, HOOK_TIMEOUT);

  describe('tarball', () => {
    it('holds both builds of every entry point, their types, the bin and the manifest', () => {
      for (const build of ['esm', 'cjs']) {
        for (const entry of ['index', 'testing/index', 'terminus/index']) {
          expect(entries).toContain(`package/dist/${build}/${entry}.js`);
          expect(entries).toContain(`package/dist/${build}/${entry}.d.ts`);
        }
        expect(entries).toContain(`package/dist/${build}/package.json`);
      }
      expect(entries).toContain('package/package.json');
      expect(entries).toContain('package/dist/esm/testing/emulator.bin.js');
    });

    it('marks each build with its module type', async () => {
      for (const [build, type] of [['esm', 'module'], ['cjs', 'commonjs']] as const) {
        const extracted = await runOk('tar -xzOf', 'tar', ['-xzOf', tarball, `package/dist/${build}/package.json`], workDir, 60_000);
        expect(JSON.parse(extracted.stdout)).toEqual({ type });
      }
    });

    it('holds no sources, tests, dependencies, sample app or specs', () => {
      const forbidden = entries.filter(
        (entry) =>
          /(^|\/)(src|test|node_modules|sample-app|bench|coverage)\//.test(entry) ||
          /\.spec\.|\.tgz$|\.tsbuildinfo$/.test(entry),
      );
      expect(forbidden).toEqual([]);
    });

    it('points every export, main, types, typesVersions and bin at a file it contains', async () => {
      const manifest = await packedManifest();
      const typesVersions = Object.values(manifest.typesVersions ?? {}).flatMap((map) => Object.values(map).flat());
      const targets = [
        ...exportTargets(manifest.exports),
        manifest.main,
        manifest.types,
        ...typesVersions,
        ...Object.values(binsOf(manifest)),
      ].filter((target): target is string => target !== undefined);
      expect(targets.length).toBeGreaterThan(0);
      const missing = targets.filter((target) => !entries.includes(join('package', target)));
      expect(missing).toEqual([]);
      for (const bin of Object.values(binsOf(manifest))) {
        const script = await runOk('tar -xzOf', 'tar', ['-xzOf', tarball, join('package', bin)], workDir, 60_000);
        expect(script.stdout.split('\n')[0], `${bin} needs a shebang`).toBe('#!/usr/bin/env node');
      }
    });

    // The maps name ../../src/*.ts (where a stack trace points in the repository);
    // the sources themselves are not embedded, to keep the tarball small.
    it('ships source maps without embedded sources', async () => {
      const maps = entries.filter((entry) => entry.endsWith('.js.map'));
      expect(maps.length).toBeGreaterThan(0);
      const embedding: string[] = [];
      for (const map of maps) {
        const extracted = await runOk('tar -xzOf', 'tar', ['-xzOf', tarball, map], workDir, 60_000);
        const parsed = JSON.parse(extracted.stdout) as { sources: string[]; sourcesContent?: unknown[] };
        if (parsed.sourcesContent !== undefined) embedding.push(map);
        expect(parsed.sources.every((source) => source.includes('src/')), map).toBe(true);
      }
      expect(embedding).toEqual([]);
    });

    it('has no import.meta or top-level await in the CommonJS build', async () => {
      const scripts = entries.filter((entry) => entry.startsWith('package/dist/cjs/') && entry.endsWith('.js'));
      const offending: string[] = [];
      for (const script of scripts) {
        const text = (await runOk('tar -xzOf', 'tar', ['-xzOf', tarball, script], workDir, 60_000)).stdout;
        if (/\bimport\.meta\b|^await\s/m.test(text)) offending.push(script);
      }
      expect(offending).toEqual([]);
    });

    it('passes attw (every entry point under node10, node16 from CJS and ESM, bundler)', async () => {
      const attw = await run(
        process.execPath,
        [join(REPO, 'node_modules', '@arethetypeswrong', 'cli', 'dist', 'index.js'), tarball, '--format', 'table-flipped'],
        workDir,
        SCRIPT_TIMEOUT_MS * 2,
      );
      expect(attw.code, describeRun('attw', attw)).toBe(0);
      expect(attw.stdout).toMatch(/No problems found/);
    });

    it('passes publint --strict', async () => {
      const staging = join(workDir, 'repo');
      const publint = await run(
        process.execPath,
        [join(REPO, 'node_modules', 'publint', 'src', 'cli.js'), '--strict', '--pack', 'npm'],
        staging,
        SCRIPT_TIMEOUT_MS * 2,
      );
      expect(publint.code, describeRun('publint', publint)).toBe(0);
      expect(publint.stdout).toMatch(/All good/);
    });
  });

  it('finds the README snippets (quick start and its test)', () => {
    expect(snippets.map((snippet) => snippet.target)).toEqual(expect.arrayContaining(['src/app.module.ts', 'test/app.e2e-spec.ts']));
  });

  describe.each([NEST12, NEST11])('in a Nest $nestMajor app made like `nest new` ($name)', (template) => {
    let dir: string;

    beforeAll(async () => {
      dir = await createConsumer(template, snippets);
      expect((await installedVersion(dir, '@nestjs/core')).split('.')[0]).toBe(String(template.nestMajor));
    }, HOOK_TIMEOUT);

    it("compiles the README's snippets with the template's tsconfig (tsc --noEmit)", SLOW, async () => {
      await templateTypeCheck(dir);
    });

    it("passes the README's testing snippet with the template's e2e runner", SLOW, async () => {
      const result = await npmRun(dir, 'test:e2e');
      // Vitest prints to stdout, Jest to stderr: one passing test either way.
      const output = stripVTControlCharacters(`${result.stdout}\n${result.stderr}`);
      expect(output).toMatch(/Tests:?\s+1 passed/);
    });

    it('builds and boots the quick start against the emulator bin, then stops on SIGTERM', SLOW, async () => {
      await bootAgainstEmulator(dir);
    });

    it('boots from ESM, handles replayed and live events, and exits on its own', SLOW, async () => {
      expectBooted(await runScript(dir, 'boot.mjs'), template.nestMajor, false);
    });

    it('registers its poll job with ScheduleModule when the app has it', SLOW, async () => {
      expectBooted(await runScript(dir, 'boot.mjs', ['--schedule']), template.nestMajor, true);
    });

    it('loads every entry point with require() (the CommonJS build)', SLOW, async () => {
      expectRequired(await runScript(dir, 'require.cjs'));
    });

    it('type-checks a decorated consumer against the published .d.ts files (nodenext)', SLOW, async () => {
      await fixtureTypeCheck(dir);
    });

    it('runs the emulator: --help, bad arguments exit 2; it serves, then stops cleanly on SIGINT', SLOW, async () => {
      const bin = join(dir, 'node_modules', '.bin', 'nestjs-tenancy-emulator');
      const help = await runOk('nestjs-tenancy-emulator --help', bin, ['--help'], dir, SCRIPT_TIMEOUT_MS);
      expect(help.stdout).toContain('nestjs-tenancy-emulator');
      const bad = await run(bin, ['--port', 'eighty'], dir, SCRIPT_TIMEOUT_MS);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('--port');

      const { emulator, url } = await startEmulator(dir, ['--seed', 'demo', '--controllers', 'pkg-controller']);
      try {
        const orgs = (await (await fetch(`${url}/v1/orgs`)).json()) as Array<{ name: string }>;
        expect(orgs.map((org) => org.name)).toEqual(['demo']);
        emulator.kill('SIGINT');
        expect(await emulator.exited).toBe(0);
      } finally {
        if (emulator.running()) emulator.kill('SIGKILL');
      }
    });
  });
});
