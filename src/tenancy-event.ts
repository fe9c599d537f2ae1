/** Wire values of `eventType` this client understands. */
export const EventType = {
  Created: 'created',
  Deleted: 'deleted',
} as const;
/** `'created' | 'deleted'`. */
export type EventType = (typeof EventType)[keyof typeof EventType];

/** Wire values of `resourceType` this client understands. */
export const ResourceType = {
  Org: 'org',
  Project: 'project',
} as const;
/** `'org' | 'project'`. */
export type ResourceType = (typeof ResourceType)[keyof typeof ResourceType];

/** Values of `status` in `PUT /v1/status`. */
export const ControllerStatus = {
  InProgress: 'in_progress',
  Completed: 'completed',
  Error: 'error',
} as const;
/** `'in_progress' | 'completed' | 'error'`. */
export type ControllerStatus = (typeof ControllerStatus)[keyof typeof ControllerStatus];

/** The fields of a {@link TenancyEvent}, as accepted by its constructor. */
export interface TenancyEventInit {
  id: number;
  eventType: EventType;
  resourceType: ResourceType;
  resourceId: string;
  resourceName: string;
  orgId: string | null;
  orgName: string | null;
  folderId: string | null;
  createdAt: Date;
}

/**
 * One org or project lifecycle event, as delivered to `@OnTenancyEvent` handlers.
 *
 * Replayed events (`ctx.replay === true`) always have `id` 0 and `createdAt` set to
 * the moment of the snapshot: the Tenant Manager synthesises them from current state.
 */
export class TenancyEvent implements TenancyEventInit {
  /** Event-log id; 0 for replayed events. */
  readonly id: number;
  readonly eventType: EventType;
  readonly resourceType: ResourceType;
  /** UUID of the org or project. */
  readonly resourceId: string;
  readonly resourceName: string;
  /** Owning org of a project; `null` for org events. */
  readonly orgId: string | null;
  readonly orgName: string | null;
  /** Reserved by the Tenant Manager for a future hierarchy; usually `null`. */
  readonly folderId: string | null;
  readonly createdAt: Date;

  constructor(init: TenancyEventInit) {
    this.id = init.id;
    this.eventType = init.eventType;
    this.resourceType = init.resourceType;
    this.resourceId = init.resourceId;
    this.resourceName = init.resourceName;
    this.orgId = init.orgId;
    this.orgName = init.orgName;
    this.folderId = init.folderId;
    this.createdAt = init.createdAt;
  }

  /** E.g. `event #42 project created "web" (0b0e…)`. */
  toString(): string {
    return `event #${this.id} ${this.resourceType} ${this.eventType} "${this.resourceName}" (${this.resourceId})`;
  }
}

/** What a handler gets besides the event. */
export interface TenancyEventContext {
  /**
   * Aborted when the attempt times out (`handlerTimeout`), when shutdown has waited
   * `shutdownTimeout` for it, and at once when this replica loses the leadership
   * (with `coordination`): stop work that another replica will redo.
   */
  readonly signal: AbortSignal;
  /** True when the event comes from a replay snapshot rather than the event log. */
  readonly replay: boolean;
  /** 1 for the first attempt at this event, 2 for the first retry, and so on. */
  readonly attempt: number;
}
