// The packaging tier: what `npm publish` would ship, installed and used the way a
// consumer would. Builds and packs the library once, then installs the tarball into
// throwaway Nest 12 and Nest 11 apps and runs plain JS/TS fixtures from ./fixtures
// against it. Needs the npm registry (or a warm npm cache); slow by design.
//
// The build runs in a private copy of the repository (node_modules linked), not in
// the repo's own dist/: other specs (the `npm start` smoke test) build into dist/ in
// parallel workers, and `npm run build` starts by deleting it.
//
// Set NESTJS_TENANCY_KEEP_PKG_TMP=1 to keep the temporary directories for debugging.
import { execFile, spawn } from 'node:child_process';
import { copyFile, cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/wait-for.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
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

/** Creates `<workDir>/<name>` as an ESM app and installs the tarball plus `deps` into it. */
async function createConsumer(name: string, deps: readonly string[]): Promise<string> {
  const dir = join(workDir, name);
  await mkdir(dir);
  await writeFile(
    join(dir, 'package.json'),
    `${JSON.stringify({ name, version: '0.0.0', private: true, type: 'module' }, null, 2)}\n`,
  );
  const install = await runOk(`npm install (${name})`, 'npm', [...INSTALL_FLAGS, tarball, ...deps], dir, INSTALL_TIMEOUT_MS);
  console.log(`[package] ${name}: npm install took ${seconds(install.ms)} (${deps.join(' ')})`);
  // Peers the tarball declares must be satisfied as installed, not just resolvable.
  await runOk(`npm ls --all (${name})`, 'npm', ['ls', '--all'], dir, 60_000);
  for (const fixture of ['boot.mjs', 'require.cjs']) await copyFile(join(FIXTURES, fixture), join(dir, fixture));
  return dir;
}

/** Copies the type-level fixture in and runs the consumer's own `tsc --noEmit` on it. */
async function typeCheck(dir: string, name: string): Promise<void> {
  await copyFile(join(FIXTURES, 'consumer-types.ts'), join(dir, 'consumer-types.ts'));
  await copyFile(join(FIXTURES, 'consumer-tsconfig.json'), join(dir, 'tsconfig.json'));
  const tsc = await runOk(
    `tsc --noEmit (${name})`,
    process.execPath,
    [join(dir, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'],
    dir,
    SCRIPT_TIMEOUT_MS * 2,
  );
  console.log(`[package] ${name}: tsc --noEmit took ${seconds(tsc.ms)}`);
}

/** TypeScript and Node types for the type check, at the versions this repo builds with. */
async function typeDeps(): Promise<string[]> {
  const manifest = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as {
    devDependencies: Record<string, string>;
  };
  return ['typescript@^6', `@types/node@${manifest.devDependencies['@types/node'] ?? '*'}`];
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
  });
  expect(result['deepRequire']).toBe('ERR_PACKAGE_PATH_NOT_EXPORTED');
}

describe('the published package', () => {
  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'nestjs-tenancy-pkg-'));
    const staging = join(workDir, 'repo');
    await stageRepo(staging);
    version = (JSON.parse(await readFile(join(staging, 'package.json'), 'utf8')) as { version: string }).version;
    const build = await runOk('npm run build', 'npm', ['run', 'build'], staging, INSTALL_TIMEOUT_MS);
    const packDir = join(workDir, 'pack');
    await mkdir(packDir);
    const pack = await runOk('npm pack', 'npm', ['pack', '--pack-destination', packDir], staging, INSTALL_TIMEOUT_MS);
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
    it('holds both entry points, their types and the manifest', () => {
      for (const entry of [
        'package/package.json',
        'package/dist/index.js',
        'package/dist/index.d.ts',
        'package/dist/testing/index.js',
        'package/dist/testing/index.d.ts',
      ]) {
        expect(entries, entry).toContain(entry);
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

    it('points every export, main, types and bin at a file it contains', async () => {
      const manifest = await packedManifest();
      const targets = [
        ...exportTargets(manifest.exports),
        manifest.main,
        manifest.types,
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

    // Source maps point at ../src/*.ts, which the tarball does not ship, so the
    // build inlines the sources (tsconfig.build.json "inlineSources").
    it('ships source maps that resolve without src/', async () => {
      const maps = entries.filter((entry) => entry.endsWith('.js.map'));
      const unresolved: string[] = [];
      for (const map of maps) {
        const extracted = await runOk('tar -xzOf', 'tar', ['-xzOf', tarball, map], workDir, 60_000);
        const parsed = JSON.parse(extracted.stdout) as { sources: string[]; sourcesContent?: unknown[] };
        if (parsed.sourcesContent?.length === parsed.sources.length) continue;
        const dir = map.slice(0, map.lastIndexOf('/'));
        for (const source of parsed.sources) {
          if (!entries.includes(join(dir, source))) unresolved.push(`${map} -> ${source}`);
        }
      }
      expect(unresolved).toEqual([]);
    });
  });

  describe('in a Nest 12 app', () => {
    let dir: string;

    beforeAll(async () => {
      dir = await createConsumer('consumer-nest12', [
        '@nestjs/common@^12',
        '@nestjs/core@^12',
        '@nestjs/schedule@^12',
        'reflect-metadata',
        'rxjs',
        ...(await typeDeps()),
      ]);
      expect((await installedVersion(dir, '@nestjs/core')).split('.')[0]).toBe('12');
    }, HOOK_TIMEOUT);

    it('boots from ESM, handles replayed and live events, and exits on its own', SLOW, async () => {
      expectBooted(await runScript(dir, 'boot.mjs'), 12, false);
    });

    it('registers its poll job with ScheduleModule when the app has it', SLOW, async () => {
      expectBooted(await runScript(dir, 'boot.mjs', ['--schedule']), 12, true);
    });

    it('loads both entry points with require()', SLOW, async () => {
      expectRequired(await runScript(dir, 'require.cjs'));
    });

    it('runs its bin scripts through node_modules/.bin (--help)', SLOW, async (context) => {
      const bins = Object.keys(binsOf(await packedManifest()));
      if (bins.length === 0) context.skip();
      for (const bin of bins) {
        const help = await runOk(`${bin} --help`, join(dir, 'node_modules', '.bin', bin), ['--help'], dir, SCRIPT_TIMEOUT_MS);
        expect(help.stdout).toContain(bin);
      }
    });

    it('runs the emulator: bad arguments exit 2; it serves, then stops cleanly on SIGINT', SLOW, async () => {
      const emulator = join(dir, 'node_modules', '.bin', 'nestjs-tenancy-emulator');
      const bad = await run(emulator, ['--port', 'eighty'], dir, SCRIPT_TIMEOUT_MS);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('--port');

      const child = spawn(emulator, ['--port', '0', '--seed', 'demo', '--controllers', 'pkg-controller'], {
        cwd: dir,
        env: childEnv(),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      try {
        let output = '';
        child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
        const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
        const listening = () => /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
        await waitFor(() => listening() !== undefined || child.exitCode !== null, {
          timeout: SCRIPT_TIMEOUT_MS,
          message: 'the emulator to print its URL',
        });
        const url = listening();
        expect(url, `emulator output: ${output}`).toBeDefined();
        const orgs = (await (await fetch(`${url}/v1/orgs`)).json()) as Array<{ name: string }>;
        expect(orgs.map((org) => org.name)).toEqual(['demo']);
        child.kill('SIGINT');
        expect(await exited).toBe(0);
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL');
      }
    });

    it('type-checks a decorated consumer against the published .d.ts files', SLOW, async () => {
      await typeCheck(dir, 'consumer-nest12');
    });
  });

  describe('in a Nest 11 app', () => {
    let dir: string;

    beforeAll(async () => {
      dir = await createConsumer('consumer-nest11', [
        '@nestjs/common@^11',
        '@nestjs/core@^11',
        '@nestjs/schedule@^6',
        'reflect-metadata',
        'rxjs',
        ...(await typeDeps()),
      ]);
      expect((await installedVersion(dir, '@nestjs/core')).split('.')[0]).toBe('11');
    }, HOOK_TIMEOUT);

    it('boots from ESM, handles replayed and live events, and exits on its own', SLOW, async () => {
      expectBooted(await runScript(dir, 'boot.mjs'), 11, false);
    });

    it('registers its poll job with ScheduleModule when the app has it', SLOW, async () => {
      expectBooted(await runScript(dir, 'boot.mjs', ['--schedule']), 11, true);
    });

    it('loads both entry points with require()', SLOW, async () => {
      expectRequired(await runScript(dir, 'require.cjs'));
    });

    it('type-checks a decorated consumer against the published .d.ts files', SLOW, async () => {
      await typeCheck(dir, 'consumer-nest11');
    });
  });
});
