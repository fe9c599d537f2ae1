import { Logger } from '@nestjs/common';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AttemptRunner, type ProcessingRun, type QueuedEvent } from '../../../src/dispatch/attempt-runner.js';
import type { HandlerInvoker } from '../../../src/dispatch/handler-invoker.js';
import type { TenancyHandlerRegistry } from '../../../src/discovery/tenancy-handler.registry.js';
import type { StatusWriter } from '../../../src/tenant-manager/status-writer.js';
import { TenancyLogger } from '../../../src/telemetry/tenancy-logger.js';
import { TenancyTelemetry } from '../../../src/telemetry/tenancy.telemetry.js';
import { TenancyHandlerError } from '../../../src/tenancy.errors.js';
import { TenancyEvent } from '../../../src/tenancy-event.js';
import { resolveTenancyOptions } from '../../../src/tenancy-options.resolver.js';
import { CapturingLogger } from '../../support/tenancy-test-app.js';

const event = new TenancyEvent({
  id: 7,
  eventType: 'created',
  resourceType: 'org',
  resourceId: '00000000-0000-4000-8000-000000000007',
  resourceName: 'acme',
  orgId: null,
  orgName: null,
  folderId: null,
  createdAt: new Date(0),
});

describe('AttemptRunner', () => {
  let logs: CapturingLogger;
  let writes: string[];
  beforeAll(() => Logger.overrideLogger((logs = new CapturingLogger())));
  afterAll(() => Logger.overrideLogger(['log', 'error', 'warn', 'debug', 'verbose', 'fatal']));
  beforeEach(() => {
    logs.lines.length = 0;
    writes = [];
  });

  const options = resolveTenancyOptions({ url: 'http://127.0.0.1:1', controllerName: 'unit' });
  /** A runner whose handlers fail once their run's signal is aborted. */
  const runner = (result: () => Promise<{ error?: TenancyHandlerError; abandoned: Promise<void> }>) =>
    new AttemptRunner(
      options,
      { match: () => [{ name: 'H#handle' }] } as unknown as TenancyHandlerRegistry,
      { dispatch: result } as unknown as HandlerInvoker,
      new TenancyTelemetry(options, new TenancyLogger(options)),
      new TenancyLogger(options),
    );
  const run = (overrides: Partial<ProcessingRun>): ProcessingRun => ({
    shutdown: new AbortController().signal,
    closed: false,
    lostLeadership: false,
    status: { report: async (_t: string, _id: string, wanted: { kind: string; status?: string }) => (writes.push(wanted.status ?? wanted.kind), true) } as unknown as StatusWriter,
    ...overrides,
  });
  const item = () => ({ key: 'k', attempt: 1, payload: { event, replay: false, started: false, epoch: 0 } as QueuedEvent });
  const aborted = (reason: string) => {
    const controller = new AbortController();
    controller.abort(new Error(reason));
    return controller.signal;
  };
  const failed = async () => ({ error: new TenancyHandlerError('H#handle: aborted', ['H#handle'], false), abandoned: Promise.resolve() });

  it('a handler aborted by a leadership loss is logged as such, not as "abandoned at shutdown", and writes no status', async () => {
    // The loss comes while the handler runs: the run closes and aborts its signal.
    const controller = new AbortController();
    const state = run({ shutdown: controller.signal });
    const losing = async () => {
      Object.assign(state, { closed: true, lostLeadership: true });
      controller.abort(new Error('leadership lost'));
      return failed();
    };
    writes.length = 0;
    const outcome = await runner(losing).process(item(), state);
    expect(outcome).toBe('retry');
    expect(writes).toEqual(['in_progress']);
    writes.length = 0;
    const warned = logs.lines.filter((l) => l.level === 'warn').map((l) => l.message);
    expect(warned.some((m) => m.includes('abandoned: leadership lost'))).toBe(true);
    expect(warned.some((m) => m.includes('abandoned at shutdown'))).toBe(false);
    expect(writes).toEqual([]);
  });

  it('a handler aborted at shutdown is logged as abandoned at shutdown', async () => {
    await runner(failed).process(item(), run({ shutdown: aborted('application shutting down') }));
    expect(logs.lines.some((l) => l.level === 'warn' && l.message.includes('abandoned at shutdown'))).toBe(true);
  });

  it('does not wait for status writes: a write that never answers does not hold the event', async () => {
    const never = { report: () => new Promise<boolean>(() => {}) } as unknown as StatusWriter;
    const outcome = await runner(async () => ({ abandoned: Promise.resolve() })).process(item(), run({ status: never }));
    expect(outcome).toBe('done');
  });
});
