import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { StatusReporter } from './status.reporter.js';
import { TenantManagerClient } from './tenant-manager.client.js';
import { TenancyEventDispatcher } from './tenancy-event.dispatcher.js';
import { TenancyEventProcessor } from './tenancy-event.processor.js';
import { TenancyHandlerRegistry } from './tenancy-handler.registry.js';
import { TenancyMetadataAccessor } from './tenancy-metadata.accessor.js';
import { TENANCY_RESOLVED_OPTIONS } from './tenancy.constants.js';
import { TenancyExplorer } from './tenancy.explorer.js';
import { ConfigurableTenancyModule, TENANCY_MODULE_OPTIONS } from './tenancy.module-definition.js';
import { TenancyPoller } from './tenancy.poller.js';
import { TenancyTelemetry } from './tenancy.telemetry.js';
import { resolveTenancyOptions, type TenancyModuleOptions } from './tenancy-options.js';

/**
 * Follows the Tenant Manager and dispatches its events to `@OnTenancyEvent` methods.
 *
 * ```ts
 * TenancyModule.forRoot({ url: 'http://tenancy-manager:8080', controllerName: 'my-controller' })
 * TenancyModule.forRootAsync({ inject: [ConfigService], useFactory: (c) => ({ … }) })
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
    TenantManagerClient,
    StatusReporter,
    TenancyEventDispatcher,
    TenancyEventProcessor,
    TenancyTelemetry,
    TenancyPoller,
  ],
  exports: [TenancyPoller],
})
export class TenancyModule extends ConfigurableTenancyModule {}
