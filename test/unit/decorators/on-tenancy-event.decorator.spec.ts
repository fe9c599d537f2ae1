import { Reflector } from '@nestjs/core';
import { describe, expect, it } from 'vitest';
import {
  OnTenancyEvent,
  type EventTypeFilter,
  type ResourceTypeFilter,
} from '../../../src/decorators/on-tenancy-event.decorator.js';
import { TenancyMetadataAccessor } from '../../../src/discovery/tenancy-metadata.accessor.js';
import { TENANCY_EVENT_METADATA } from '../../../src/tenancy.constants.js';
import { TenancyConfigurationError } from '../../../src/tenancy.errors.js';
import { decoratedStaticMethod, invalidDecoratorArgument } from '../../../src/tenancy.messages.js';

const RESOURCE_TYPES = ['org', 'project', '*'];
const EVENT_TYPES = ['created', 'deleted', '*'];

const accessor = new TenancyMetadataAccessor(new Reflector());

/** The error thrown by `run`; fails the test when nothing is thrown. */
function thrownBy(run: () => unknown): Error {
  let thrown: unknown;
  try {
    run();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(Error);
  return thrown as Error;
}

describe('@OnTenancyEvent: argument validation', () => {
  it.each<[unknown]>([['folder'], ['Project'], [''], [undefined], [null], [1]])(
    'throws when resourceType is %j, naming the argument and the value',
    (value) => {
      const error = thrownBy(() => OnTenancyEvent(value as unknown as ResourceTypeFilter, 'created'));
      expect(error).toBeInstanceOf(TenancyConfigurationError);
      expect(error.message).toBe(invalidDecoratorArgument('resourceType', value, RESOURCE_TYPES));
      expect(error.message).toContain('resourceType');
    },
  );

  it('shows the bad value and the allowed ones in the message', () => {
    const error = thrownBy(() => OnTenancyEvent('folder' as ResourceTypeFilter, 'created'));
    expect(error.message).toBe(
      `@OnTenancyEvent(): resourceType must be one of 'org', 'project', '*' (got "folder")`,
    );
  });

  it.each<[unknown]>([['updated'], ['Created'], ['any'], [''], [undefined], [{}]])(
    'throws when eventType is %j, naming the argument and the value',
    (value) => {
      const error = thrownBy(() => OnTenancyEvent('project', value as unknown as EventTypeFilter));
      expect(error).toBeInstanceOf(TenancyConfigurationError);
      expect(error.message).toBe(invalidDecoratorArgument('eventType', value, EVENT_TYPES));
    },
  );

  it('checks resourceType before eventType', () => {
    const error = thrownBy(() =>
      OnTenancyEvent('folder' as ResourceTypeFilter, 'updated' as EventTypeFilter),
    );
    expect(error.message).toBe(invalidDecoratorArgument('resourceType', 'folder', RESOURCE_TYPES));
  });

  it('throws while the class is being defined, not later', () => {
    const define = () => {
      class Host {
        @OnTenancyEvent('project', 'renamed' as EventTypeFilter)
        handle(): void {}
      }
      return Host;
    };
    const error = thrownBy(define);
    expect(error).toBeInstanceOf(TenancyConfigurationError);
    expect(error.message).toBe(invalidDecoratorArgument('eventType', 'renamed', EVENT_TYPES));
  });

  it.each([
    ['org', 'created'],
    ['org', 'deleted'],
    ['project', 'created'],
    ['project', 'deleted'],
    ['*', 'created'],
    ['project', '*'],
    ['*', '*'],
  ] as const)('accepts %s/%s', (resourceType, eventType) => {
    expect(typeof OnTenancyEvent(resourceType, eventType)).toBe('function');
  });

  it('refuses to decorate an accessor (no method value)', () => {
    const decorate = OnTenancyEvent('org', 'created');
    const descriptor: PropertyDescriptor = { get: () => 1, configurable: true, enumerable: false };
    const error = thrownBy(() => decorate({}, 'value', descriptor));
    expect(error).toBeInstanceOf(TenancyConfigurationError);
    expect(error.message).toBe('@OnTenancyEvent() can only decorate methods');
  });

  it('refuses to decorate a static method (it would never be called)', () => {
    const define = () => {
      class Host {
        @OnTenancyEvent('org', 'created')
        static handle(): void {}
      }
      return Host;
    };
    const error = thrownBy(define);
    expect(error).toBeInstanceOf(TenancyConfigurationError);
    expect(error.message).toBe(decoratedStaticMethod('Host.handle'));
  });

  it('refuses to decorate a property (legacy property decorators get no descriptor)', () => {
    const define = () => {
      class Host {
        // @ts-expect-error -- a method decorator on a property: what a careless user may write
        @OnTenancyEvent('org', 'created')
        field = 1;
      }
      return Host;
    };
    const error = thrownBy(define);
    expect(error).toBeInstanceOf(TenancyConfigurationError);
    expect(error.message).toBe('@OnTenancyEvent() can only decorate methods');
  });
});

describe('@OnTenancyEvent: metadata', () => {
  it('stores one frozen subscription on the method itself', () => {
    class Host {
      @OnTenancyEvent('project', 'created')
      provision(): void {}
    }
    const stored = Reflect.getOwnMetadata(TENANCY_EVENT_METADATA, Host.prototype.provision);
    expect(stored).toEqual([{ resourceType: 'project', eventType: 'created' }]);
    expect(Object.isFrozen(stored[0])).toBe(true);
    expect(Reflect.getMetadata(TENANCY_EVENT_METADATA, Host.prototype)).toBeUndefined();
  });

  it('keeps the method callable and unchanged', () => {
    class Host {
      value = 2;
      @OnTenancyEvent('org', '*')
      double(x: number): number {
        return x * this.value;
      }
    }
    expect(new Host().double(21)).toBe(42);
  });

  it('appends stacked decorators instead of overwriting (application order: nearest the method first)', () => {
    class Host {
      @OnTenancyEvent('org', 'deleted')
      @OnTenancyEvent('project', 'created')
      handle(): void {}
    }
    const stored = Reflect.getOwnMetadata(TENANCY_EVENT_METADATA, Host.prototype.handle);
    expect(stored).toEqual([
      { resourceType: 'project', eventType: 'created' },
      { resourceType: 'org', eventType: 'deleted' },
    ]);
    expect(accessor.getSubscriptions(Host.prototype.handle)).toEqual([
      { resourceType: 'project', eventType: 'created' },
      { resourceType: 'org', eventType: 'deleted' },
    ]);
  });

  it('keeps the subscriptions of different methods apart', () => {
    class Host {
      @OnTenancyEvent('org', 'created')
      first(): void {}

      @OnTenancyEvent('project', 'deleted')
      second(): void {}

      plain(): void {}
    }
    expect(accessor.getSubscriptions(Host.prototype.first)).toEqual([{ resourceType: 'org', eventType: 'created' }]);
    expect(accessor.getSubscriptions(Host.prototype.second)).toEqual([
      { resourceType: 'project', eventType: 'deleted' },
    ]);
    expect(accessor.getSubscriptions(Host.prototype.plain)).toEqual([]);
  });

});

describe('TenancyMetadataAccessor', () => {
  it('returns an empty list for an undecorated function', () => {
    expect(accessor.getSubscriptions(() => undefined)).toEqual([]);
  });

  it('de-duplicates identical stacked subscriptions, keeping the first occurrence order', () => {
    class Host {
      @OnTenancyEvent('org', 'created')
      @OnTenancyEvent('project', '*')
      @OnTenancyEvent('org', 'created')
      @OnTenancyEvent('project', '*')
      handle(): void {}
    }
    expect(Reflect.getOwnMetadata(TENANCY_EVENT_METADATA, Host.prototype.handle)).toHaveLength(4);
    expect(accessor.getSubscriptions(Host.prototype.handle)).toEqual([
      { resourceType: 'project', eventType: '*' },
      { resourceType: 'org', eventType: 'created' },
    ]);
  });

  it('does not treat a wildcard and a specific subscription as duplicates', () => {
    class Host {
      @OnTenancyEvent('*', 'created')
      @OnTenancyEvent('org', 'created')
      @OnTenancyEvent('org', '*')
      handle(): void {}
    }
    expect(accessor.getSubscriptions(Host.prototype.handle)).toEqual([
      { resourceType: 'org', eventType: '*' },
      { resourceType: 'org', eventType: 'created' },
      { resourceType: '*', eventType: 'created' },
    ]);
  });

  it('does not alter the stored metadata when de-duplicating', () => {
    class Host {
      @OnTenancyEvent('org', 'created')
      @OnTenancyEvent('org', 'created')
      handle(): void {}
    }
    accessor.getSubscriptions(Host.prototype.handle);
    accessor.getSubscriptions(Host.prototype.handle);
    expect(Reflect.getOwnMetadata(TENANCY_EVENT_METADATA, Host.prototype.handle)).toHaveLength(2);
    expect(accessor.getSubscriptions(Host.prototype.handle)).toEqual([{ resourceType: 'org', eventType: 'created' }]);
  });
});
