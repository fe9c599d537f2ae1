import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Injectable } from '@nestjs/common';
import { SampleConfig } from '../config/sample.config.js';

/** `<DATA_DIR>/<orgId>/org.json`. */
export interface OrgManifest {
  readonly id: string;
  readonly name: string;
  readonly provisionedAt: string;
}

/** `<DATA_DIR>/<orgId>/projects/<projectId>/manifest.json`. */
export interface ProjectManifest {
  readonly id: string;
  readonly name: string;
  readonly org: { readonly id: string; readonly name: string };
  readonly provisionedAt: string;
}

/** What `ensure*` found: `created` is false when the workspace was already there. */
export interface Ensured<T> {
  readonly created: boolean;
  readonly manifest: T;
}

/** One org workspace on disk, with its projects, as `GET /tenants` shows it. */
export interface OrgWorkspace {
  readonly id: string;
  /** `null` while the org's manifest is missing (its project was provisioned first). */
  readonly name: string | null;
  readonly provisionedAt: string | null;
  readonly projects: ReadonlyArray<{ readonly id: string; readonly name: string; readonly provisionedAt: string }>;
}

const ORG_MANIFEST = 'org.json';
const PROJECT_MANIFEST = 'manifest.json';
/** Created in every project workspace. */
const PROJECT_SUBDIRS = ['config', 'data'] as const;
/** Ids come from the Tenant Manager (UUIDs); never let one escape DATA_DIR. */
const SAFE_SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * The filesystem side of provisioning. Every operation is idempotent, because the
 * Tenant Manager replays everything on each restart. A manifest is written last
 * and atomically, so "manifest present" means "workspace complete": a half-done
 * workspace (crash, abort) is finished by the next delivery, not reported as done.
 */
@Injectable()
export class WorkspaceStore {
  readonly root: string;

  constructor(config: SampleConfig) {
    this.root = config.dataDir;
  }

  orgDir(orgId: string): string {
    return join(this.root, segment(orgId));
  }

  projectDir(orgId: string, projectId: string): string {
    return join(this.orgDir(orgId), 'projects', segment(projectId));
  }

  /** Creates the org's workspace and manifest unless the manifest already exists. */
  async ensureOrg(org: { id: string; name: string }, signal: AbortSignal): Promise<Ensured<OrgManifest>> {
    const dir = this.orgDir(org.id);
    const file = join(dir, ORG_MANIFEST);
    const existing = await readJson<OrgManifest>(file, signal);
    if (existing !== undefined) return { created: false, manifest: existing };
    signal.throwIfAborted();
    await mkdir(join(dir, 'projects'), { recursive: true });
    const manifest: OrgManifest = { id: org.id, name: org.name, provisionedAt: new Date().toISOString() };
    await writeJsonAtomically(file, manifest, signal);
    return { created: true, manifest };
  }

  /** Creates the project's workspace, subdirectories and manifest unless the manifest exists. */
  async ensureProject(
    project: { id: string; name: string; orgId: string; orgName: string },
    signal: AbortSignal,
  ): Promise<Ensured<ProjectManifest>> {
    const dir = this.projectDir(project.orgId, project.id);
    const file = join(dir, PROJECT_MANIFEST);
    const existing = await readJson<ProjectManifest>(file, signal);
    if (existing !== undefined) return { created: false, manifest: existing };
    for (const sub of PROJECT_SUBDIRS) {
      signal.throwIfAborted();
      await mkdir(join(dir, sub), { recursive: true });
    }
    const manifest: ProjectManifest = {
      id: project.id,
      name: project.name,
      org: { id: project.orgId, name: project.orgName },
      provisionedAt: new Date().toISOString(),
    };
    await writeJsonAtomically(file, manifest, signal);
    return { created: true, manifest };
  }

  /** Removes a project's workspace; false when there was none. */
  removeProject(orgId: string, projectId: string, signal: AbortSignal): Promise<boolean> {
    return removeDir(this.projectDir(orgId, projectId), signal);
  }

  /** Removes an org's workspace with everything in it; false when there was none. */
  removeOrg(orgId: string, signal: AbortSignal): Promise<boolean> {
    return removeDir(this.orgDir(orgId), signal);
  }

  /** Every org workspace with its projects, read from disk, sorted by name. */
  async list(): Promise<OrgWorkspace[]> {
    const orgs: OrgWorkspace[] = [];
    for (const orgId of await subdirectories(this.root)) {
      const org = await readJson<OrgManifest>(join(this.root, orgId, ORG_MANIFEST));
      const projectsDir = join(this.root, orgId, 'projects');
      const projects = [];
      for (const projectId of await subdirectories(projectsDir)) {
        const manifest = await readJson<ProjectManifest>(join(projectsDir, projectId, PROJECT_MANIFEST));
        // No manifest yet: still being provisioned, not something to show as done.
        if (manifest !== undefined) {
          projects.push({ id: manifest.id, name: manifest.name, provisionedAt: manifest.provisionedAt });
        }
      }
      if (org === undefined && projects.length === 0) continue;
      projects.sort((a, b) => a.name.localeCompare(b.name));
      orgs.push({ id: orgId, name: org?.name ?? null, provisionedAt: org?.provisionedAt ?? null, projects });
    }
    return orgs.sort((a, b) => (a.name ?? a.id).localeCompare(b.name ?? b.id));
  }
}

function segment(id: string): string {
  if (!SAFE_SEGMENT.test(id)) throw new Error(`refusing to use ${JSON.stringify(id)} as a directory name`);
  return id;
}

/** Parsed JSON, or undefined when the file does not exist. */
async function readJson<T>(file: string, signal?: AbortSignal): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(file, { encoding: 'utf8', signal })) as T;
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return undefined;
    throw error;
  }
}

/** Writes a temporary file next to the target, then renames it over: readers never see half a file. */
async function writeJsonAtomically(file: string, value: unknown, signal: AbortSignal): Promise<void> {
  const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(temp, `${JSON.stringify(value, null, 2)}\n`, { flag: 'wx', signal });
    signal.throwIfAborted();
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/**
 * Renames the directory out of sight first (listings skip dot-names), then deletes
 * it: a removal cut short never leaves a half-deleted workspace that looks alive.
 */
async function removeDir(dir: string, signal: AbortSignal): Promise<boolean> {
  signal.throwIfAborted();
  const trash = join(dir, '..', `.${randomBytes(6).toString('hex')}.deleting`);
  try {
    await rename(dir, trash);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return false;
    throw error;
  }
  await rm(trash, { recursive: true, force: true });
  return true;
}

/** Names of the visible subdirectories; none when the directory does not exist. */
async function subdirectories(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries.filter((entry) => entry.isDirectory() && !entry.name.startsWith('.')).map((entry) => entry.name);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return [];
    throw error;
  }
}

function isErrno(error: unknown, code: string): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === code;
}
