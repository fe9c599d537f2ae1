import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { Registry } from 'prom-client';
import { TenancyModule, type TenancyModuleOptions } from 'nestjs-tenancy';
import { TenancyHealthIndicator } from 'nestjs-tenancy/terminus';
import { HealthController } from './health.controller.js';
import { MetricsController } from './metrics.controller.js';
import { ProvisioningService } from './provisioning.service.js';
import { SampleConfig } from './sample.config.js';
import { TenantsController } from './tenants.controller.js';
import { WorkspaceStore } from './workspace.store.js';

/** Makes {@link SampleConfig} and the app's metrics registry injectable. */
@Module({})
export class SampleConfigModule {
  static register(config: SampleConfig): DynamicModule {
    return {
      module: SampleConfigModule,
      providers: [{ provide: SampleConfig, useValue: config }, { provide: Registry, useValue: new Registry() }],
      exports: [SampleConfig, Registry],
    };
  }
}

/** Root module of the sample; build it with {@link createAppModule}. */
@Module({})
export class AppModule {}

/**
 * The sample app for one configuration: `main.ts` passes `SampleConfig.fromEnv()`,
 * tests pass a temporary data directory and an emulator's URL. `extra.providers`
 * are added to the root module (main.ts hands over the embedded emulator that way).
 */
export function createAppModule(config: SampleConfig, extra: { providers?: Provider[] } = {}): DynamicModule {
  const configModule = SampleConfigModule.register(config);
  return {
    module: AppModule,
    imports: [
      configModule,
      // forRootAsync, because the options come from another provider (in a bigger
      // app: ConfigService from @nestjs/config).
      TenancyModule.forRootAsync({
        imports: [configModule],
        inject: [SampleConfig, Registry],
        useFactory: (sample: SampleConfig, registry: Registry): TenancyModuleOptions => ({
          url: sample.tenantManagerUrl,
          controllerName: sample.controllerName,
          pollInterval: sample.pollInterval,
          metrics: { registry },
        }),
      }),
      TerminusModule,
    ],
    controllers: [TenantsController, HealthController, MetricsController],
    providers: [WorkspaceStore, ProvisioningService, TenancyHealthIndicator, ...(extra.providers ?? [])],
  };
}
