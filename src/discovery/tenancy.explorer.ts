import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';
import { TenancyMetadataAccessor } from './tenancy-metadata.accessor.js';
import { TenancyHandlerRegistry } from './tenancy-handler.registry.js';
import { TenancyConfigurationError } from '../tenancy.errors.js';
import { decoratedClasses } from '../decorators/decorated-classes.js';
import { describeProviderToken, handlersWithoutSingleton, scopedHandlerProvider } from '../tenancy.messages.js';
import { TenancyLogger } from '../telemetry/tenancy-logger.js';

/** Finds `@OnTenancyEvent` methods on providers and controllers at module init. */
@Injectable()
export class TenancyExplorer implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly metadata: TenancyMetadataAccessor,
    private readonly registry: TenancyHandlerRegistry,
    private readonly logger: TenancyLogger,
  ) {}

  onModuleInit(): void {
    const seen = new WeakSet<object>();
    const hiddenFactories: string[] = [];
    for (const wrapper of [...this.discovery.getProviders(), ...this.discovery.getControllers()]) {
      this.explore(wrapper, seen);
      if (isHiddenRequestFactory(wrapper)) hiddenFactories.push(describeProviderToken(wrapper.token));
    }
    this.warnAboutHiddenHosts(seen, hiddenFactories);
    const count = this.registry.all().length;
    if (count === 0) {
      // Almost certainly a mistake (a provider not listed, a missing decorator): say so.
      this.logger.warn('No @OnTenancyEvent handlers found: every Tenant Manager event will be ignored');
    } else {
      this.logger.log(`Discovered ${count} tenancy handler(s): ${this.registry.all().map((h) => h.name).join(', ')}`);
    }
  }

  private explore(wrapper: InstanceWrapper, seen: WeakSet<object>): void {
    // `useExisting` aliases point at an instance found under its own token.
    if (wrapper.isAlias) return;
    if (wrapper.isTransient || !wrapper.isDependencyTreeStatic()) {
      this.rejectScopedHost(wrapper);
      return;
    }
    const instance: unknown = wrapper.instance;
    if (!isScannable(instance) || seen.has(instance)) return;
    seen.add(instance);
    const className = instance.constructor?.name || String(wrapper.name);
    const prototype = Object.getPrototypeOf(instance) as object | null;
    // Null-prototype values (e.g. `useValue: Object.create(null)`) have no methods to scan.
    if (prototype === null) return;
    for (const methodName of this.scanner.getAllMethodNames(prototype)) {
      const method = (instance as Record<string, unknown>)[methodName];
      if (typeof method !== 'function') continue;
      const subscriptions = this.metadata.getSubscriptions(method);
      if (subscriptions.length === 0) continue;
      this.registry.register({
        name: `${className}#${methodName}`,
        subscriptions,
        invoke: (event, ctx) => method.call(instance, event, ctx),
      });
    }
  }

  /**
   * Request-scoped and transient hosts have no single instance to call when an event
   * arrives outside any request; skipping them would leave events silently unhandled.
   * A class provider (plain or `useClass`) shows its handlers on its class. A factory
   * provider's class is known only from what the factory returned, so every instance
   * Nest has built for it so far is inspected (a transient factory injected anywhere
   * has one), and a factory provided under a class token (`provide: Handlers`) is
   * taken to build that class. The factory itself is never called here: it may need a
   * real request. (A request-scoped factory under a string or symbol token is the one
   * case init cannot see.)
   */
  private rejectScopedHost(wrapper: InstanceWrapper): void {
    const candidates: object[] = [];
    const declared = wrapper.isFactory ? wrapper.token : wrapper.metatype;
    const prototype = typeof declared === 'function' ? (declared as { prototype?: unknown }).prototype : undefined;
    if (isScannable(prototype)) candidates.push(prototype);
    const built: unknown[] = [wrapper.instance, ...wrapper.getStaticTransientInstances().map((host) => host?.instance)];
    for (const instance of built) {
      const prototype = isScannable(instance) ? (Object.getPrototypeOf(instance) as object | null) : null;
      if (prototype !== null) candidates.push(prototype);
    }
    for (const prototype of candidates) {
      const [methodName] = this.handlerMethods(prototype);
      if (methodName === undefined) continue;
      const className = (prototype.constructor as { name?: string } | undefined)?.name || String(wrapper.name);
      const scope = wrapper.isTransient ? 'transient' : 'request-scoped';
      throw new TenancyConfigurationError(
        scopedHandlerProvider(`${className}#${methodName}`, scope, describeProviderToken(wrapper.token)),
      );
    }
  }

  /**
   * A request-scoped factory under a string or symbol token is built per request only,
   * so its class cannot be known at init. When the app has one and some decorated
   * class has no singleton instance here, say so (a warning: the class may simply not
   * be provided in this app).
   */
  private warnAboutHiddenHosts(seen: WeakSet<object>, hiddenFactories: readonly string[]): void {
    if (hiddenFactories.length === 0) return;
    const served = new Set<Function>();
    for (const wrapper of [...this.discovery.getProviders(), ...this.discovery.getControllers()]) {
      const instance: unknown = wrapper.instance;
      if (!isScannable(instance) || !seen.has(instance)) continue;
      // The instance's class and its ancestors: inherited handlers run on it.
      for (let proto = Object.getPrototypeOf(instance) as object | null; proto; proto = Object.getPrototypeOf(proto) as object | null) {
        served.add((proto as { constructor: Function }).constructor);
      }
    }
    const unserved: string[] = [];
    for (const [host, methods] of decoratedClasses) {
      if (!served.has(host)) unserved.push(...[...methods].map((method) => `${host.name || '(anonymous class)'}#${method}`));
    }
    if (unserved.length > 0) this.logger.warn(handlersWithoutSingleton(unserved, hiddenFactories));
  }

  /** Names of the decorated methods reachable from a prototype, in scan order. */
  private handlerMethods(prototype: object): string[] {
    return this.scanner.getAllMethodNames(prototype).filter((methodName) => {
      const method = (prototype as Record<string, unknown>)[methodName];
      return typeof method === 'function' && this.metadata.getSubscriptions(method).length > 0;
    });
  }
}

/** An object whose methods can be scanned (falsy values and primitives have none). */
function isScannable(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}

/** A request-scoped factory provider under a non-class token: its product is unknown until a request. */
function isHiddenRequestFactory(wrapper: InstanceWrapper): boolean {
  return wrapper.isFactory && !wrapper.isTransient && !wrapper.isDependencyTreeStatic() && typeof wrapper.token !== 'function';
}
