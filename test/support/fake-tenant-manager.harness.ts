import { afterEach, beforeEach } from 'vitest';
import { FakeTenantManager, type FakeTenantManagerOptions } from 'nestjs-tenancy/testing';
import { TestApps } from './tenancy-test-app.js';

/** A suite's apps and fake Tenant Manager; `fake` and `url` are fresh for every test. */
export class FakeTenantManagerHarness {
  /** Apps started by the test; all closed after each test, before the fake stops. */
  readonly apps = new TestApps();
  /** The current fake. A test may assign another one: afterEach stops whichever is current. */
  fake: FakeTenantManager;
  /** Base URL of `fake` as started before the test (or by {@link replace}). */
  url: string;

  constructor(private readonly options: FakeTenantManagerOptions) {}

  /** Starts a fresh fake with the suite's options; run before each test. */
  async setUp(): Promise<void> {
    this.fake = new FakeTenantManager(this.options);
    this.url = await this.fake.start();
  }

  /** Closes every app, then stops the current fake; run after each test. */
  async tearDown(): Promise<void> {
    await this.apps.closeAll();
    await this.fake?.stop();
  }

  /**
   * Stops the current fake and starts a fresh one (empty state) built with `options`
   * over the suite's, on `port` if given (else any free port). Resolves to its URL.
   */
  async replace({ port, ...options }: FakeTenantManagerOptions & { port?: number } = {}): Promise<string> {
    await this.fake.stop();
    this.fake = new FakeTenantManager({ ...this.options, ...options });
    this.url = await this.fake.start(port);
    return this.url;
  }
}

/**
 * Registers the e2e setup most suites share: before each test a FakeTenantManager
 * registering `controller` starts; after each test every app is closed, then the
 * fake stops. Call it inside `describe`. Hooks run in stack order: a suite's
 * beforeEach registered after this call sees the started fake, its afterEach runs
 * before the apps close; hooks registered before it wrap the whole setup.
 */
export function useFakeTenantManager(
  controller: string,
  options: FakeTenantManagerOptions = {},
): FakeTenantManagerHarness {
  const harness = new FakeTenantManagerHarness({ controllers: [controller], ...options });
  beforeEach(() => harness.setUp());
  afterEach(() => harness.tearDown());
  return harness;
}
