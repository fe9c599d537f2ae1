import type { ProcessingRun, QueuedEvent } from '../../../src/dispatch/attempt-runner.js';
import type { QueueItem, WorkOutcome } from '../../../src/dispatch/keyed-work-queue.js';
import { TenancyRun } from '../../../src/run/tenancy-run.js';
import { TenancyLogger } from '../../../src/telemetry/tenancy-logger.js';
import { TenancyTelemetry } from '../../../src/telemetry/tenancy.telemetry.js';
import { resolveTenancyOptions } from '../../../src/tenancy-options.resolver.js';
import type { TenancyModuleOptions } from '../../../src/tenancy-options.js';
import type { ScriptedTenantManager } from './scripted-tenant-manager.js';

/** Decides one attempt; the default handles everything at once. */
export type Attempt = (item: QueueItem<QueuedEvent>, run: ProcessingRun) => Promise<WorkOutcome> | WorkOutcome;

/** Fast timings for unit runs. */
export const UNIT_TIMINGS = { pollInterval: 5, initialBackoff: 1, maxBackoff: 20, shutdownTimeout: 1_000 } as const;

/** A TenancyRun on the scripted Tenant Manager, with the attempt decided by the test. */
export function makeRun(
  tm: ScriptedTenantManager,
  attempt: Attempt = () => 'done',
  overrides: Partial<TenancyModuleOptions> = {},
  predecessor?: TenancyRun,
): TenancyRun {
  const options = resolveTenancyOptions({ url: 'http://127.0.0.1:1', controllerName: 'unit', ...UNIT_TIMINGS, ...overrides });
  return new TenancyRun(
    {
      options,
      client: tm,
      follows: () => true,
      attempts: { process: async (item, run) => attempt(item, run) },
      telemetry: new TenancyTelemetry(options, new TenancyLogger(options)),
      logger: new TenancyLogger(options),
    },
    predecessor?.stillRunning(),
  );
}

/** Starts a run and resolves once its replay is queued. */
export function startRun(run: TenancyRun): Promise<void> {
  return new Promise((resolve) => run.start(resolve));
}

/** A promise with its resolver, for holding a handler. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}
