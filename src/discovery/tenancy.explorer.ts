import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';
import { TenancyMetadataAccessor } from './tenancy-metadata.accessor.js';
import { TenancyHandlerRegistry } from './tenancy-handler.registry.js';
import { TenancyConfigurationError } from '../tenancy.errors.js';
import { scopedHandlerHost } from '../tenancy.messages.js';
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
    for (const wrapper of [...this.discovery.getProviders(), ...this.discovery.getControllers()]) {
      this.explore(wrapper, seen);
    }
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
      this.rejectScopedHandlers(wrapper);
      return;
    }
    const instance: unknown = wrapper.instance;
    if (!instance || typeof instance !== 'object') return;
    const prototype = Object.getPrototypeOf(instance);
    // Null-prototype values (e.g. `useValue: Object.create(null)`) have no methods to scan.
    if (prototype === null || seen.has(instance)) return;
    seen.add(instance);
    const className = instance.constructor?.name || String(wrapper.name);
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

  // Request-scoped and transient hosts have no single instance to call when an event
  // arrives outside any request; skipping them would leave events silently unhandled.
  private rejectScopedHandlers(wrapper: InstanceWrapper): void {
    const prototype = (wrapper.metatype as { prototype?: object } | null)?.prototype;
    if (!prototype) return;
    for (const methodName of this.scanner.getAllMethodNames(prototype)) {
      const method = (prototype as Record<string, unknown>)[methodName];
      if (typeof method !== 'function' || this.metadata.getSubscriptions(method).length === 0) continue;
      const scope = wrapper.isTransient ? 'transient' : 'request-scoped';
      const className = (wrapper.metatype as { name?: string }).name || String(wrapper.name);
      throw new TenancyConfigurationError(scopedHandlerHost(`${className}#${methodName}`, scope));
    }
  }
}
