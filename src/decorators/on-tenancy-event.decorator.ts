import { TENANCY_EVENT_METADATA } from '../tenancy.constants.js';
import { noteDecoratedMethod } from './decorated-classes.js';
import { TenancyConfigurationError } from '../tenancy.errors.js';
import { decoratedStaticMethod, invalidDecoratorArgument } from '../tenancy.messages.js';
import { EventType, ResourceType } from '../tenancy-event.js';

/** A resource type to subscribe to, or `'*'` for every type this client knows. */
export type ResourceTypeFilter = ResourceType | '*';
/** An event type to subscribe to, or `'*'` for both. */
export type EventTypeFilter = EventType | '*';

/** One `@OnTenancyEvent(...)` application. */
export interface TenancySubscription {
  readonly resourceType: ResourceTypeFilter;
  readonly eventType: EventTypeFilter;
}

const RESOURCE_TYPE_FILTERS: readonly string[] = [...Object.values(ResourceType), '*'];
const EVENT_TYPE_FILTERS: readonly string[] = [...Object.values(EventType), '*'];

/**
 * Marks a provider or controller method as a handler of Tenant Manager events.
 *
 * The method is called with `(event: TenancyEvent, ctx: TenancyEventContext)`; it may
 * return a promise. Throwing (or rejecting) fails the event: its status becomes
 * `error` and it is retried. Handlers must be idempotent: restarts replay everything.
 *
 * Stack it to subscribe one method to several combinations.
 *
 * @example
 * ```ts
 * @OnTenancyEvent('project', 'created')
 * async provision(event: TenancyEvent, ctx: TenancyEventContext) { … }
 * ```
 */
export function OnTenancyEvent(resourceType: ResourceTypeFilter, eventType: EventTypeFilter): MethodDecorator {
  // Checked when the class is defined, not hours later at the first event.
  if (!RESOURCE_TYPE_FILTERS.includes(resourceType)) {
    throw new TenancyConfigurationError(invalidDecoratorArgument('resourceType', resourceType, RESOURCE_TYPE_FILTERS));
  }
  if (!EVENT_TYPE_FILTERS.includes(eventType)) {
    throw new TenancyConfigurationError(invalidDecoratorArgument('eventType', eventType, EVENT_TYPE_FILTERS));
  }
  const subscription: TenancySubscription = Object.freeze({ resourceType, eventType });
  return (target, key, descriptor) => {
    // Property decorators get no descriptor: only methods can be handlers.
    const method: unknown = descriptor?.value;
    if (typeof method !== 'function') {
      throw new TenancyConfigurationError('@OnTenancyEvent() can only decorate methods');
    }
    // A static method's target is the class itself; discovery calls methods of
    // provider instances, so it would never run.
    if (typeof target === 'function') {
      throw new TenancyConfigurationError(decoratedStaticMethod(`${target.name || '(anonymous class)'}.${String(key)}`));
    }
    noteDecoratedMethod((target as object).constructor, String(key));
    // Appended, never overwritten: a second decorator on the same method adds to it.
    const existing: TenancySubscription[] = Reflect.getOwnMetadata(TENANCY_EVENT_METADATA, method) ?? [];
    Reflect.defineMetadata(TENANCY_EVENT_METADATA, [...existing, subscription], method);
    return descriptor;
  };
}
