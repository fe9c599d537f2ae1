import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TenancyPoller } from 'nestjs-tenancy';
import { FakeTenantManager } from 'nestjs-tenancy/testing';
import { AppModule } from '../../../sample-app/src/app.module.js';
import { ProvisioningService } from '../../../sample-app/src/provisioning/provisioning.service.js';
import { SampleConfig } from '../../../sample-app/src/config/sample.config.js';
import type { TenantsResponse } from '../../../sample-app/src/provisioning/tenants.controller.js';
import { CapturingLogger } from '../../support/tenancy-test-app.js';
import { waitFor } from '../../support/wait-for.js';

const CONTROLLER = 'sample-controller';

interface RunningSample {
  readonly app: INestApplication;
  /** e.g. `http://127.0.0.1:41234` */
  readonly url: string;
  readonly logs: CapturingLogger;
  readonly poller: TenancyPoller;
  readonly provisioning: ProvisioningService;
}

/** A JSON request to one of the servers; the body is parsed when there is one. */
async function call(method: string, url: string): Promise<{ status: number; body: any }> {
  const response = await fetch(url, { method });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

/** Every path under `dir`, relative and sorted: proves nothing was added or duplicated. */
async function tree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true });
  return entries.map((entry) => relative(dir, join(dir, entry))).sort();
}

describe('sample app (e2e)', () => {
  let fake: FakeTenantManager;
  let tmUrl: string;
  let dataDir: string;
  let running: RunningSample[] = [];

  /** Boots the sample app the way main.ts does, on a random loopback port. */
  async function startSample(): Promise<RunningSample> {
    const logs = new CapturingLogger();
    const config = new SampleConfig({ tenantManagerUrl: tmUrl, controllerName: CONTROLLER, dataDir, pollInterval: 50 });
    // The app's own configuration provider, replaced as a test of a real app would.
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] })
      .overrideProvider(SampleConfig)
      .useValue(config)
      .setLogger(logs)
      .compile();
    const app = moduleRef.createNestApplication({ logger: logs });
    const sample: RunningSample = {
      app,
      url: '',
      logs,
      poller: app.get(TenancyPoller),
      provisioning: app.get(ProvisioningService),
    };
    running.push(sample);
    await app.listen(0, '127.0.0.1');
    return { ...sample, url: await app.getUrl() };
  }

  async function stopSample(sample: RunningSample): Promise<void> {
    running = running.filter((other) => other.app !== sample.app);
    await sample.app.close();
  }

  const fakeApi = (method: string, path: string) => call(method, `${tmUrl}${path}`);
  const projectStatus = async (name: string, org: string): Promise<string> =>
    (await fakeApi('GET', `/v1/projects/${name}/status?org=${org}`)).body.projectStatus.statusIndicator;
  const orgStatus = async (name: string): Promise<string> =>
    (await fakeApi('GET', `/v1/orgs/${name}/status`)).body.orgStatus.statusIndicator;

  const orgDir = (org: string) => join(dataDir, fake.org(org)!.id);
  const projectDir = (org: string, project: string) =>
    join(orgDir(org), 'projects', fake.project(org, project)!.id);

  /** Creates org `acme` with projects `web` and `api` through the public API and waits until all are provisioned. */
  async function provisionAcme(sample: RunningSample): Promise<void> {
    expect((await fakeApi('PUT', '/v1/orgs/acme')).status).toBe(200);
    expect((await fakeApi('PUT', '/v1/projects/web?org=acme')).status).toBe(200);
    expect((await fakeApi('PUT', '/v1/projects/api?org=acme')).status).toBe(200);
    await waitFor(
      async () =>
        (await exists(join(orgDir('acme'), 'org.json'))) &&
        (await exists(join(projectDir('acme', 'web'), 'manifest.json'))) &&
        (await exists(join(projectDir('acme', 'api'), 'manifest.json'))),
      { message: 'workspaces of acme, web and api never appeared on disk' },
    );
    await waitFor(async () => (await projectStatus('api', 'acme')) === 'STATUS_INDICATION_IDLE');
    await sample.poller.whenIdle();
  }

  /** The raw manifests of acme, web and api: byte-equal means nothing was rewritten. */
  const readManifests = () =>
    Promise.all(
      [
        join(orgDir('acme'), 'org.json'),
        join(projectDir('acme', 'web'), 'manifest.json'),
        join(projectDir('acme', 'api'), 'manifest.json'),
      ].map((file) => readFile(file, 'utf8')),
    );

  beforeEach(async () => {
    fake = new FakeTenantManager({ controllers: [CONTROLLER] });
    tmUrl = await fake.start();
    dataDir = await mkdtemp(join(tmpdir(), 'nestjs-tenancy-sample-'));
  });

  afterEach(async () => {
    for (const sample of running.splice(0).reverse()) await sample.app.close();
    await fake.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('provisions workspaces for orgs and projects created through the public API and lists them', async () => {
    const sample = await startSample();
    await sample.poller.whenReady();
    await provisionAcme(sample);

    const org = fake.org('acme')!;
    const web = fake.project('acme', 'web')!;
    const orgManifest = JSON.parse(await readFile(join(orgDir('acme'), 'org.json'), 'utf8'));
    expect(orgManifest).toEqual({ id: org.id, name: 'acme', provisionedAt: expect.any(String) });
    const webManifest = JSON.parse(await readFile(join(projectDir('acme', 'web'), 'manifest.json'), 'utf8'));
    expect(webManifest).toEqual({
      id: web.id,
      name: 'web',
      org: { id: org.id, name: 'acme' },
      provisionedAt: expect.any(String),
    });
    expect(Number.isNaN(Date.parse(webManifest.provisionedAt))).toBe(false);
    expect(await tree(projectDir('acme', 'web'))).toEqual(['config', 'data', 'manifest.json']);

    const tenants = await call('GET', `${sample.url}/tenants`);
    expect(tenants.status).toBe(200);
    expect(tenants.body as TenantsResponse).toEqual({
      orgs: [
        {
          id: org.id,
          name: 'acme',
          provisionedAt: orgManifest.provisionedAt,
          projects: [
            { id: fake.project('acme', 'api')!.id, name: 'api', provisionedAt: expect.any(String) },
            { id: web.id, name: 'web', provisionedAt: webManifest.provisionedAt },
          ],
        },
      ],
    });

    expect(await projectStatus('web', 'acme')).toBe('STATUS_INDICATION_IDLE');
    expect(await orgStatus('acme')).toBe('STATUS_INDICATION_IDLE');
    expect(sample.provisioning.counters).toEqual({ created: 3, alreadyPresent: 0, removed: 0, alreadyAbsent: 0 });
    const provisioned = sample.logs.lines.filter((line) => line.message.endsWith('new workspace provisioned [live]'));
    expect(provisioned).toHaveLength(3);
  });

  it('removes a deleted project, which the Tenant Manager then hard-deletes', async () => {
    const sample = await startSample();
    await sample.poller.whenReady();
    await provisionAcme(sample);
    const webDir = projectDir('acme', 'web');

    expect((await fakeApi('DELETE', '/v1/projects/web?org=acme')).status).toBe(200);
    await waitFor(async () => !(await exists(webDir)), { message: `${webDir} was never removed` });
    // The status row goes after the handler succeeded; then nothing holds the project back.
    await waitFor(async () => (await projectStatus('web', 'acme')) === 'STATUS_INDICATION_DELETED');
    expect((await fakeApi('GET', '/v1/projects/web?org=acme')).status).toBe(200);

    expect(fake.runCleanup()).toEqual({ projects: 1, orgs: 0 });
    expect((await fakeApi('GET', '/v1/projects/web?org=acme')).status).toBe(404);
    const tenants = (await call('GET', `${sample.url}/tenants`)).body as TenantsResponse;
    expect(tenants.orgs.map((org) => org.projects.map((project) => project.name))).toEqual([['api']]);
    // Nothing was left behind next to the remaining project (temp or trash entries).
    expect(await readdir(join(orgDir('acme'), 'projects'))).toEqual([fake.project('acme', 'api')!.id]);
  });

  it('removes the whole org workspace when the org is deleted', async () => {
    const sample = await startSample();
    await sample.poller.whenReady();
    await provisionAcme(sample);
    const acmeDir = orgDir('acme');

    expect((await fakeApi('DELETE', '/v1/orgs/acme')).status).toBe(200);
    await waitFor(async () => (await orgStatus('acme')) === 'STATUS_INDICATION_DELETED');
    expect(await exists(acmeDir)).toBe(false);
    await sample.poller.whenIdle();
    expect(sample.provisioning.counters).toMatchObject({ removed: 3, alreadyAbsent: 0 });

    expect(fake.runCleanup()).toEqual({ projects: 2, orgs: 1 });
    expect((await fakeApi('GET', '/v1/orgs/acme')).status).toBe(404);
    expect((await call('GET', `${sample.url}/tenants`)).body).toEqual({ orgs: [] });
    expect(await readdir(dataDir)).toEqual([]);
  });

  it('a restart replays everything without redoing any work', async () => {
    const first = await startSample();
    await first.poller.whenReady();
    await provisionAcme(first);
    const before = {
      tenants: (await call('GET', `${first.url}/tenants`)).body,
      files: await tree(dataDir),
      manifests: await readManifests(),
    };
    await stopSample(first);

    const second = await startSample();
    await second.poller.whenReady();
    await second.poller.whenIdle();

    expect(second.provisioning.counters).toEqual({ created: 0, alreadyPresent: 3, removed: 0, alreadyAbsent: 0 });
    const alreadyPresent = second.logs.lines.filter((line) => line.message.includes('already present'));
    expect(alreadyPresent.map((line) => line.message.split(':')[0]).sort()).toEqual([
      'org "acme"',
      'project "acme/api"',
      'project "acme/web"',
    ]);
    expect(alreadyPresent.every((line) => line.message.endsWith('nothing to do [replay]'))).toBe(true);
    expect(second.logs.lines.filter((line) => line.level === 'error' || line.level === 'warn')).toEqual([]);
    expect(await tree(dataDir)).toEqual(before.files);
    expect(await readManifests()).toEqual(before.manifests);
    expect((await call('GET', `${second.url}/tenants`)).body).toEqual(before.tenants);
    expect(await projectStatus('web', 'acme')).toBe('STATUS_INDICATION_IDLE');
  });

  it('a restart catches up on a delete that happened while it was down', async () => {
    const first = await startSample();
    await first.poller.whenReady();
    await provisionAcme(first);
    const webDir = projectDir('acme', 'web');
    await stopSample(first);

    // Soft-deleted, but kept (not hard-deleted) while our status row remains.
    expect((await fakeApi('DELETE', '/v1/projects/web?org=acme')).status).toBe(200);
    expect(fake.runCleanup()).toEqual({ projects: 0, orgs: 0 });

    const second = await startSample();
    await second.poller.whenReady();
    await waitFor(async () => (await projectStatus('web', 'acme')) === 'STATUS_INDICATION_DELETED');
    await second.poller.whenIdle();
    expect(await exists(webDir)).toBe(false);
    expect(second.provisioning.counters).toEqual({ created: 0, alreadyPresent: 2, removed: 1, alreadyAbsent: 0 });
    expect(fake.runCleanup()).toEqual({ projects: 1, orgs: 0 });
  });

  it('GET /health is 503 until the replay has arrived, then 200', async () => {
    fake.createOrg('acme');
    fake.delay(1_000, (req) => req.path === '/v1/events' && req.query['replay'] === 'true', 1);
    const sample = await startSample();
    await waitFor(() => fake.requests.some((req) => req.query['replay'] === 'true'));

    const starting = await call('GET', `${sample.url}/health`);
    expect(starting).toEqual({ status: 503, body: { status: 'starting', ready: false } });
    expect(sample.poller.isReady()).toBe(false);

    const notReady = await call('GET', `${sample.url}/health/ready`);
    expect(notReady.status).toBe(503);
    expect(notReady.body).toMatchObject({ status: 'error', error: { tenancy: { status: 'down', ready: false } } });
    const live = await call('GET', `${sample.url}/health/live`);
    expect(live).toMatchObject({ status: 200, body: { status: 'ok', info: { tenancy: { status: 'up' } } } });

    await waitFor(async () => (await call('GET', `${sample.url}/health`)).status === 200, { timeout: 10_000 });
    expect(await call('GET', `${sample.url}/health`)).toEqual({ status: 200, body: { status: 'ok', ready: true } });
    expect(await call('GET', `${sample.url}/health/ready`)).toMatchObject({
      status: 200,
      body: { status: 'ok', info: { tenancy: { status: 'up', ready: true, phase: 'polling' } } },
    });
    await waitFor(async () => exists(orgDir('acme')));
  });

  it('GET /metrics exposes the tenancy metrics in Prometheus text format', async () => {
    fake.createOrg('acme');
    fake.createProject('acme', 'web');
    const sample = await startSample();
    await sample.poller.whenIdle();
    const response = await fetch(`${sample.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    expect(text).toContain(
      `tenancy_events_total{controller="${CONTROLLER}",resource_type="project",event_type="created",result="success"} 1`,
    );
    expect(text).toContain(`tenancy_cursor_completed{controller="${CONTROLLER}"} ${fake.lastEventId}`);
  });
});
