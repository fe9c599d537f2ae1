import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeTenantManager } from 'nestjs-tenancy/testing';
import {
  EMULATOR_USAGE,
  emulatorMain,
  EmulatorUsageError,
  parseEmulatorArgs,
  type RunningEmulator,
  runEmulator,
} from '../../../src/testing/emulator.cli.js';
import { waitFor } from '../../support/wait-for.js';

function options(argv: string[]) {
  const command = parseEmulatorArgs(argv);
  if (command.help) throw new Error('expected options, got help');
  return command.options;
}

function usageError(argv: string[]): string {
  try {
    parseEmulatorArgs(argv);
  } catch (error) {
    expect(error).toBeInstanceOf(EmulatorUsageError);
    return (error as Error).message;
  }
  throw new Error(`expected a usage error for ${JSON.stringify(argv)}`);
}

describe('parseEmulatorArgs', () => {
  it('defaults to 127.0.0.1:8080, no controllers, cleanup every second, no retention', () => {
    expect(options([])).toEqual({
      port: 8080,
      host: '127.0.0.1',
      controllers: { org: [], project: [] },
      seed: undefined,
      token: undefined,
      defaultOrg: undefined,
      cleanupInterval: 1000,
      eventRetention: false,
      dataFile: undefined,
      verbose: false,
    });
  });

  it('reads every option', () => {
    expect(
      options([
        '--port',
        '9090',
        '--host',
        '0.0.0.0',
        '--controllers',
        'sample-controller, other,org:org-only,project:proj-only',
        '--seed',
        'demo',
        '--token',
        's3cret',
        '--default-org',
        'demo',
        '--cleanup-interval',
        '250',
        '--event-retention=60000',
        '--data',
        'state.json',
        '--verbose',
      ]),
    ).toEqual({
      port: 9090,
      host: '0.0.0.0',
      controllers: {
        org: ['sample-controller', 'other', 'org-only'],
        project: ['sample-controller', 'other', 'proj-only'],
      },
      seed: 'demo',
      token: 's3cret',
      defaultOrg: 'demo',
      cleanupInterval: 250,
      eventRetention: 60000,
      dataFile: 'state.json',
      verbose: true,
    });
  });

  it('turns 0 periods into "disabled" and accepts port 0', () => {
    expect(options(['--cleanup-interval', '0', '--event-retention', '0', '--port', '0'])).toMatchObject({
      port: 0,
      cleanupInterval: false,
      eventRetention: false,
    });
  });

  it('answers help for --help and -h', () => {
    expect(parseEmulatorArgs(['--help'])).toEqual({ help: true });
    expect(parseEmulatorArgs(['-h', '--port', '1'])).toEqual({ help: true });
  });

  it.each([
    [['--bogus'], 'unknown option --bogus'],
    [['--port', 'abc'], '--port must be an integer from 0 to 65535, got "abc"'],
    [['--port', '70000'], '--port must be an integer from 0 to 65535, got "70000"'],
    [['--port=-1'], '--port must be an integer from 0 to 65535, got "-1"'],
    [['--port', '-1'], "Option '--port' argument is ambiguous"],
    [['--cleanup-interval', '1.5'], '--cleanup-interval must be an integer'],
    [['--seed', 'huge'], 'unknown seed "huge" (known: demo)'],
    [['--controllers', 'a,org:'], '--controllers: empty name in "org:"'],
    [['--token', ''], '--token must not be empty'],
    [['--host', ''], '--host must not be empty'],
    [['extra'], 'extra'],
    [['--port'], '--port'],
  ])('rejects %j', (argv, message) => {
    expect(usageError(argv)).toContain(message);
  });
});

describe('emulatorMain and runEmulator', () => {
  const running: RunningEmulator[] = [];
  const fakes: FakeTenantManager[] = [];
  afterEach(async () => {
    await Promise.all([...running.splice(0), ...fakes.splice(0)].map((item) => item.stop()));
  });

  function capture() {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, io: { out: (line: string) => out.push(line), err: (line: string) => err.push(line) } };
  }

  it('prints usage for --help and exits 0', async () => {
    const { out, err, io } = capture();
    expect(await emulatorMain(['--help'], io)).toBe(0);
    expect(out).toEqual([EMULATOR_USAGE]);
    expect(EMULATOR_USAGE).toMatch(/^Usage: nestjs-tenancy-emulator \[options\]/);
    expect(err).toEqual([]);
  });

  it('reports a bad argument on stderr and exits 2', async () => {
    const { out, err, io } = capture();
    expect(await emulatorMain(['--port', 'x'], io)).toBe(2);
    expect(err).toEqual([
      'nestjs-tenancy-emulator: --port must be an integer from 0 to 65535, got "x"',
      'Run nestjs-tenancy-emulator --help for usage.',
    ]);
    expect(out).toEqual([]);
  });

  it('exits 1 when the port is taken', async () => {
    const blocker = new FakeTenantManager();
    fakes.push(blocker);
    await blocker.start();
    const { err, io } = capture();
    expect(await emulatorMain(['--port', new URL(blocker.url).port], io)).toBe(1);
    expect(err[0]).toMatch(/^nestjs-tenancy-emulator: cannot start: .*EADDRINUSE/);
  });

  it('starts a seeded emulator, prints its URL and a curl hint, and with --verbose logs requests', async () => {
    const { out, io } = capture();
    const result = await emulatorMain(
      ['--port', '0', '--seed', 'demo', '--controllers', 'sample-controller', '--token', 's3cret', '--verbose'],
      io,
    );
    if (typeof result === 'number') throw new Error(`exited with ${result}`);
    running.push(result);
    expect(result.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(out).toEqual([
      `nestjs-tenancy-emulator listening on ${result.url}`,
      `try: curl -s -H 'X-Internal-Token: <the --token value>' '${result.url}/v1/events?controller=sample-controller&replay=true'`,
    ]);

    const res = await fetch(`${result.url}/v1/events?controller=sample-controller&replay=true`, {
      headers: { 'X-Internal-Token': 's3cret' },
    });
    const body = (await res.json()) as { events: Array<{ resourceName: string; orgName: string | null }> };
    expect(body.events.map((e) => e.resourceName)).toEqual(['demo', 'alpha', 'beta', 'gamma']);
    expect(body.events.slice(1).every((e) => e.orgName === 'demo')).toBe(true);
    await waitFor(() => out.length === 3);
    expect(out[2]).toMatch(/^GET \/v1\/events\?controller=sample-controller&replay=true 200 \d+\.\dms$/);
    // Standalone runs keep no request log.
    expect(result.fake.requests).toEqual([]);
    expect(result.fake.derivedStatus('project', 'alpha', 'demo')?.projectStatus.message).toBe(
      'waiting for: sample-controller',
    );
  });

  it('runEmulator wires cleanup and the default org', async () => {
    const lines: string[] = [];
    const emulator = await runEmulator(
      { ...options(['--port', '0', '--default-org', 'home', '--cleanup-interval', '10']) },
      (line) => lines.push(line),
    );
    running.push(emulator);
    expect(lines[1]).toBe(`try: curl -s '${emulator.url}/v1/events?controller=my-controller&replay=true'`);
    emulator.fake.createOrg('home');
    expect((await fetch(`${emulator.url}/v1/projects/web`, { method: 'PUT' })).status).toBe(200);
    expect(emulator.fake.project('home', 'web')).toBeDefined();
    emulator.fake.deleteOrg('home');
    await waitFor(() => emulator.fake.org('home') === undefined, { message: 'cleanup timer hard-deleted the org' });
    await emulator.stop();
    await emulator.stop();
    expect(() => emulator.fake.url).toThrow();
  });

  it('is published as the nestjs-tenancy-emulator bin', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
      bin: Record<string, string>;
    };
    expect(pkg.bin).toEqual({ 'nestjs-tenancy-emulator': './dist/esm/testing/emulator.bin.js' });
    const source = readFileSync(new URL('../../../src/testing/emulator.bin.ts', import.meta.url), 'utf8');
    expect(source.startsWith('#!/usr/bin/env node\n')).toBe(true);
  });
});
