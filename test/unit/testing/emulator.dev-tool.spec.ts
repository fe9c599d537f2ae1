// The emulator as a day-to-day dev tool: --data keeps state across restarts, a
// warning without --controllers, request lines only with --verbose, and the
// --token value never printed.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { emulatorMain, type RunningEmulator } from '../../../src/testing/emulator.cli.js';
import { waitFor } from '../../support/wait-for.js';

const CONTROLLER = 'dev-controller';

describe('the emulator as a dev tool', () => {
  const running: RunningEmulator[] = [];
  let dir: string;
  let dataFile: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nestjs-tenancy-emulator-'));
    dataFile = join(dir, 'state.json');
  });

  afterEach(async () => {
    await Promise.all(running.splice(0).map((emulator) => emulator.stop()));
    await rm(dir, { recursive: true, force: true });
  });

  /** Runs the CLI with `argv` on a free port; resolves to the emulator and everything it printed. */
  async function start(argv: readonly string[]): Promise<{ emulator: RunningEmulator; out: string[]; err: string[] }> {
    const out: string[] = [];
    const err: string[] = [];
    const result = await emulatorMain(['--port', '0', ...argv], { out: (line) => out.push(line), err: (line) => err.push(line) });
    if (typeof result === 'number') throw new Error(`the emulator exited with ${result}: ${err.join('\n')}`);
    running.push(result);
    return { emulator: result, out, err };
  }

  async function stop(emulator: RunningEmulator): Promise<void> {
    running.splice(running.indexOf(emulator), 1);
    await emulator.stop();
  }

  async function events(url: string, after: number): Promise<Array<{ id: number; resourceName: string }>> {
    const response = await fetch(`${url}/v1/events?controller=${CONTROLLER}&after=${after}&limit=100`);
    expect(response.status).toBe(200);
    return ((await response.json()) as { events: Array<{ id: number; resourceName: string }> }).events;
  }

  describe('--data FILE', () => {
    it('keeps orgs, projects, status rows and the event log across a restart; ids continue', async () => {
      const first = await start(['--data', dataFile, '--seed', 'demo', '--controllers', CONTROLLER]);
      expect(first.out).toContain(`state file ${dataFile} does not exist yet: starting from seed "demo"`);
      const url1 = first.emulator.url;
      expect((await fetch(`${url1}/v1/projects/delta?org=demo`, { method: 'PUT' })).status).toBe(200);
      const delta = first.emulator.fake.project('demo', 'delta');
      expect(delta).toBeDefined();
      const put = await fetch(`${url1}/v1/status`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ controller: CONTROLLER, resourceType: 'project', resourceId: delta?.id, status: 'completed' }),
      });
      expect(put.status).toBe(200);
      const lastBefore = first.emulator.fake.lastEventId;
      expect(lastBefore).toBe(5); // demo, alpha, beta, gamma, delta
      await stop(first.emulator);

      // --seed again: ignored, the file wins (no "org exists" conflict).
      const second = await start(['--data', dataFile, '--seed', 'demo', '--controllers', CONTROLLER]);
      expect(second.out[0]).toBe(
        `restored 1 orgs, 4 projects and 5 events (last event id 5) from ${dataFile}; --seed demo is ignored`,
      );
      const fake = second.emulator.fake;
      expect(fake.lastEventId).toBe(lastBefore);
      expect(fake.project('demo', 'delta')?.id).toBe(delta?.id);
      expect(fake.statusOf(CONTROLLER, 'project', delta?.id ?? '')?.status).toBe('completed');
      expect((await events(second.emulator.url, 0)).map((event) => event.resourceName)).toEqual([
        'demo',
        'alpha',
        'beta',
        'gamma',
        'delta',
      ]);

      // A client that stopped at after=5 sees the next event as id 6, not a fresh log.
      expect((await fetch(`${second.emulator.url}/v1/projects/epsilon?org=demo`, { method: 'PUT' })).status).toBe(200);
      expect(await events(second.emulator.url, lastBefore)).toMatchObject([{ id: 6, resourceName: 'epsilon' }]);
    });

    it('writes changes while running, atomically (no temporary file is left behind)', async () => {
      const { emulator } = await start(['--data', dataFile, '--controllers', CONTROLLER]);
      emulator.fake.createOrg('acme');
      emulator.fake.createProject('acme', 'web');
      const saved = async () => JSON.parse(await readFile(dataFile, 'utf8')) as { lastEventId: number };
      await waitFor(async () => (await saved()).lastEventId === 2, { message: 'the state file to reach event 2' });
      await stop(emulator);
      expect(await readdir(dir)).toEqual(['state.json']);
    });

    it('refuses a state file it cannot use, naming the file and the problem (exit 1)', async () => {
      await writeFile(dataFile, '{"version": 7}');
      const err: string[] = [];
      const code = await emulatorMain(['--port', '0', '--data', dataFile], { out: () => {}, err: (line) => err.push(line) });
      expect(code).toBe(1);
      expect(err[0]).toBe(
        `nestjs-tenancy-emulator: cannot start: cannot use state file ${dataFile}: unsupported version 7 (expected 1)`,
      );

      await writeFile(dataFile, 'not json');
      const again: string[] = [];
      expect(await emulatorMain(['--port', '0', '--data', dataFile], { out: () => {}, err: (line) => again.push(line) })).toBe(1);
      expect(again[0]).toContain(`cannot use state file ${dataFile}: not JSON`);
    });
  });

  it('warns when no --controllers are registered, and not when some are', async () => {
    const without = await start([]);
    expect(without.out.filter((line) => line.startsWith('warning:'))).toEqual([
      'warning: no --controllers registered, so every org and project status reads IDLE at once and deleted ' +
        'resources are hard-deleted without waiting; pass --controllers <your controller name>',
    ]);
    const withOne = await start(['--controllers', CONTROLLER]);
    expect(withOne.out.filter((line) => line.startsWith('warning:'))).toEqual([]);
  });

  it('logs one line per request only with --verbose', async () => {
    const quiet = await start(['--controllers', CONTROLLER]);
    const loud = await start(['--controllers', CONTROLLER, '--verbose']);
    for (const { emulator } of [quiet, loud]) expect((await fetch(`${emulator.url}/v1/orgs`)).status).toBe(200);
    await waitFor(() => loud.out.some((line) => line.startsWith('GET /v1/orgs 200')), { message: 'the verbose request line' });
    expect(quiet.emulator.fake.requestCount).toBe(1);
    expect(quiet.out.filter((line) => line.startsWith('GET '))).toEqual([]);
  });

  it('never prints the --token value', async () => {
    const { emulator, out, err } = await start(['--controllers', CONTROLLER, '--token', 's3cret-value', '--verbose']);
    const response = await fetch(`${emulator.url}/v1/events?controller=${CONTROLLER}&replay=true`, {
      headers: { 'X-Internal-Token': 's3cret-value' },
    });
    expect(response.status).toBe(200);
    await waitFor(() => out.some((line) => line.startsWith('GET /v1/events')), { message: 'the request line' });
    expect(out.some((line) => line.includes('X-Internal-Token: <the --token value>'))).toBe(true);
    expect([...out, ...err].filter((line) => line.includes('s3cret-value'))).toEqual([]);
  });
});
