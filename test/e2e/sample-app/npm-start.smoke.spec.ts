import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEMO_ORG, DEMO_PROJECTS } from 'nestjs-tenancy/testing';
import { waitFor } from '../../support/wait-for.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');

/** A port that was free a moment ago: listen on 0, read it, close. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The demo projects `GET /tenants` lists, or [] while the app is not up. */
async function listedDemoProjects(url: string): Promise<string[]> {
  try {
    const response = await fetch(url);
    if (!response.ok) return [];
    const body = (await response.json()) as { orgs: Array<{ name: string; projects: Array<{ name: string }> }> };
    return (body.orgs.find((org) => org.name === DEMO_ORG)?.projects ?? []).map((project) => project.name).sort();
  } catch {
    return []; // not listening yet (still building)
  }
}

describe('npm start (smoke)', () => {
  let child: ChildProcess | undefined;
  let dataDir: string | undefined;

  afterEach(async () => {
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
    child = undefined;
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
    dataDir = undefined;
  });

  it(
    'builds, provisions the demo tenants from the embedded emulator, and exits 0 on SIGTERM',
    // It builds the library and the sample first: generous, but bounded.
    { timeout: 180_000 },
    async () => {
      const port = await freePort();
      const emulatorPort = await freePort();
      dataDir = await mkdtemp(join(tmpdir(), 'nestjs-tenancy-npm-start-'));
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        PORT: String(port),
        EMULATOR_PORT: String(emulatorPort),
        DATA_DIR: dataDir,
        NO_COLOR: '1',
      };
      delete env['TENANT_MANAGER_URL'];
      let output = '';
      const started = spawn(process.execPath, ['scripts/start.js'], {
        cwd: ROOT,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child = started;
      // Lowest CPU priority (inherited by the tsc builds it spawns): on a small machine
      // the builds would otherwise starve the timing-sensitive e2e tests running beside it.
      if (started.pid !== undefined) setPriority(started.pid, 19);
      started.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      started.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        started.once('exit', (code, signal) => resolve({ code, signal })),
      );

      const tenantsUrl = `http://127.0.0.1:${port}/tenants`;
      let projects: string[] = [];
      await waitFor(
        async () => {
          if (started.exitCode !== null || started.signalCode !== null) {
            throw new Error(`npm start exited early (${started.exitCode ?? started.signalCode})`);
          }
          projects = await listedDemoProjects(tenantsUrl);
          return projects.length === DEMO_PROJECTS.length;
        },
        { timeout: 120_000, interval: 250, message: `GET ${tenantsUrl} never listed the demo projects` },
      ).catch((error: Error) => {
        // The output so far is what explains a failure (a build error, a port in use).
        throw new Error(`${error.message}; output:\n${output}`);
      });
      expect(projects).toEqual([...DEMO_PROJECTS].sort());
      expect(output).toMatch(/replay fetched 4 event\(s\) in \d+ ms, queued 4/);
      expect(output).toContain('project "demo/alpha": new workspace provisioned [replay]');

      started.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const result = await Promise.race([
        exit,
        new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), 15_000))),
      ]);
      clearTimeout(timer);
      expect(result, output).toEqual({ code: 0, signal: null });
      expect(output).toContain('emulator stopped');
    },
  );
});
