import { Controller, Injectable, Module, Scope } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  OnTenancyEvent,
  TenancyConfigurationError,
  TenancyEvent,
  TenancyModule,
  TenancyPoller,
} from 'nestjs-tenancy';
import { useFakeTenantManager } from '../support/fake-tenant-manager.harness.js';
import { CapturingLogger, FAST_TIMINGS } from '../support/tenancy-test-app.js';
import { waitFor } from '../support/wait-for.js';

const CONTROLLER = 'discovery-controller';

/** Shared call log: which handler saw which resource. */
const seen: string[] = [];

class PlainHandler {
  @OnTenancyEvent('project', 'created')
  onProject(event: TenancyEvent): void {
    seen.push(`PlainHandler:${event.resourceName}`);
  }
}

@Injectable()
class StackedHandler {
  @OnTenancyEvent('org', 'created')
  @OnTenancyEvent('project', 'created')
  onCreated(event: TenancyEvent): void {
    seen.push(`StackedHandler:${event.resourceType}:${event.resourceName}`);
  }

  @OnTenancyEvent('*', '*')
  onAnything(event: TenancyEvent): void {
    seen.push(`StackedHandler.any:${event.resourceType}:${event.resourceName}`);
  }
}

@Controller()
class HandlerController {
  @OnTenancyEvent('project', 'created')
  onProject(event: TenancyEvent): void {
    seen.push(`HandlerController:${event.resourceName}`);
  }
}

describe('handler discovery (e2e)', () => {
  const tm = useFakeTenantManager(CONTROLLER);
  const { apps } = tm;

  beforeEach(() => {
    seen.length = 0;
    tm.fake.createOrg('acme');
    tm.fake.createProject('acme', 'web');
  });

  it('finds handlers on class, useValue and useFactory providers and on controllers, once each', async () => {
    const { poller } = await apps.start(
      { url: tm.url, controllerName: CONTROLLER },
      [
        StackedHandler,
        { provide: 'VALUE', useValue: new PlainHandler() },
        { provide: 'FACTORY', useFactory: () => new PlainHandler() },
        // An alias of a provider must not register its handlers a second time.
        { provide: 'ALIAS', useExisting: StackedHandler },
        { provide: 'NULL_PROTO', useValue: Object.create(null) },
        { provide: 'PRIMITIVE', useValue: 42 },
        { provide: 'NOTHING', useValue: null },
      ],
      { controllers: [HandlerController] },
    );
    await poller.whenReady();
    await poller.whenIdle();
    expect([...seen].sort()).toEqual(
      [
        'HandlerController:web',
        'PlainHandler:web',
        'PlainHandler:web',
        'StackedHandler.any:org:acme',
        'StackedHandler.any:project:web',
        'StackedHandler:org:acme',
        'StackedHandler:project:web',
      ].sort(),
    );
  });

  it('runs every matching handler, and the event fails if one of them fails', async () => {
    @Injectable()
    class Failing {
      @OnTenancyEvent('project', 'created')
      fail(): never {
        throw new Error('boom');
      }
    }
    const project = tm.fake.createProject('acme', 'api');
    const { poller } = await apps.start(
      { url: tm.url, controllerName: CONTROLLER, maxAttempts: 1 },
      [StackedHandler, Failing],
    );
    await poller.whenReady();
    await waitFor(() => tm.fake.statusOf(CONTROLLER, 'project', project.id)?.status === 'error');
    await poller.whenIdle();
    expect(seen).toContain('StackedHandler:project:api');
    expect(seen).toContain('StackedHandler.any:project:api');
    expect(tm.fake.statusOf(CONTROLLER, 'project', project.id)?.message).toBe('Failing#fail: boom');
  });

  it.each([
    ['request-scoped', Scope.REQUEST],
    ['transient', Scope.TRANSIENT],
  ])('fails init naming Class#method when a handler is on a %s provider', async (scopeName, scope) => {
    @Injectable({ scope })
    class ScopedHandler {
      @OnTenancyEvent('project', 'created')
      provision(): void {}
    }
    const moduleRef = await Test.createTestingModule({
      imports: [TenancyModule.forRoot({ ...FAST_TIMINGS, url: tm.url, controllerName: CONTROLLER })],
      providers: [ScopedHandler],
    })
      .setLogger(new CapturingLogger())
      .compile();
    apps.track(moduleRef);
    const failure = moduleRef.init();
    await expect(failure).rejects.toBeInstanceOf(TenancyConfigurationError);
    await expect(failure).rejects.toThrow(`ScopedHandler#provision is on a ${scopeName} provider`);
  });

  it('fails init for a handler whose provider is request-scoped through a dependency', async () => {
    @Injectable({ scope: Scope.REQUEST })
    class RequestThing {}
    @Injectable()
    class DependsOnRequest {
      constructor(readonly thing: RequestThing) {}
      @OnTenancyEvent('org', '*')
      onOrg(): void {}
    }
    const moduleRef = await Test.createTestingModule({
      imports: [TenancyModule.forRoot({ ...FAST_TIMINGS, url: tm.url, controllerName: CONTROLLER })],
      providers: [RequestThing, DependsOnRequest],
    })
      .setLogger(new CapturingLogger())
      .compile();
    apps.track(moduleRef);
    await expect(moduleRef.init()).rejects.toThrow('DependsOnRequest#onOrg is on a request-scoped provider');
  });

  it('finds handlers in feature modules imported by the app', async () => {
    @Module({ providers: [StackedHandler] })
    class FeatureModule {}
    const { poller } = await apps.start({ url: tm.url, controllerName: CONTROLLER }, [], { imports: [FeatureModule] });
    await poller.whenReady();
    await poller.whenIdle();
    expect(seen).toContain('StackedHandler:project:web');
    expect(poller).toBeInstanceOf(TenancyPoller);
  });
});
