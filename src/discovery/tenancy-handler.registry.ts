import { Injectable } from '@nestjs/common';
import type { TenancySubscription } from '../decorators/on-tenancy-event.decorator.js';
import { EventType, ResourceType, type TenancyEvent, type TenancyEventContext } from '../tenancy-event.js';

/** A discovered handler method, bound to its provider instance. */
export interface TenancyHandler {
  /** `Class#method`, used in logs, errors and status messages. */
  readonly name: string;
  readonly subscriptions: readonly TenancySubscription[];
  readonly invoke: (event: TenancyEvent, ctx: TenancyEventContext) => unknown;
}

const NO_HANDLERS: readonly TenancyHandler[] = Object.freeze([]);

/** The runtime view of discovered handlers: which run for an event, which types are followed. */
@Injectable()
export class TenancyHandlerRegistry {
  private readonly handlers: TenancyHandler[] = [];
  // Precomputed per resource type, then event type: matching is on the hot path (two
  // lookups, no key string built per event).
  private readonly byEventKind = new Map<string, Map<string, readonly TenancyHandler[]>>();
  private readonly followedTypes = new Set<string>();

  register(handler: TenancyHandler): void {
    this.handlers.push(handler);
    this.byEventKind.clear();
    for (const resourceType of Object.values(ResourceType)) {
      const byEventType = new Map<string, readonly TenancyHandler[]>();
      this.byEventKind.set(resourceType, byEventType);
      for (const eventType of Object.values(EventType)) {
        const matching = this.handlers.filter((h) =>
          h.subscriptions.some(
            (s) =>
              (s.resourceType === '*' || s.resourceType === resourceType) &&
              (s.eventType === '*' || s.eventType === eventType),
          ),
        );
        byEventType.set(eventType, Object.freeze(matching));
      }
      if (this.handlers.some((h) => h.subscriptions.some((s) => s.resourceType === '*' || s.resourceType === resourceType))) {
        this.followedTypes.add(resourceType);
      }
    }
  }

  /** Handlers to run for an event, in discovery order. */
  match(event: Pick<TenancyEvent, 'resourceType' | 'eventType'>): readonly TenancyHandler[] {
    return this.byEventKind.get(event.resourceType)?.get(event.eventType) ?? NO_HANDLERS;
  }

  /**
   * Whether any handler follows this resource type. Followed types get the full
   * status lifecycle for every event, even one no handler matches: a `deleted`
   * must still remove our status row, or the Tenant Manager never hard-deletes it.
   */
  follows(resourceType: string): boolean {
    return this.followedTypes.has(resourceType);
  }

  /** Every registered handler, in discovery order. */
  all(): readonly TenancyHandler[] {
    return this.handlers;
  }
}
