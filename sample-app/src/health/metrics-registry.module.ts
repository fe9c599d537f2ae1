import { Global, Module } from '@nestjs/common';
import { Registry } from 'prom-client';

/**
 * The app's own prom-client registry (never the global one), shared by the
 * tenancy module (which registers its metrics on it) and `GET /metrics`.
 */
@Global()
@Module({
  providers: [{ provide: Registry, useFactory: () => new Registry() }],
  exports: [Registry],
})
export class MetricsRegistryModule {}
