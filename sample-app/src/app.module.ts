import { Module } from '@nestjs/common';
import { Registry } from 'prom-client';
import { TenancyModule, type TenancyModuleOptions } from 'nestjs-tenancy';
import { SampleConfig } from './config/sample.config.js';
import { SampleConfigModule } from './config/sample-config.module.js';
import { HealthModule } from './health/health.module.js';
import { MetricsRegistryModule } from './health/metrics-registry.module.js';
import { ProvisioningModule } from './provisioning/provisioning.module.js';

/**
 * The sample app: a static module, the shape to copy. Configuration comes from the
 * {@link SampleConfig} provider (the environment; tests override it), the
 * Tenant Manager from its URL: main.ts alone decides to start an emulator.
 */
@Module({
  imports: [
    SampleConfigModule,
    MetricsRegistryModule,
    // forRootAsync, because the options come from other providers (in a bigger
    // app: ConfigService from @nestjs/config).
    TenancyModule.forRootAsync({
      inject: [SampleConfig, Registry],
      useFactory: (config: SampleConfig, registry: Registry): TenancyModuleOptions => ({
        url: config.tenantManagerUrl,
        controllerName: config.controllerName,
        pollInterval: config.pollInterval,
        metrics: { registry },
      }),
    }),
    ProvisioningModule,
    HealthModule,
  ],
})
export class AppModule {}
