// Decorator metadata for Nest's dependency injection; must load before any Nest class.
import 'reflect-metadata';
import { readdir } from 'node:fs/promises';
import { type DynamicModule, type INestApplication, Logger, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';
import { SampleConfig } from './config/sample.config.js';
import { EmbeddedTenantManager } from './embedded-tenant-manager.js';

const logger = new Logger('Main');

async function bootstrap(): Promise<void> {
  let config = SampleConfig.fromEnv();
  let embedded: EmbeddedTenantManager | undefined;
  if (config.tenantManagerUrl === undefined) {
    embedded = await EmbeddedTenantManager.start(config);
    // The app reads its configuration from the environment (SampleConfigModule):
    // point it at the emulator exactly as a deployment would point it at the service.
    process.env['TENANT_MANAGER_URL'] = embedded.url;
    config = SampleConfig.fromEnv();
    await warnAboutEarlierRuns(config.dataDir);
  }
  let app: INestApplication | undefined;
  try {
    app = await NestFactory.create(
      embedded === undefined ? AppModule : withEmbeddedTenantManager(embedded),
      // Per-event lines are verbose; keep the demo readable unless NEST_LOG_LEVEL is set (then every level).
      { abortOnError: false, ...(process.env.NEST_LOG_LEVEL ? {} : { logger: ['fatal', 'error', 'warn', 'log'] }) },
    );
    // SIGINT/SIGTERM: stop polling and drain in-flight handlers, close HTTP, then
    // exit with code 0 (Nest's default would re-raise the signal instead).
    app.enableShutdownHooks(['SIGINT', 'SIGTERM'], { useProcessExit: true });
    await app.listen(config.port, config.host);
  } catch (error) {
    await app?.close();
    await embedded?.stop();
    throw error;
  }
  const url = (await app.getUrl()).replace('[::1]', 'localhost');
  logger.log(`sample app listening on ${url}; workspaces in ${config.dataDir}`);
  logger.log(`following ${config.tenantManagerUrl} as "${config.controllerName}"`);
  logger.log(`try: curl -s ${url}/tenants   and   curl -s ${url}/health`);
}

@Module({})
class LocalRunModule {}

/**
 * AppModule plus the embedded emulator as a provider, so that Nest stops the
 * emulator (onApplicationShutdown) after the app itself has closed.
 */
function withEmbeddedTenantManager(embedded: EmbeddedTenantManager): DynamicModule {
  return {
    module: LocalRunModule,
    imports: [AppModule],
    providers: [{ provide: EmbeddedTenantManager, useValue: embedded }],
  };
}

/**
 * The embedded emulator keeps its state in memory and starts afresh (new ids) on
 * every run, so workspaces from an earlier run belong to orgs it has never heard of.
 */
async function warnAboutEarlierRuns(dataDir: string): Promise<void> {
  const entries = await readdir(dataDir).catch(() => []);
  if (entries.some((name) => !name.startsWith('.'))) {
    logger.warn(
      `${dataDir} holds workspaces from an earlier run; the embedded Tenant Manager starts ` +
        'afresh each time (new ids), so they belong to nothing it knows (delete the directory to start over)',
    );
  }
}

bootstrap().catch((error: unknown) => {
  logger.error(`cannot start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
