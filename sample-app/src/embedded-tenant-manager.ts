import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import { FakeTenantManager, seedDemo } from 'nestjs-tenancy/testing';
import type { SampleConfig } from './config/sample.config.js';

/** How often the emulator hard-deletes what every registered controller has let go of. */
const CLEANUP_INTERVAL_MS = 1000;

/**
 * The Tenant Manager emulator from `nestjs-tenancy/testing`, run inside this
 * process when no `TENANT_MANAGER_URL` is given, so `npm start` needs nothing else.
 * Seeded with org `demo` and projects `alpha`, `beta`, `gamma`; the sample's
 * controller is registered for orgs and projects, so the derived status of a
 * resource waits for it, and a deleted resource is hard-deleted only once it has
 * removed its status row. Every request it serves is logged.
 */
export class EmbeddedTenantManager implements OnApplicationShutdown {
  private readonly logger = new Logger('TenantManager');
  private stopping: Promise<void> | undefined;

  private constructor(
    private readonly fake: FakeTenantManager,
    /** Base URL, e.g. `http://127.0.0.1:8080`. */
    readonly url: string,
  ) {}

  /** Seeds and starts the emulator on `127.0.0.1:<emulatorPort>`. */
  static async start(config: SampleConfig): Promise<EmbeddedTenantManager> {
    const logger = new Logger('TenantManager');
    const fake = new FakeTenantManager({
      controllers: [config.controllerName],
      cleanupInterval: CLEANUP_INTERVAL_MS,
      // One line per request only when asked for (EMULATOR_VERBOSE=1): it drowns the app's own log.
      logRequests: config.emulatorVerbose ? (line) => logger.log(line) : false,
      // Nothing asserts on a live run: keep no request history in memory.
      recordRequests: false,
    });
    seedDemo(fake);
    const url = await fake.start(config.emulatorPort, '127.0.0.1');
    logger.log(`emulator listening on ${url} (seeded: org "demo" with projects alpha, beta, gamma)`);
    return new EmbeddedTenantManager(fake, url);
  }

  // Nest runs onApplicationShutdown after the poller has drained (it stops in
  // beforeApplicationShutdown) and the HTTP server has closed: nothing calls us any more.
  async onApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  /** Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= this.fake.stop().then(() => this.logger.log('emulator stopped'));
    return this.stopping;
  }
}
