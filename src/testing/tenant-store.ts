import { randomUUID } from 'node:crypto';
import { type ControllerStatus, EventType, ResourceType } from '../tenancy-event.js';
import { FakeMessages } from './fake-tenant-manager.messages.js';

/** An org as the fake holds it (a snapshot: changing it changes nothing). */
export interface FakeOrg {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  /** ISO timestamp. */
  readonly createdAt: string;
  /** ISO timestamp of the soft delete; absent while active. */
  readonly deletedAt?: string;
}

/** A project as the fake holds it (a snapshot). */
export interface FakeProject {
  readonly id: string;
  readonly name: string;
  readonly orgId: string;
  readonly orgName: string;
  readonly description: string;
  /** ISO timestamp. */
  readonly createdAt: string;
  /** ISO timestamp of the soft delete; absent while active. */
  readonly deletedAt?: string;
}

/** One event exactly as `GET /v1/events` sends it. */
export interface WireEvent {
  readonly id: number;
  readonly eventType: EventType;
  readonly resourceType: ResourceType;
  readonly resourceId: string;
  readonly resourceName: string;
  readonly orgId: string | null;
  readonly orgName: string | null;
  readonly folderId: string | null;
  /** ISO timestamp with microseconds, like the real service. */
  readonly createdAt: string;
}

/** One status row, keyed by (controller, resourceType, resourceId). */
export interface StatusRow {
  readonly controller: string;
  /** Any non-empty string is stored; only `org`/`project` rows take part in derivation. */
  readonly resourceType: string;
  readonly resourceId: string;
  readonly status: ControllerStatus;
  readonly message: string;
  /** ISO timestamp of the last upsert. */
  readonly updatedAt: string;
}

/** The page or snapshot `GET /v1/events` answers with. */
export interface EventsPage {
  readonly events: readonly WireEvent[];
  readonly lastEventId: number;
}

/** Controller names registered per resource type (what status derivation counts). */
export interface RegisteredControllers {
  readonly org: readonly string[];
  readonly project: readonly string[];
}

/** Why a store operation was refused; the HTTP layer maps it to a status code. */
export type TenantStoreErrorCode = 'not_found' | 'conflict' | 'marked_for_delete';

/** A refused store operation (unknown name, taken name, resource marked for delete). */
export class TenantStoreError extends Error {
  constructor(
    readonly code: TenantStoreErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'TenantStoreError';
  }
}

/** Live org state inside the store. */
export interface OrgRecord {
  readonly id: string;
  readonly name: string;
  description: string;
  readonly createdAt: number;
  deletedAt?: number;
  /** By name, active and soft-deleted, until hard-deleted. */
  readonly projects: Map<string, ProjectRecord>;
}

/** Live project state inside the store. */
export interface ProjectRecord {
  readonly id: string;
  readonly name: string;
  readonly org: OrgRecord;
  description: string;
  readonly createdAt: number;
  deletedAt?: number;
}

/** What `runCleanup()` hard-deleted. */
export interface CleanupResult {
  readonly projects: number;
  readonly orgs: number;
}

/** The store as JSON: what `--data FILE` keeps across emulator restarts. Times are epoch ms. */
export interface StoreSnapshot {
  readonly version: 1;
  readonly orgs: ReadonlyArray<{
    readonly id: string;
    readonly name: string;
    readonly description: string;
    readonly createdAt: number;
    readonly deletedAt?: number;
  }>;
  readonly projects: ReadonlyArray<{
    readonly id: string;
    readonly name: string;
    readonly orgId: string;
    readonly description: string;
    readonly createdAt: number;
    readonly deletedAt?: number;
  }>;
  readonly deletedOrgIds: readonly string[];
  readonly deletedProjectIds: readonly string[];
  readonly events: readonly WireEvent[];
  /** `Date.now()` of each event, parallel to `events` (pruning by age). */
  readonly eventTimes: readonly number[];
  readonly lastEventId: number;
  readonly statusRows: readonly StatusRow[];
}

const NUL = '\u0000';

/**
 * All state of the fake: orgs, projects, the event log and status rows, with the
 * protocol's rules (soft delete, hard delete, pruning). Every lookup the HTTP hot
 * path needs is a Map access: the benchmark drives 100k events through here.
 */
export class TenantStore {
  /** By name; Map order is creation order, which replay needs ("oldest first"). */
  private readonly orgs = new Map<string, OrgRecord>();
  /** By id; creation order. */
  private readonly projects = new Map<string, ProjectRecord>();
  /** Name → projects of that name in any org, to resolve `?org`-less lookups. */
  private readonly projectsByName = new Map<string, ProjectRecord[]>();
  /** Soft-deleted, in deletion order (replay order and cleanup candidates). */
  private readonly deletedOrgs = new Set<OrgRecord>();
  private readonly deletedProjects = new Set<ProjectRecord>();

  private readonly log: WireEvent[] = [];
  /** `Date.now()` of each log entry, parallel to `log`, for pruning. */
  private readonly logTimes: number[] = [];
  /** Highest id ever issued; survives pruning, as `lastEventId` must. */
  private highestEventId = 0;

  private readonly rows = new Map<string, StatusRow>();
  /** Bumped on every change, so a persister knows when there is something to write. */
  private changes = 0;
  /** `resourceType NUL resourceId` → row keys, so a hard delete drops every row of it. */
  private readonly rowsByResource = new Map<string, Set<string>>();

  /** A number that changes whenever the state does (not an event id). */
  get revision(): number {
    return this.changes;
  }

  // --- orgs -------------------------------------------------------------------

  /** The org with this name, active or soft-deleted. */
  findOrg(name: string): OrgRecord | undefined {
    return this.orgs.get(name);
  }

  /** Active orgs sorted by name. */
  activeOrgs(): OrgRecord[] {
    return [...this.orgs.values()].filter((org) => org.deletedAt === undefined).sort(byName);
  }

  /** Creates an org and logs `created`; a taken name (even soft-deleted) is a conflict. */
  createOrg(name: string, description = '', now = Date.now()): OrgRecord {
    if (this.orgs.has(name)) throw new TenantStoreError('conflict', FakeMessages.orgExists(name));
    const org: OrgRecord = { id: randomUUID(), name, description, createdAt: now, projects: new Map() };
    this.orgs.set(name, org);
    this.append(EventType.Created, ResourceType.Org, org.id, name, null, null, now);
    return org;
  }

  /**
   * `PUT /v1/orgs/{name}`: create, or update the description (no event) when it
   * exists; `description` undefined leaves it unchanged.
   */
  putOrg(name: string, description: string | undefined, updateIfExists: boolean): { org: OrgRecord; created: boolean } {
    const existing = this.orgs.get(name);
    if (existing === undefined) return { org: this.createOrg(name, description), created: true };
    assertActive(existing);
    if (!updateIfExists) throw new TenantStoreError('conflict', FakeMessages.orgExists(name));
    if (description !== undefined) existing.description = description;
    this.changes++;
    return { org: existing, created: false };
  }

  /**
   * Soft-deletes the org's active projects (one `deleted` event each), then the
   * org: the protocol's order, so a client never sees an org go before its projects.
   */
  deleteOrg(name: string, now = Date.now()): OrgRecord {
    const org = this.orgs.get(name);
    if (org === undefined) throw new TenantStoreError('not_found', FakeMessages.orgNotFound(name));
    assertActive(org);
    for (const project of org.projects.values()) {
      if (project.deletedAt === undefined) this.softDeleteProject(project, now);
    }
    org.deletedAt = now;
    this.deletedOrgs.add(org);
    this.append(EventType.Deleted, ResourceType.Org, org.id, org.name, null, null, now);
    return org;
  }

  // --- projects ---------------------------------------------------------------

  /** The project in that org, active or soft-deleted. */
  findProject(orgName: string, name: string): ProjectRecord | undefined {
    return this.orgs.get(orgName)?.projects.get(name);
  }

  /** Projects with this name in any org, active or soft-deleted. */
  projectsNamed(name: string): readonly ProjectRecord[] {
    return this.projectsByName.get(name) ?? [];
  }

  /**
   * Finds a project by name, in `orgName` when given, else across all orgs: a
   * name present in several orgs is a conflict (ambiguous), absent is not found.
   */
  lookupProject(name: string, orgName?: string): ProjectRecord {
    if (orgName !== undefined) {
      const org = this.orgs.get(orgName);
      if (org === undefined) throw new TenantStoreError('not_found', FakeMessages.orgNotFound(orgName));
      const project = org.projects.get(name);
      if (project === undefined) {
        throw new TenantStoreError('not_found', FakeMessages.projectNotFound(name, orgName));
      }
      return project;
    }
    const found = this.projectsNamed(name);
    if (found.length === 0) throw new TenantStoreError('not_found', FakeMessages.projectNotFound(name));
    if (found.length > 1) {
      const orgNames = found.map((project) => project.org.name).sort();
      throw new TenantStoreError('conflict', FakeMessages.projectAmbiguous(name, orgNames));
    }
    return found[0]!;
  }

  /** Active projects sorted by org name, then name; only those of `orgName` when given. */
  activeProjects(orgName?: string): ProjectRecord[] {
    const source = orgName === undefined ? this.projects.values() : (this.orgs.get(orgName)?.projects.values() ?? []);
    return [...source]
      .filter((project) => project.deletedAt === undefined)
      .sort((a, b) => compare(a.org.name, b.org.name) || compare(a.name, b.name));
  }

  /** Creates a project in an active org and logs `created`. */
  createProject(orgName: string, name: string, description = '', now = Date.now()): ProjectRecord {
    const org = this.orgs.get(orgName);
    if (org === undefined) throw new TenantStoreError('not_found', FakeMessages.orgNotFound(orgName));
    // A project cannot be added to an org that is being deleted.
    assertActive(org);
    if (org.projects.has(name)) throw new TenantStoreError('conflict', FakeMessages.projectExists(name, orgName));
    const project: ProjectRecord = { id: randomUUID(), name, org, description, createdAt: now };
    org.projects.set(name, project);
    this.projects.set(project.id, project);
    const sameName = this.projectsByName.get(name);
    if (sameName === undefined) this.projectsByName.set(name, [project]);
    else sameName.push(project);
    this.append(EventType.Created, ResourceType.Project, project.id, name, org.id, org.name, now);
    return project;
  }

  /** `PUT /v1/projects/{name}?org=`: create, or update the description when it exists. */
  putProject(
    orgName: string,
    name: string,
    description: string | undefined,
    updateIfExists: boolean,
  ): { project: ProjectRecord; created: boolean } {
    const existing = this.findProject(orgName, name);
    if (existing === undefined) return { project: this.createProject(orgName, name, description), created: true };
    assertActive(existing);
    if (!updateIfExists) throw new TenantStoreError('conflict', FakeMessages.projectExists(name, orgName));
    if (description !== undefined) existing.description = description;
    this.changes++;
    return { project: existing, created: false };
  }

  /** Soft-deletes one active project and logs `deleted`. */
  deleteProject(project: ProjectRecord, now = Date.now()): ProjectRecord {
    assertActive(project);
    this.softDeleteProject(project, now);
    return project;
  }

  private softDeleteProject(project: ProjectRecord, now: number): void {
    project.deletedAt = now;
    this.deletedProjects.add(project);
    const { org } = project;
    this.append(EventType.Deleted, ResourceType.Project, project.id, project.name, org.id, org.name, now);
  }

  // --- hard delete ------------------------------------------------------------

  /**
   * The background cleanup: hard-deletes soft-deleted projects, then soft-deleted
   * orgs with no projects left, each only once no registered controller still has
   * a row for it. The resource's remaining rows (unregistered controllers) go too.
   */
  cleanup(registered: RegisteredControllers): CleanupResult {
    let projects = 0;
    for (const project of this.deletedProjects) {
      if (this.hasRegisteredRow(registered.project, ResourceType.Project, project.id)) continue;
      this.deletedProjects.delete(project);
      this.projects.delete(project.id);
      project.org.projects.delete(project.name);
      const sameName = this.projectsByName.get(project.name) ?? [];
      const rest = sameName.filter((other) => other !== project);
      if (rest.length === 0) this.projectsByName.delete(project.name);
      else this.projectsByName.set(project.name, rest);
      this.dropRows(ResourceType.Project, project.id);
      projects++;
    }
    let orgs = 0;
    for (const org of this.deletedOrgs) {
      if (org.projects.size > 0) continue;
      if (this.hasRegisteredRow(registered.org, ResourceType.Org, org.id)) continue;
      this.deletedOrgs.delete(org);
      this.orgs.delete(org.name);
      this.dropRows(ResourceType.Org, org.id);
      orgs++;
    }
    if (projects + orgs > 0) this.changes++;
    return { projects, orgs };
  }

  private hasRegisteredRow(controllers: readonly string[], resourceType: string, resourceId: string): boolean {
    return controllers.some((controller) => this.rows.has(rowKey(controller, resourceType, resourceId)));
  }

  private dropRows(resourceType: string, resourceId: string): void {
    const resourceKey = resourceType + NUL + resourceId;
    for (const key of this.rowsByResource.get(resourceKey) ?? []) this.rows.delete(key);
    this.rowsByResource.delete(resourceKey);
  }

  // --- event log --------------------------------------------------------------

  /** Highest event id ever issued (0 before the first event), pruned or not. */
  get lastEventId(): number {
    return this.highestEventId;
  }

  /** A copy of the event log (after pruning), oldest first. */
  events(): WireEvent[] {
    return this.log.slice();
  }

  /** `GET /v1/events?after=&limit=`: events with `id > after`, ascending, at most `limit`. */
  eventsAfter(after: number, limit: number): EventsPage {
    // Ids only grow, so the log is sorted by id: binary-search the first id > after.
    let low = 0;
    let high = this.log.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.log[mid]!.id <= after) low = mid + 1;
      else high = mid;
    }
    const events = this.log.slice(low, low + limit);
    return { events, lastEventId: events.length > 0 ? events[events.length - 1]!.id : after };
  }

  /**
   * `GET /v1/events?replay=true`: a snapshot synthesised from current state, in the
   * protocol's order. Ids are 0 and `createdAt` is now because these events are not
   * log rows: the log may have been pruned long ago.
   */
  replay(now = Date.now()): EventsPage {
    const createdAt = wireTimestamp(now);
    const events: WireEvent[] = [];
    for (const org of this.orgs.values()) {
      if (org.deletedAt === undefined) events.push(orgEvent(EventType.Created, org, createdAt));
    }
    for (const project of this.projects.values()) {
      if (project.deletedAt === undefined) events.push(projectEvent(EventType.Created, project, createdAt));
    }
    for (const project of this.deletedProjects) events.push(projectEvent(EventType.Deleted, project, createdAt));
    for (const org of this.deletedOrgs) events.push(orgEvent(EventType.Deleted, org, createdAt));
    return { events, lastEventId: this.highestEventId };
  }

  /** Drops log events created at or before `cutoff` (epoch ms); returns how many. */
  pruneEventsBefore(cutoff: number): number {
    // Entries are appended in time order, so the prunable ones are a prefix.
    let count = 0;
    while (count < this.logTimes.length && this.logTimes[count]! <= cutoff) count++;
    if (count > 0) {
      this.log.splice(0, count);
      this.logTimes.splice(0, count);
      this.changes++;
    }
    return count;
  }

  private append(
    eventType: EventType,
    resourceType: ResourceType,
    resourceId: string,
    resourceName: string,
    orgId: string | null,
    orgName: string | null,
    now: number,
  ): void {
    this.highestEventId++;
    this.changes++;
    this.log.push(
      Object.freeze({
        id: this.highestEventId,
        eventType,
        resourceType,
        resourceId,
        resourceName,
        orgId,
        orgName,
        folderId: null,
        createdAt: wireTimestamp(now),
      }),
    );
    this.logTimes.push(now);
  }

  // --- status rows ------------------------------------------------------------

  /**
   * Upserts a row. Rows for ids the fake does not know are kept too: the protocol
   * does not say the service checks, and a lenient fake hides no client behaviour.
   */
  putStatus(
    controller: string,
    resourceType: string,
    resourceId: string,
    status: ControllerStatus,
    message: string,
    now = Date.now(),
  ): StatusRow {
    const key = rowKey(controller, resourceType, resourceId);
    const row: StatusRow = Object.freeze({
      controller,
      resourceType,
      resourceId,
      status,
      message,
      updatedAt: new Date(now).toISOString(),
    });
    if (!this.rows.has(key)) {
      const resourceKey = resourceType + NUL + resourceId;
      const keys = this.rowsByResource.get(resourceKey);
      if (keys === undefined) this.rowsByResource.set(resourceKey, new Set([key]));
      else keys.add(key);
    }
    this.rows.set(key, row);
    this.changes++;
    return row;
  }

  /** Removes a row; true when there was one (absent is not an error on the wire). */
  deleteStatus(controller: string, resourceType: string, resourceId: string): boolean {
    const key = rowKey(controller, resourceType, resourceId);
    if (!this.rows.delete(key)) return false;
    this.changes++;
    const resourceKey = resourceType + NUL + resourceId;
    const keys = this.rowsByResource.get(resourceKey);
    keys?.delete(key);
    if (keys?.size === 0) this.rowsByResource.delete(resourceKey);
    return true;
  }

  /** The row for this key, if any. */
  statusRow(controller: string, resourceType: string, resourceId: string): StatusRow | undefined {
    return this.rows.get(rowKey(controller, resourceType, resourceId));
  }

  /** All rows in insertion order, or only one controller's. */
  statusRows(controller?: string): StatusRow[] {
    const all = [...this.rows.values()];
    return controller === undefined ? all : all.filter((row) => row.controller === controller);
  }

  // --- persistence ------------------------------------------------------------

  /** Everything, as plain JSON-able data (see {@link StoreSnapshot}). */
  snapshot(): StoreSnapshot {
    const orgIds = new Map<OrgRecord, string>();
    for (const org of this.orgs.values()) orgIds.set(org, org.id);
    return {
      version: 1,
      orgs: [...this.orgs.values()].map(({ id, name, description, createdAt, deletedAt }) => ({
        id,
        name,
        description,
        createdAt,
        ...(deletedAt === undefined ? {} : { deletedAt }),
      })),
      projects: [...this.projects.values()].map(({ id, name, org, description, createdAt, deletedAt }) => ({
        id,
        name,
        orgId: org.id,
        description,
        createdAt,
        ...(deletedAt === undefined ? {} : { deletedAt }),
      })),
      deletedOrgIds: [...this.deletedOrgs].map((org) => org.id),
      deletedProjectIds: [...this.deletedProjects].map((project) => project.id),
      events: this.log.slice(),
      eventTimes: this.logTimes.slice(),
      lastEventId: this.highestEventId,
      statusRows: [...this.rows.values()],
    };
  }

  /**
   * Replaces the whole state with a snapshot taken by {@link snapshot}. The caller
   * checked its shape; references (a project's org, deleted ids) are checked here.
   */
  restore(snapshot: StoreSnapshot): void {
    const orgs = new Map<string, OrgRecord>();
    for (const org of snapshot.orgs) orgs.set(org.id, { ...org, projects: new Map() });
    const projects = new Map<string, ProjectRecord>();
    for (const { orgId, ...project } of snapshot.projects) {
      const org = orgs.get(orgId);
      if (org === undefined) throw new Error(`project ${project.id} belongs to unknown org ${orgId}`);
      projects.set(project.id, { ...project, org });
    }
    const byId = <T>(map: Map<string, T>, id: string, what: string): T => {
      const found = map.get(id);
      if (found === undefined) throw new Error(`deleted ${what} ${id} is not in the ${what}s`);
      return found;
    };
    const deletedOrgs = snapshot.deletedOrgIds.map((id) => byId(orgs, id, 'org'));
    const deletedProjects = snapshot.deletedProjectIds.map((id) => byId(projects, id, 'project'));

    this.orgs.clear();
    this.projects.clear();
    this.projectsByName.clear();
    this.deletedOrgs.clear();
    this.deletedProjects.clear();
    for (const org of orgs.values()) this.orgs.set(org.name, org);
    for (const project of projects.values()) {
      project.org.projects.set(project.name, project);
      this.projects.set(project.id, project);
      const sameName = this.projectsByName.get(project.name);
      if (sameName === undefined) this.projectsByName.set(project.name, [project]);
      else sameName.push(project);
    }
    for (const org of deletedOrgs) this.deletedOrgs.add(org);
    for (const project of deletedProjects) this.deletedProjects.add(project);
    this.log.splice(0, this.log.length, ...snapshot.events.map((event) => Object.freeze({ ...event })));
    this.logTimes.splice(0, this.logTimes.length, ...snapshot.eventTimes);
    this.highestEventId = snapshot.lastEventId;
    this.rows.clear();
    this.rowsByResource.clear();
    for (const row of snapshot.statusRows) {
      this.putStatus(row.controller, row.resourceType, row.resourceId, row.status, row.message, Date.parse(row.updatedAt));
    }
    this.changes++;
  }
}

/** The store's live org as a detached public snapshot. */
export function toFakeOrg(org: OrgRecord): FakeOrg {
  return {
    id: org.id,
    name: org.name,
    description: org.description,
    createdAt: new Date(org.createdAt).toISOString(),
    ...(org.deletedAt === undefined ? {} : { deletedAt: new Date(org.deletedAt).toISOString() }),
  };
}

/** The store's live project as a detached public snapshot. */
export function toFakeProject(project: ProjectRecord): FakeProject {
  return {
    id: project.id,
    name: project.name,
    orgId: project.org.id,
    orgName: project.org.name,
    description: project.description,
    createdAt: new Date(project.createdAt).toISOString(),
    ...(project.deletedAt === undefined ? {} : { deletedAt: new Date(project.deletedAt).toISOString() }),
  };
}

/**
 * `2026-05-15T10:00:00.123000Z`: the real service sends microseconds, so the fake
 * sends six fraction digits too and client parsers meet the real format.
 */
export function wireTimestamp(epochMs: number): string {
  // Bulk seeding stamps thousands of events in the same millisecond: format once.
  if (epochMs !== lastStampMs) {
    lastStampMs = epochMs;
    lastStamp = `${new Date(epochMs).toISOString().slice(0, -1)}000Z`;
  }
  return lastStamp;
}

let lastStampMs = Number.NaN;
let lastStamp = '';

function orgEvent(eventType: EventType, org: OrgRecord, createdAt: string): WireEvent {
  return {
    id: 0,
    eventType,
    resourceType: ResourceType.Org,
    resourceId: org.id,
    resourceName: org.name,
    orgId: null,
    orgName: null,
    folderId: null,
    createdAt,
  };
}

function projectEvent(eventType: EventType, project: ProjectRecord, createdAt: string): WireEvent {
  return {
    id: 0,
    eventType,
    resourceType: ResourceType.Project,
    resourceId: project.id,
    resourceName: project.name,
    orgId: project.org.id,
    orgName: project.org.name,
    folderId: null,
    createdAt,
  };
}

function assertActive(resource: { deletedAt?: number }): void {
  if (resource.deletedAt !== undefined) {
    throw new TenantStoreError('marked_for_delete', FakeMessages.markedForDelete());
  }
}

function rowKey(controller: string, resourceType: string, resourceId: string): string {
  // NUL separators: no real controller name, type or id contains one, so keys do not collide.
  return controller + NUL + resourceType + NUL + resourceId;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function byName(a: { name: string }, b: { name: string }): number {
  return compare(a.name, b.name);
}
