import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { TenantManagerClient } from './tenant-manager/tenant-manager.client.js';
import { createTransport } from './tenant-manager/create-transport.js';
import { TENANT_MANAGER_TRANSPORT } from './tenant-manager/tenant-manager.transport.js';
import { HandlerInvoker } from './dispatch/handler-invoker.js';
import { AttemptRunner } from './dispatch/attempt-runner.js';
import { TenancyHandlerRegistry } from './discovery/tenancy-handler.registry.js';
import { TenancyMetadataAccessor } from './discovery/tenancy-metadata.accessor.js';
import { TENANCY_RESOLVED_OPTIONS } from './tenancy.constants.js';
import { TenancyExplorer } from './discovery/tenancy.explorer.js';
import { ConfigurableTenancyModule, TENANCY_MODULE_OPTIONS } from './tenancy.module-definition.js';
import { TenancyPoller } from './tenancy.poller.js';
import { TenancyLogger } from './telemetry/tenancy-logger.js';
import { TenancyTelemetry } from './telemetry/tenancy.telemetry.js';
import { resolveTenancyOptions } from './tenancy-options.resolver.js';
import type { ResolvedTenancyOptions, TenancyModuleOptions } from './tenancy-options.js';

/**
 * Follows the Tenant Manager and dispatches its events to `@OnTenancyEvent` methods.
 *
 * ```ts
 * TenancyModule.forRoot({ url: 'http://tenancy-manager:8080', controllerName: 'my-controller' })
 * TenancyModule.forRootAsync({ inject: [ConfigService], useFactory: (c) => ({ … }) })
 * // Requests through your HttpModule (its interceptors, proxy and config apply):
 * TenancyModule.forRootAsync({ imports: [HttpModule], inject: [HttpService], useFactory: (http) => ({ …, transport: { httpService: http } }) })
 * ```
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    {
      provide: TENANCY_RESOLVED_OPTIONS,
      // One resolver for forRoot and forRootAsync: defaults, env, validation, freeze.
      useFactory: (options: TenancyModuleOptions) => resolveTenancyOptions(options),
      inject: [TENANCY_MODULE_OPTIONS],
    },
    TenancyMetadataAccessor,
    TenancyHandlerRegistry,
    TenancyExplorer,
    {
      provide: TENANT_MANAGER_TRANSPORT,
      // Async: the axios transport imports axios only when it is chosen.
      useFactory: (options: ResolvedTenancyOptions) => createTransport(options),
      inject: [TENANCY_RESOLVED_OPTIONS],
    },
    TenantManagerClient,
    HandlerInvoker,
    AttemptRunner,
    TenancyTelemetry,
    TenancyLogger,
    TenancyPoller,
  ],
  exports: [TenancyPoller],
})
export class TenancyModule extends ConfigurableTenancyModule {}
