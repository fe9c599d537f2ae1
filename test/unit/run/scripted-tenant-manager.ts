import type { EventsPort } from '../../../src/run/event-feed.js';
import type { StatusPort } from '../../../src/tenant-manager/status-writer.js';
import type { DecodedEventsPage } from '../../../src/tenant-manager/tenant-manager.wire.js';
import { TenancyEvent, type EventType, type ResourceType } from '../../../src/tenancy-event.js';

let uuidSequence = 0;
const uuid = () => `00000000-0000-4000-8000-${String(++uuidSequence).padStart(12, '0')}`;

interface Resource {
  readonly type: ResourceType;
  readonly id: string;
  readonly name: string;
  readonly orgId: string | null;
  deleted: boolean;
}

/**
 * An in-memory Tenant Manager behind the client ports: an event log with ids, a
 * level-based replay snapshot, and hooks to make pages lie. Unit tests of the run
 * and the feed use it instead of HTTP.
 */
export class ScriptedTenantManager implements EventsPort, StatusPort {
  log: TenancyEvent[] = [];
  lastEventId = 0;
  readonly resources: Resource[] = [];
  /** `after` of every incremental fetch, in order. */
  readonly polls: number[] = [];
  replays = 0;
  readonly statusCalls: string[] = [];
  /** Replaces the answer to an incremental fetch when it returns a page. */
  pageOverride?: (after: number, limit: number) => DecodedEventsPage | undefined;
  /** Throws instead of answering the next replay fetches. */
  replayFailures: Error[] = [];
  /** While set, incremental fetches wait for it before answering. */
  pollGate?: Promise<void>;

  createOrg(name: string): string {
    return this.append('org', 'created', this.add('org', name, null));
  }

  createProject(orgId: string, name: string): string {
    return this.append('project', 'created', this.add('project', name, orgId));
  }

  deleteResource(id: string): void {
    const resource = this.resources.find((r) => r.id === id)!;
    resource.deleted = true;
    this.append(resource.type, 'deleted', resource);
  }

  /** The state as of a backup: a log cut at `lastEventId` (resources created later are gone). */
  restoreTo(lastEventId: number): void {
    const kept = new Set(this.log.filter((e) => e.id <= lastEventId && e.eventType === 'created').map((e) => e.resourceId));
    this.log = this.log.filter((e) => e.id <= lastEventId);
    this.lastEventId = lastEventId;
    for (let i = this.resources.length - 1; i >= 0; i -= 1) if (!kept.has(this.resources[i].id)) this.resources.splice(i, 1);
  }

  async fetchReplay(): Promise<DecodedEventsPage> {
    this.replays += 1;
    const failure = this.replayFailures.shift();
    if (failure) throw failure;
    const active = this.resources.filter((r) => !r.deleted);
    const events = [
      ...active.filter((r) => r.type === 'org'),
      ...active.filter((r) => r.type === 'project'),
    ].map((r) => this.event(0, 'created', r));
    return { events, lastEventId: this.lastEventId, received: events.length, unknown: [], invalid: [] };
  }

  async fetchAfter(after: number, limit: number): Promise<DecodedEventsPage> {
    this.polls.push(after);
    if (this.pollGate) await this.pollGate;
    const override = this.pageOverride?.(after, limit);
    if (override) return override;
    const events = this.log.filter((e) => e.id > after).slice(0, limit);
    const lastEventId = events.length > 0 ? events[events.length - 1].id : after;
    return { events, lastEventId, received: events.length, unknown: [], invalid: [] };
  }

  async putStatus(resourceType: string, resourceId: string, status: string): Promise<void> {
    this.statusCalls.push(`PUT ${resourceType}/${resourceId} ${status}`);
  }

  async deleteStatus(resourceType: string, resourceId: string): Promise<void> {
    this.statusCalls.push(`DELETE ${resourceType}/${resourceId}`);
  }

  /** An event as the wire decoder would produce it. */
  event(id: number, eventType: EventType, r: { type: ResourceType; id: string; name: string; orgId: string | null }): TenancyEvent {
    return new TenancyEvent({
      id,
      eventType,
      resourceType: r.type,
      resourceId: r.id,
      resourceName: r.name,
      orgId: r.orgId,
      orgName: null,
      folderId: null,
      createdAt: new Date(0),
    });
  }

  private add(type: ResourceType, name: string, orgId: string | null): Resource {
    const resource = { type, id: uuid(), name, orgId, deleted: false };
    this.resources.push(resource);
    return resource;
  }

  private append(type: ResourceType, eventType: EventType, r: Resource): string {
    this.lastEventId += 1;
    this.log.push(this.event(this.lastEventId, eventType, { ...r, type }));
    return r.id;
  }
}
