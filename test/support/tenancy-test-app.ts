import type { DynamicModule, INestApplicationContext, LoggerService, Provider, Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TenancyModule, TenancyPoller, type TenancyModuleOptions } from 'nestjs-tenancy';

/** Options every e2e app gets unless a test says otherwise: fast timings. */
export const FAST_TIMINGS = {
  pollInterval: 50,
  initialBackoff: 10,
  maxBackoff: 100,
  httpTimeout: 2_000,
  shutdownTimeout: 2_000,
} satisfies Partial<TenancyModuleOptions>;

/** Tracks started apps so every test can close them in afterEach. */
export class TestApps {
  private readonly apps: INestApplicationContext[] = [];

  /** Boots a Nest application context with TenancyModule and the given providers. */
  async start(
    options: TenancyModuleOptions,
    providers: Provider[],
    extra: { imports?: Array<Type | DynamicModule>; controllers?: Type[] } = {},
  ): Promise<{ app: INestApplicationContext; poller: TenancyPoller; logs: CapturingLogger }> {
    const logs = new CapturingLogger();
    const moduleRef = await Test.createTestingModule({
      imports: [TenancyModule.forRoot({ ...FAST_TIMINGS, ...options }), ...(extra.imports ?? [])],
      providers,
      controllers: extra.controllers ?? [],
    })
      .setLogger(logs)
      .compile();
    this.apps.push(moduleRef);
    await moduleRef.init();
    return { app: moduleRef, poller: moduleRef.get(TenancyPoller), logs };
  }

  /** Registers an app created elsewhere for closing. */
  track(app: INestApplicationContext): void {
    this.apps.push(app);
  }

  async closeAll(): Promise<void> {
    for (const app of this.apps.splice(0).reverse()) await app.close();
  }
}

/** Collects log lines instead of printing them; set TENANCY_TEST_LOGS=1 to see them. */
export class CapturingLogger implements LoggerService {
  readonly lines: Array<{ level: string; message: string }> = [];
  log(message: unknown): void {
    this.capture('log', message);
  }
  warn(message: unknown): void {
    this.capture('warn', message);
  }
  error(message: unknown): void {
    this.capture('error', message);
  }
  debug(message: unknown): void {
    this.capture('debug', message);
  }
  verbose(message: unknown): void {
    this.capture('verbose', message);
  }
  private capture(level: string, message: unknown): void {
    this.lines.push({ level, message: String(message) });
    if (process.env.TENANCY_TEST_LOGS) console.log(`[${level}] ${String(message)}`);
  }
}
