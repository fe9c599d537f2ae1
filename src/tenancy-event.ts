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

// Set by TenancyEvent's static block (the only code that can reach its private field).
let CREATED_AT: PropertyDescriptor;
let withWireTimestamp: (event: TenancyEvent, createdAt: string) => TenancyEvent;
// True only while tenancyEventFromWire constructs: only a decoded event gets the lazy
// accessor; one built with `new` (tests, fixtures, users' code) keeps a plain data field.
let decoding = false;

/** A string assigned to a decoded event's createdAt: kept as given, never taken for wire text. */
class AssignedText {
  constructor(readonly text: string) {}
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
  // An own enumerable accessor (see CREATED_AT), so spread, JSON.stringify and
  // Object.keys see it as before; `declare` keeps the class from defining a data field.
  declare readonly createdAt: Date;
  // Decoded events only: the Date, or the wire timestamp it is made from on first read
  // (a queued 100k replay would otherwise hold 100k Dates, ~110 B each, that handlers
  // may never read), or a string assigned later.
  #createdAt: Date | string | AssignedText | undefined;

  constructor(init: TenancyEventInit) {
    this.id = init.id;
    this.eventType = init.eventType;
    this.resourceType = init.resourceType;
    this.resourceId = init.resourceId;
    this.resourceName = init.resourceName;
    this.orgId = init.orgId;
    this.orgName = init.orgName;
    this.folderId = init.folderId;
    if (decoding) {
      // The same descriptor for every decoded instance: V8 keeps one shape for them all.
      Object.defineProperty(this, 'createdAt', CREATED_AT);
    } else {
      // Built by hand: the plain data field it always was (any value, Proxy, Object.create).
      (this as { createdAt: Date }).createdAt = init.createdAt;
    }
  }

  /** E.g. `event #42 project created "web" (0b0e…)`. */
  toString(): string {
    return `event #${this.id} ${this.resourceType} ${this.eventType} "${this.resourceName}" (${this.resourceId})`;
  }

  static {
    CREATED_AT = {
      get(this: TenancyEvent): Date {
        // Read through an object that inherits from the event: the event's value, as an
        // inherited data field gives (a Proxy's receiver cannot reach the private field).
        if (!(#createdAt in this)) return inheritedCreatedAt(this);
        const value = this.#createdAt;
        if (typeof value === 'string') {
          const date = new Date(value);
          this.#createdAt = date;
          return date;
        }
        return value instanceof AssignedText ? (value.text as unknown as Date) : (value as Date);
      },
      set(this: TenancyEvent, value: Date): void {
        // As a frozen object's data field would refuse it (in strict mode, as modules are).
        if (Object.isFrozen(this)) throw new TypeError("Cannot assign to read only property 'createdAt' of a frozen TenancyEvent");
        if (!(#createdAt in this)) {
          // Assigned on an inheriting object: its own data field, as with an inherited one.
          Object.defineProperty(this, 'createdAt', { value, writable: true, enumerable: true, configurable: true });
          return;
        }
        this.#createdAt = typeof value === 'string' ? new AssignedText(value) : value;
      },
      // The attributes of a class field: enumerable, configurable.
      enumerable: true,
      configurable: true,
    };
    withWireTimestamp = (event, createdAt) => {
      event.#createdAt = createdAt;
      return event;
    };
  }
}

/**
 * A {@link TenancyEvent} whose `createdAt` Date is made from the wire timestamp
 * (a validated RFC 3339 text) when first read. Internal: not exported from the index.
 */
export function tenancyEventFromWire(init: Omit<TenancyEventInit, 'createdAt'>, createdAt: string): TenancyEvent {
  decoding = true;
  try {
    return withWireTimestamp(new TenancyEvent(init as TenancyEventInit), createdAt);
  } finally {
    decoding = false;
  }
}

/** createdAt read on an object that inherits from a decoded event: the nearest own value up its chain. */
function inheritedCreatedAt(receiver: object): Date {
  for (let link: unknown = Object.getPrototypeOf(receiver); link !== null && link !== TenancyEvent.prototype; link = Object.getPrototypeOf(link)) {
    if (Object.hasOwn(link as object, 'createdAt')) return (link as { createdAt: Date }).createdAt;
  }
  // A Proxy's receiver is the proxy: the getter cannot reach the event behind it.
  throw new TypeError('createdAt of a decoded TenancyEvent cannot be read through a Proxy of it: wrap a copy ({ ...event }) instead');
}

// util.inspect (console.log) shows an accessor as [Getter/Setter]: show the Date, as a data field would.
Object.defineProperty(TenancyEvent.prototype, Symbol.for('nodejs.util.inspect.custom'), {
  value(this: TenancyEvent, depth: number, options: { depth?: number | null }, inspect: (value: unknown, options: object) => string): string {
    if (depth < 0) return '[TenancyEvent]';
    const nested = { ...options, depth: options.depth == null ? options.depth : options.depth - 1 };
    return `TenancyEvent ${inspect({ ...this }, nested)}`;
  },
});

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
