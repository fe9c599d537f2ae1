import { Global, Module } from '@nestjs/common';
import { SampleConfig } from './sample.config.js';

/**
 * The sample's settings as one injectable provider, read from the environment
 * when the app is created. Tests replace it:
 * `Test.createTestingModule({ imports: [AppModule] }).overrideProvider(SampleConfig).useValue(...)`.
 */
@Global()
@Module({
  providers: [{ provide: SampleConfig, useFactory: () => SampleConfig.fromEnv() }],
  exports: [SampleConfig],
})
export class SampleConfigModule {}
