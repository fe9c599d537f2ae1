import { Inject, Injectable, Scope, type Provider } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { OnTenancyEvent, TenancyConfigurationError, TenancyEvent, TenancyModule, TenancyPoller } from 'nestjs-tenancy';
import { scopedHandlerProvider } from '../../src/tenancy.messages.js';
import { useFakeTenantManager } from '../support/fake-tenant-manager.harness.js';
import { CapturingLogger, FAST_TIMINGS } from '../support/tenancy-test-app.js';

const CONTROLLER = 'scoped-hosts-controller';

/** Which handler instances saw which project. */
const seen: string[] = [];

/** Not @Injectable: only ever built by a factory or given as a value. */
class ProjectHandlers {
  @OnTenancyEvent('project', 'created')
  provision(event: TenancyEvent): void {
    seen.push(event.resourceName);
  }
}

@Injectable({ scope: Scope.REQUEST })
class RequestThing {}

/** A singleton that injects the factory-made host, so Nest builds the transient instance at init. */
@Injectable()
class UsesTransientFactory {
  constructor(@Inject('TRANSIENT_FACTORY') readonly handlers: ProjectHandlers) {}
}

/** Builds the transient values below at init, so discovery inspects what their factories returned. */
@Injectable()
class UsesTransientValues {
  constructor(
    @Inject('TRANSIENT_VALUE') readonly map: Map<string, string>,
    @Inject('TRANSIENT_NULL_PROTO') readonly bare: object,
    @Inject('TRANSIENT_NULL') readonly nothing: null,
  ) {}
}

const REQUEST_SCOPED = 'request-scoped';
const TRANSIENT = 'transient';

describe('scoped handler hosts, however provided (e2e)', () => {
  const tm = useFakeTenantManager(CONTROLLER);
  const { apps } = tm;

  beforeEach(() => {
    seen.length = 0;
    tm.fake.createOrg('acme');
    tm.fake.createProject('acme', 'web');
  });

  /** init() of an app with these providers; rejects with whatever discovery threw. */
  async function init(providers: Provider[]): Promise<TestingModule> {
    const logs = new CapturingLogger();
    const moduleRef = await Test.createTestingModule({
      imports: [TenancyModule.forRoot({ ...FAST_TIMINGS, url: tm.url, controllerName: CONTROLLER })],
      providers,
    })
      .setLogger(logs)
      .compile();
    apps.track(moduleRef);
    return moduleRef.init();
  }

  async function initError(providers: Provider[]): Promise<TenancyConfigurationError> {
    const failure = await init(providers).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(TenancyConfigurationError);
    return failure as TenancyConfigurationError;
  }

  it.each([
    ['a request-scoped useClass', { provide: 'USE_CLASS', useClass: ProjectHandlers, scope: Scope.REQUEST }, REQUEST_SCOPED, '"USE_CLASS"'],
    ['a transient useClass', { provide: 'USE_CLASS', useClass: ProjectHandlers, scope: Scope.TRANSIENT }, TRANSIENT, '"USE_CLASS"'],
    [
      'a request-scoped useClass under a symbol token',
      { provide: Symbol('handlers'), useClass: ProjectHandlers, scope: Scope.REQUEST },
      REQUEST_SCOPED,
      'Symbol(handlers)',
    ],
  ] as const)('refuses %s, naming the token and Class#method', async (_what, provider, scope, token) => {
    const error = await initError([provider]);
    expect(error.message).toBe(scopedHandlerProvider('ProjectHandlers#provision', scope, token));
  });

  it('refuses a class host that is request-scoped through a dependency, naming its class token', async () => {
    @Injectable()
    class DependsOnRequest {
      constructor(readonly thing: RequestThing) {}
      @OnTenancyEvent('org', '*')
      onOrg(): void {}
    }
    const error = await initError([RequestThing, DependsOnRequest]);
    expect(error.message).toBe(scopedHandlerProvider('DependsOnRequest#onOrg', REQUEST_SCOPED, 'DependsOnRequest'));
  });

  it('refuses a transient useFactory host (its class is read from the instance Nest built)', async () => {
    const error = await initError([
      { provide: 'TRANSIENT_FACTORY', useFactory: () => new ProjectHandlers(), scope: Scope.TRANSIENT },
      UsesTransientFactory,
    ]);
    expect(error.message).toBe(scopedHandlerProvider('ProjectHandlers#provision', TRANSIENT, '"TRANSIENT_FACTORY"'));
  });

  it('refuses a useFactory host built by a `function` factory with a prototype of its own', async () => {
    // A classic function has a prototype, but not the handler class's: the instance decides.
    function makeHandlers(): ProjectHandlers {
      return new ProjectHandlers();
    }
    const error = await initError([
      { provide: 'TRANSIENT_FACTORY', useFactory: makeHandlers, scope: Scope.TRANSIENT },
      UsesTransientFactory,
    ]);
    expect(error.message).toBe(scopedHandlerProvider('ProjectHandlers#provision', TRANSIENT, '"TRANSIENT_FACTORY"'));
  });

  it('accepts scoped factory providers that are not handler hosts (request-derived values stay possible)', async () => {
    const moduleRef = await init([
      { provide: 'PER_REQUEST_VALUE', useFactory: () => ({ tenant: 'from-request' }), scope: Scope.REQUEST },
      { provide: 'PER_REQUEST_DEP', useFactory: (thing: RequestThing) => ({ thing }), inject: [RequestThing] },
      { provide: 'TRANSIENT_VALUE', useFactory: () => new Map(), scope: Scope.TRANSIENT },
      { provide: 'TRANSIENT_NULL_PROTO', useFactory: () => Object.create(null), scope: Scope.TRANSIENT },
      { provide: 'TRANSIENT_NULL', useFactory: () => null, scope: Scope.TRANSIENT },
      UsesTransientValues,
      RequestThing,
      ProjectHandlers,
    ]);
    // The singleton host next to them is found and runs; the scoped values were looked at and let be.
    const poller = moduleRef.get(TenancyPoller);
    await poller.whenReady();
    await poller.whenIdle();
    expect(seen).toEqual(['web']);
    expect(moduleRef.get(UsesTransientValues).map).toBeInstanceOf(Map);
  });

  it('refuses a request-scoped useFactory host provided under its class token', async () => {
    const error = await initError([{ provide: ProjectHandlers, useFactory: () => new ProjectHandlers(), scope: Scope.REQUEST }]);
    expect(error.message).toBe(scopedHandlerProvider('ProjectHandlers#provision', REQUEST_SCOPED, 'ProjectHandlers'));
  });

  it('a request-scoped useFactory host under a string token is not built before a request: init warns, naming the class and the factory', async () => {
    // Nest builds it per request only; running the factory without a request to learn its
    // class would run user code (connections, REQUEST reads) at startup. Documented limit.
    const logs = new CapturingLogger();
    const moduleRef = await Test.createTestingModule({
      imports: [TenancyModule.forRoot({ ...FAST_TIMINGS, url: tm.url, controllerName: CONTROLLER })],
      providers: [{ provide: 'REQUEST_FACTORY', useFactory: () => new ProjectHandlers(), scope: Scope.REQUEST }],
    })
      .setLogger(logs)
      .compile();
    apps.track(moduleRef);
    await moduleRef.init();
    expect(logs.lines.some((l) => l.level === 'warn' && l.message.includes('No @OnTenancyEvent handlers found'))).toBe(true);
    // What init can do: name the decorated class that has no singleton, and the factory.
    const hidden = logs.lines.find((l) => l.level === 'warn' && l.message.includes('have no singleton instance'));
    expect(hidden?.message).toContain('ProjectHandlers#provision');
    expect(hidden?.message).toContain('"REQUEST_FACTORY"');
  });

  it('never names a decorated class that has a singleton instance as a hidden host', async () => {
    const logs = new CapturingLogger();
    const moduleRef = await Test.createTestingModule({
      imports: [TenancyModule.forRoot({ ...FAST_TIMINGS, url: tm.url, controllerName: CONTROLLER })],
      providers: [
        ProjectHandlers,
        { provide: 'PER_REQUEST_VALUE', useFactory: () => ({ tenant: 'from-request' }), scope: Scope.REQUEST },
      ],
    })
      .setLogger(logs)
      .compile();
    apps.track(moduleRef);
    await moduleRef.init();
    // Other decorated classes of this file are not provided here and may be named.
    const hidden = logs.lines.filter((l) => l.message.includes('have no singleton instance'));
    expect(hidden.length).toBeGreaterThan(0);
    expect(hidden.map((l) => l.message).join('\n')).not.toContain('ProjectHandlers#provision');
  });

  it('runs handlers of static hosts: useValue, useFactory, useClass; skips aliases, null-prototype and primitive values', async () => {
    const { poller } = await apps.start({ url: tm.url, controllerName: CONTROLLER }, [
      { provide: 'VALUE', useValue: new ProjectHandlers() },
      { provide: 'FACTORY', useFactory: () => new ProjectHandlers() },
      { provide: 'CLASS', useClass: ProjectHandlers },
      { provide: 'ALIAS', useExisting: 'CLASS' },
      { provide: 'NULL_PROTO', useValue: Object.create(null) },
      { provide: 'PRIMITIVE', useValue: 'text' },
      { provide: 'NOTHING', useFactory: () => null },
    ]);
    await poller.whenReady();
    await poller.whenIdle();
    expect(seen).toEqual(['web', 'web', 'web']);
  });

  it('refuses an alias target that is scoped, once, under the target token', async () => {
    const error = await initError([
      { provide: 'SCOPED', useClass: ProjectHandlers, scope: Scope.REQUEST },
      { provide: 'ALIAS', useExisting: 'SCOPED' },
    ]);
    expect(error.message).toBe(scopedHandlerProvider('ProjectHandlers#provision', REQUEST_SCOPED, '"SCOPED"'));
  });
});
