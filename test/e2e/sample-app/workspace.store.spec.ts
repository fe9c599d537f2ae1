import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SampleConfig } from '../../../sample-app/src/config/sample.config.js';
import { WorkspaceStore } from '../../../sample-app/src/provisioning/workspace.store.js';

const ORG = { id: '6f1c0c1e-0000-4000-8000-000000000001', name: 'acme' };
const PROJECT = { id: '6f1c0c1e-0000-4000-8000-000000000002', name: 'web', orgId: ORG.id, orgName: ORG.name };

/** The sample's filesystem side on its own: idempotence, abort, and what listing shows. */
describe('sample app WorkspaceStore', () => {
  let dataDir: string;
  let store: WorkspaceStore;
  const live = () => new AbortController().signal;

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'nestjs-tenancy-workspaces-'));
    store = new WorkspaceStore(new SampleConfig({ dataDir }));
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('creates once; a second ensure keeps the manifest as it was', async () => {
    const first = await store.ensureProject(PROJECT, live());
    const file = join(store.projectDir(ORG.id, PROJECT.id), 'manifest.json');
    const written = await readFile(file, 'utf8');
    const second = await store.ensureProject(PROJECT, live());
    expect(first.created).toBe(true);
    expect(second).toEqual({ created: false, manifest: first.manifest });
    expect(await readFile(file, 'utf8')).toBe(written);
    expect((await readdir(store.projectDir(ORG.id, PROJECT.id))).sort()).toEqual(['config', 'data', 'manifest.json']);
  });

  it('an aborted signal stops before anything is written, and a later delivery finishes the work', async () => {
    const controller = new AbortController();
    controller.abort(new Error('shutting down'));
    await expect(store.ensureOrg(ORG, controller.signal)).rejects.toThrow();
    expect(await store.list()).toEqual([]);

    expect((await store.ensureOrg(ORG, live())).created).toBe(true);
    expect((await store.list()).map((org) => org.name)).toEqual(['acme']);
  });

  it('a project directory without its manifest is not listed, and is completed by the next ensure', async () => {
    await store.ensureOrg(ORG, live());
    await mkdir(join(store.projectDir(ORG.id, PROJECT.id), 'config'), { recursive: true });
    expect((await store.list())[0].projects).toEqual([]);
    expect((await store.ensureProject(PROJECT, live())).created).toBe(true);
    expect((await store.list())[0].projects.map((project) => project.name)).toEqual(['web']);
  });

  it('removing twice is fine and leaves nothing behind', async () => {
    await store.ensureOrg(ORG, live());
    await store.ensureProject(PROJECT, live());
    expect(await store.removeProject(ORG.id, PROJECT.id, live())).toBe(true);
    expect(await store.removeProject(ORG.id, PROJECT.id, live())).toBe(false);
    expect(await readdir(join(store.orgDir(ORG.id), 'projects'))).toEqual([]);
    expect(await store.removeOrg(ORG.id, live())).toBe(true);
    expect(await store.removeOrg(ORG.id, live())).toBe(false);
    expect(await readdir(dataDir)).toEqual([]);
  });

  it('refuses ids that would leave the data directory', () => {
    expect(() => store.orgDir('../etc')).toThrow('refusing to use "../etc" as a directory name');
    expect(() => store.projectDir(ORG.id, 'a/b')).toThrow('refusing to use "a/b" as a directory name');
  });
});
