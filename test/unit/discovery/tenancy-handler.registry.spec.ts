import { describe, expect, it } from 'vitest';
import type { TenancySubscription } from '../../../src/decorators/on-tenancy-event.decorator.js';
import { TenancyHandlerRegistry, type TenancyHandler } from '../../../src/discovery/tenancy-handler.registry.js';

function handler(name: string, ...subscriptions: Array<[TenancySubscription['resourceType'], TenancySubscription['eventType']]>): TenancyHandler {
  return {
    name,
    subscriptions: subscriptions.map(([resourceType, eventType]) => ({ resourceType, eventType })),
    invoke: () => undefined,
  };
}

function registryOf(...handlers: TenancyHandler[]): TenancyHandlerRegistry {
  const registry = new TenancyHandlerRegistry();
  for (const h of handlers) registry.register(h);
  return registry;
}

const names = (handlers: readonly TenancyHandler[]) => handlers.map((h) => h.name);

const KINDS = [
  ['org', 'created'],
  ['org', 'deleted'],
  ['project', 'created'],
  ['project', 'deleted'],
] as const;

describe('TenancyHandlerRegistry.match', () => {
  it('matches nothing when empty', () => {
    const registry = new TenancyHandlerRegistry();
    for (const [resourceType, eventType] of KINDS) {
      expect(registry.match({ resourceType, eventType })).toEqual([]);
    }
    expect(registry.all()).toEqual([]);
  });

  it('matches a specific subscription only for its exact kind', () => {
    const registry = registryOf(handler('Org#created', ['org', 'created']));
    expect(names(registry.match({ resourceType: 'org', eventType: 'created' }))).toEqual(['Org#created']);
    expect(registry.match({ resourceType: 'org', eventType: 'deleted' })).toEqual([]);
    expect(registry.match({ resourceType: 'project', eventType: 'created' })).toEqual([]);
    expect(registry.match({ resourceType: 'project', eventType: 'deleted' })).toEqual([]);
  });

  it("matches '*' resource type against every resource type, for its event type only", () => {
    const registry = registryOf(handler('Any#deleted', ['*', 'deleted']));
    expect(names(registry.match({ resourceType: 'org', eventType: 'deleted' }))).toEqual(['Any#deleted']);
    expect(names(registry.match({ resourceType: 'project', eventType: 'deleted' }))).toEqual(['Any#deleted']);
    expect(registry.match({ resourceType: 'org', eventType: 'created' })).toEqual([]);
    expect(registry.match({ resourceType: 'project', eventType: 'created' })).toEqual([]);
  });

  it("matches '*' event type against both event types, for its resource type only", () => {
    const registry = registryOf(handler('Project#all', ['project', '*']));
    expect(names(registry.match({ resourceType: 'project', eventType: 'created' }))).toEqual(['Project#all']);
    expect(names(registry.match({ resourceType: 'project', eventType: 'deleted' }))).toEqual(['Project#all']);
    expect(registry.match({ resourceType: 'org', eventType: 'created' })).toEqual([]);
    expect(registry.match({ resourceType: 'org', eventType: 'deleted' })).toEqual([]);
  });

  it("matches '*'/'*' against every known kind", () => {
    const registry = registryOf(handler('Everything#handle', ['*', '*']));
    for (const [resourceType, eventType] of KINDS) {
      expect(names(registry.match({ resourceType, eventType }))).toEqual(['Everything#handle']);
    }
  });

  it('returns handlers in discovery (registration) order, each once even with several matching subscriptions', () => {
    const registry = registryOf(
      handler('C#wild', ['*', '*']),
      handler('A#projectCreated', ['project', 'created']),
      handler('B#both', ['project', 'created'], ['project', '*'], ['*', 'created']),
      handler('D#org', ['org', 'created']),
    );
    expect(names(registry.match({ resourceType: 'project', eventType: 'created' }))).toEqual([
      'C#wild',
      'A#projectCreated',
      'B#both',
    ]);
    expect(names(registry.match({ resourceType: 'org', eventType: 'created' }))).toEqual(['C#wild', 'B#both', 'D#org']);
    expect(names(registry.match({ resourceType: 'project', eventType: 'deleted' }))).toEqual(['C#wild', 'B#both']);
    expect(names(registry.match({ resourceType: 'org', eventType: 'deleted' }))).toEqual(['C#wild']);
    expect(names(registry.all())).toEqual(['C#wild', 'A#projectCreated', 'B#both', 'D#org']);
  });

  it('returns the registered handler objects themselves', () => {
    const h = handler('Org#created', ['org', 'created']);
    const registry = registryOf(h);
    expect(registry.match({ resourceType: 'org', eventType: 'created' })[0]).toBe(h);
  });

  it('sees handlers registered after an earlier match', () => {
    const registry = registryOf(handler('First#h', ['org', 'created']));
    expect(names(registry.match({ resourceType: 'org', eventType: 'created' }))).toEqual(['First#h']);
    registry.register(handler('Second#h', ['org', '*']));
    expect(names(registry.match({ resourceType: 'org', eventType: 'created' }))).toEqual(['First#h', 'Second#h']);
    expect(names(registry.match({ resourceType: 'org', eventType: 'deleted' }))).toEqual(['Second#h']);
  });

  it('matches nothing for kinds this client does not know', () => {
    const registry = registryOf(handler('Everything#handle', ['*', '*']));
    expect(registry.match({ resourceType: 'folder' as never, eventType: 'created' })).toEqual([]);
    expect(registry.match({ resourceType: 'project', eventType: 'updated' as never })).toEqual([]);
  });

  it('returns a frozen list that callers cannot change', () => {
    const registry = registryOf(handler('Org#created', ['org', 'created']));
    const matched = registry.match({ resourceType: 'org', eventType: 'created' });
    expect(Object.isFrozen(matched)).toBe(true);
    expect(Object.isFrozen(registry.match({ resourceType: 'folder' as never, eventType: 'created' }))).toBe(true);
  });

  it('ignores a handler with no subscriptions', () => {
    const registry = registryOf(handler('Nothing#h'));
    for (const [resourceType, eventType] of KINDS) {
      expect(registry.match({ resourceType, eventType })).toEqual([]);
    }
    expect(names(registry.all())).toEqual(['Nothing#h']);
    expect(registry.follows('org')).toBe(false);
    expect(registry.follows('project')).toBe(false);
  });
});

describe('TenancyHandlerRegistry.follows', () => {
  it('follows nothing when empty', () => {
    const registry = new TenancyHandlerRegistry();
    expect(registry.follows('org')).toBe(false);
    expect(registry.follows('project')).toBe(false);
  });

  it("follows both types for a '*' resource type", () => {
    const registry = registryOf(handler('Any#created', ['*', 'created']));
    expect(registry.follows('org')).toBe(true);
    expect(registry.follows('project')).toBe(true);
  });

  it('follows only org for an org-only handler, whatever its event type', () => {
    const registry = registryOf(handler('Org#created', ['org', 'created']));
    expect(registry.follows('org')).toBe(true);
    expect(registry.follows('project')).toBe(false);
  });

  it('follows only project for a project-only handler', () => {
    const registry = registryOf(handler('Project#deleted', ['project', 'deleted']));
    expect(registry.follows('project')).toBe(true);
    expect(registry.follows('org')).toBe(false);
  });

  it('follows both once handlers for each type are registered', () => {
    const registry = registryOf(handler('Org#h', ['org', '*']));
    expect(registry.follows('project')).toBe(false);
    registry.register(handler('Project#h', ['project', 'created']));
    expect(registry.follows('org')).toBe(true);
    expect(registry.follows('project')).toBe(true);
  });

  it("does not follow types this client does not know, even with '*'", () => {
    const registry = registryOf(handler('Everything#handle', ['*', '*']));
    expect(registry.follows('folder')).toBe(false);
    expect(registry.follows('*')).toBe(false);
    expect(registry.follows('')).toBe(false);
  });
});
