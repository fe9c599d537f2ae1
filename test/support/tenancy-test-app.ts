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
    extra: { imports?: Array<Type | DynamicModule>; controllers?: Type[]; logs?: CapturingLogger } = {},
  ): Promise<{ app: INestApplicationContext; poller: TenancyPoller; logs: CapturingLogger }> {
    // Nest's logger override is process-wide: apps started together should share one.
    const logs = extra.logs ?? new CapturingLogger();
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

/** Collects log lines (with their structured fields) instead of printing them; set TENANCY_TEST_LOGS=1 to see them. */
export class CapturingLogger implements LoggerService {
  readonly lines: Array<{ level: string; message: string; fields?: Record<string, unknown>; stack?: string; at: number }> =
    [];
  log(message: unknown, ...rest: unknown[]): void {
    this.capture('log', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.capture('warn', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.capture('error', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.capture('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.capture('verbose', message, rest);
  }
  private capture(level: string, message: unknown, rest: unknown[]): void {
    const text = String(message);
    const stack = level === 'error' && typeof rest[0] === 'string' && rest[0].includes('\n    at ') ? rest[0] : undefined;
    this.lines.push({ level, message: text, fields: parseFields(text), stack, at: Date.now() });
    if (process.env.TENANCY_TEST_LOGS) console.log(`[${level}] ${text}`);
  }
}

/** The `key=value` fields the library appends to a line after ` | ` (JSON-quoted strings, numbers, booleans). */
function parseFields(line: string): Record<string, unknown> | undefined {
  const at = line.lastIndexOf(' | ');
  if (at < 0) return undefined;
  const fields: Record<string, unknown> = {};
  for (const match of line.slice(at + 3).matchAll(/(\w+)=("(?:[^"\\]|\\.)*"|\S+)/g)) {
    const raw = match[2];
    fields[match[1]] = raw.startsWith('"') ? JSON.parse(raw) : raw === 'true' ? true : raw === 'false' ? false : raw === 'null' ? null : Number.isNaN(Number(raw)) ? raw : Number(raw);
  }
  return fields;
}
