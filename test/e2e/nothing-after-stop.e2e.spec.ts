import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { MatchableRequest } from 'nestjs-tenancy/testing';
import { useFakeTenantManager } from '../support/fake-tenant-manager.harness.js';
import { waitFor } from '../support/wait-for.js';

const CONTROLLER = 'nothing-after-stop-controller';
const ROOT = resolve(import.meta.dirname, '../..');
// Inside the repository (git-ignored), so the child resolves @nestjs/* from node_modules.
const WORK = join(ROOT, '.tmp', `nothing-after-stop-${process.pid}`);

// The app under test, in plain JavaScript against the compiled library: decorators are
// applied by hand. It closes the app once handlers and status writes are under way,
// prints when close() resolved, and then must end by itself.
const CHILD = `
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { OnTenancyEvent, TenancyModule, TenancyPoller } from './dist/index.js';

const url = process.argv[2];
let handled = 0;
class Handler {
  async handle() {
    await new Promise((resolve) => setTimeout(resolve, 20));
    handled += 1;
  }
}
Injectable()(Handler);
OnTenancyEvent('org', 'created')(Handler.prototype, 'handle', Object.getOwnPropertyDescriptor(Handler.prototype, 'handle'));
class AppModule {}
Module({
  imports: [TenancyModule.forRoot({ url, controllerName: '${CONTROLLER}', pollInterval: 50, initialBackoff: 10, maxBackoff: 100, shutdownTimeout: 300 })],
  providers: [Handler],
})(AppModule);

const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
await app.get(TenancyPoller).whenReady();
while (handled < 10) await new Promise((resolve) => setTimeout(resolve, 5));
await app.close();
process.stdout.write('CLOSED ' + Date.now() + '\\n');
`;

describe('nothing after stop (e2e, child process)', () => {
  const tm = useFakeTenantManager(CONTROLLER);
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    mkdirSync(WORK, { recursive: true });
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    await promisify(execFile)(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', join(WORK, 'dist')], {
      cwd: ROOT,
    });
    writeFileSync(join(WORK, 'child.mjs'), CHILD);
  }, 120_000);
  afterEach(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    child = undefined;
  });
  afterAll(() => rmSync(WORK, { recursive: true, force: true }));

  it('once app.close() resolves, no fetch, handler start or status write leaves, and the process exits by itself', async () => {
    for (let i = 0; i < 300; i += 1) tm.fake.createOrg(`org-${i}`);
    // Status calls are slow, so writes are in flight and waiting when close() starts.
    tm.fake.delay(1_000, (r: MatchableRequest) => r.path === '/v1/status');
    const started = spawn(process.execPath, [join(WORK, 'child.mjs'), tm.url], { cwd: WORK, stdio: ['ignore', 'pipe', 'pipe'] });
    child = started;
    let stdout = '';
    let stderr = '';
    started.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    started.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<{ code: number | null; at: number }>((done) =>
      started.once('exit', (code) => done({ code, at: Date.now() })),
    );
    await waitFor(() => /CLOSED \d+/.test(stdout) || started.exitCode !== null, {
      timeout: 20_000,
      message: 'the child closes its app',
    });
    expect(stderr).toBe('');
    const closedAt = Number(/CLOSED (\d+)/.exec(stdout)![1]);
    // Exits on its own: no socket or timer keeps it alive (today a socket held it ~30 s).
    const exit = await Promise.race([exited, new Promise<null>((done) => setTimeout(() => done(null), 5_000))]);
    expect(exit, 'the child exits by itself within 5 s of close()').not.toBeNull();
    expect(exit!.code).toBe(0);
    expect(tm.fake.requests.some((r) => r.path === '/v1/status')).toBe(true);
    // Nothing arrived after close() resolved: no status write, no fetch.
    const late = tm.fake.requests.filter((r) => r.at > closedAt).map((r) => `${r.method} ${r.path} +${r.at - closedAt} ms`);
    expect(late).toEqual([]);
  }, 60_000);
});
