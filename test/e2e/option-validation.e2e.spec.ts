import { Test } from '@nestjs/testing';
import { describe, expect, it } from 'vitest';
import { TenancyConfigurationError, TenancyModule, type TenancyModuleOptions } from 'nestjs-tenancy';
import { CapturingLogger, FAST_TIMINGS } from '../support/tenancy-test-app.js';

// Nothing here reaches a Tenant Manager: every app fails while its providers are built.
const URL = 'http://127.0.0.1:9';

/** What building an app with these forRootAsync options threw (a TenancyConfigurationError, or the test fails). */
async function startupError(options: Record<string, unknown>): Promise<TenancyConfigurationError> {
  const failure = await Test.createTestingModule({
    // forRootAsync: options built at runtime (from config), where TypeScript cannot check the keys.
    imports: [TenancyModule.forRootAsync({ useFactory: () => options as unknown as TenancyModuleOptions })],
  })
    .setLogger(new CapturingLogger())
    .compile()
    .then(
      async (moduleRef) => {
        await moduleRef.close();
        return undefined;
      },
      (error: unknown) => error,
    );
  expect(failure).toBeInstanceOf(TenancyConfigurationError);
  return failure as TenancyConfigurationError;
}

describe('option validation at startup (e2e)', () => {
  it('a bad Kubernetes Lease timing fails startup with a TenancyConfigurationError naming each bad field', async () => {
    const error = await startupError({
      ...FAST_TIMINGS,
      url: URL,
      controllerName: 'c',
      pollLimit: 0,
      coordination: { type: 'kubernetes-lease', leaseName: 'tenancy-leader', namespace: 'ns', renewDeadline: 20_000 },
    });
    expect(error.message).toBe(
      'TenancyModule option "pollLimit" must be between 1 and 1000 (got 0); ' +
        'TenancyModule option "coordination.renewDeadline" must be below leaseDuration (got 20000 ≥ 15000)',
    );
  });

  it('a cron resyncInterval that never fires (Feb 30) fails startup naming the option and the value', async () => {
    const error = await startupError({ ...FAST_TIMINGS, url: URL, controllerName: 'c', resyncInterval: '0 0 30 2 *' });
    expect(error.message).toBe(
      'TenancyModule option "resyncInterval" must be a cron expression that fires (no execution date within the next 8 years) (got "0 0 30 2 *")',
    );
  });

  it('a custom coordinator with inverted timings fails startup', async () => {
    const error = await startupError({
      ...FAST_TIMINGS,
      url: URL,
      controllerName: 'c',
      coordination: {
        identity: 'replica-a',
        retryPeriod: 5_000,
        renewDeadline: 1_000,
        acquire: async () => true,
        renew: async () => true,
        release: async () => {},
      },
    });
    expect(error.message).toBe(
      'TenancyModule option "coordination.retryPeriod" must be below renewDeadline (got 5000 ≥ 1000)',
    );
  });

  it('a misspelled key in options built from config fails startup, naming the key it was meant to be', async () => {
    const fromConfig = { url: URL, controllerName: 'c', maxAtempts: 3 };
    const error = await startupError({ ...FAST_TIMINGS, ...fromConfig });
    expect(error.message).toBe('TenancyModule option "maxAtempts" is not a known option; did you mean "maxAttempts"?');
  });

  it('forRoot extras (isGlobal) are not options, and are not reported', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [TenancyModule.forRoot({ ...FAST_TIMINGS, url: URL, controllerName: 'c', autoStart: false, isGlobal: false })],
    })
      .setLogger(new CapturingLogger())
      .compile();
    await expect(moduleRef.init()).resolves.toBe(moduleRef);
    await moduleRef.close();
  });
});
