import { Logger } from '@nestjs/common';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { AttemptRunner, type ProcessingRun, type QueuedEvent } from '../../../src/dispatch/attempt-runner.js';
import type { HandlerInvoker, InvocationResult } from '../../../src/dispatch/handler-invoker.js';
import type { TenancyHandlerRegistry } from '../../../src/discovery/tenancy-handler.registry.js';
import type { StatusWriter } from '../../../src/tenant-manager/status-writer.js';
import { TenancyLogger } from '../../../src/telemetry/tenancy-logger.js';
import { TenancyTelemetry } from '../../../src/telemetry/tenancy.telemetry.js';
import { TenancyHandlerError } from '../../../src/tenancy.errors.js';
import { TenancyEvent } from '../../../src/tenancy-event.js';
import { resolveTenancyOptions } from '../../../src/tenancy-options.resolver.js';
import type { ResolvedTenancyOptions } from '../../../src/tenancy-options.js';
import { CapturingLogger } from '../../support/tenancy-test-app.js';
import { waitFor } from '../../support/wait-for.js';

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
  /** A runner with one handler `H#handle` whose invocation comes to what `result` gives. */
  const runnerWith = (opts: ResolvedTenancyOptions, result: () => Promise<InvocationResult>) =>
    new AttemptRunner(
      opts,
      { match: () => [{ name: 'H#handle' }] } as unknown as TenancyHandlerRegistry,
      { dispatch: result } as unknown as HandlerInvoker,
      new TenancyTelemetry(opts, new TenancyLogger(opts)),
      new TenancyLogger(opts),
    );
  const runner = (result: () => Promise<InvocationResult>) => runnerWith(options, result);
  const recordWrite = (_t: string, _id: string, wanted: { kind: string; status?: string }) => void writes.push(wanted.status ?? wanted.kind);
  /** A congested status writer that records its writes; `onWait` gets the function that makes room. */
  const congestedWriter = (onWait: (room: () => void) => void) =>
    ({
      post: recordWrite,
      congested: true,
      whenRoom: () => new Promise<void>((resolve) => onWait(resolve)),
    }) as unknown as StatusWriter;
  const run = (overrides: Partial<ProcessingRun>): ProcessingRun => ({
    shutdown: new AbortController().signal,
    closed: false,
    lostLeadership: false,
    status: { post: recordWrite, congested: false } as unknown as StatusWriter,
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

  it('a handler aborted at shutdown is logged as abandoned at shutdown, retried, and writes no error', async () => {
    const outcome = await runner(failed).process(item(), run({ shutdown: aborted('application shutting down') }));
    expect(logs.lines.some((l) => l.level === 'warn' && l.message.includes('abandoned at shutdown'))).toBe(true);
    // Aborted, not failed: the row keeps its state for the next run to replay.
    expect(outcome).toBe('retry');
    expect(writes).toEqual(['in_progress']);
  });

  it('does not wait for status writes: a write that never answers does not hold the event', async () => {
    // The writer's own requests never answer; the event finishes all the same.
    const never = { post: () => undefined, congested: false } as unknown as StatusWriter;
    const outcome = await runner(async () => ({ abandoned: Promise.resolve() })).process(item(), run({ status: never }));
    expect(outcome).toBe('done');
  });

  it('holds the event back while the status writer is congested, and lets it go once there is room', async () => {
    let room!: () => void;
    const congested = congestedWriter((resolve) => (room = resolve));
    let outcome: string | undefined;
    const processing = runner(async () => ({ abandoned: Promise.resolve() }))
      .process(item(), run({ status: congested }))
      .then((o) => (outcome = o));
    await waitFor(() => room !== undefined);
    expect(writes).toEqual(['in_progress', 'completed']);
    expect(outcome).toBeUndefined();
    room();
    await processing;
    expect(outcome).toBe('done');
  });

  it.each([
    ['retried', 1, 'retry'],
    ['parked', 5, 'park'],
  ])('holds a failing event that is %s back while the status writer is congested, like a handled one', async (_what, attempt, expected) => {
    const parking = resolveTenancyOptions({ url: 'http://127.0.0.1:1', controllerName: 'unit', maxAttempts: 5 });
    const failing = runnerWith(parking, failed);
    let room: (() => void) | undefined;
    const congested = congestedWriter((resolve) => (room = resolve));
    let outcome: string | undefined;
    const processing = failing
      .process({ ...item(), attempt }, run({ status: congested }))
      .then((o) => (outcome = o));
    await waitFor(() => room !== undefined, { message: 'the attempt waits for room' });
    expect(writes).toEqual(['in_progress', 'error']);
    expect(outcome).toBeUndefined();
    room!();
    await processing;
    expect(outcome).toBe(expected);
  });

  describe('inProgressAfter', () => {
    const withDelay = resolveTenancyOptions({ url: 'http://127.0.0.1:1', controllerName: 'unit', inProgressAfter: 50 });
    const delayedRunner = (result: () => Promise<InvocationResult>) => runnerWith(withDelay, result);

    it('a handler done sooner writes only its outcome: one status write', async () => {
      expect(await delayedRunner(async () => ({ abandoned: Promise.resolve() })).process(item(), run({}))).toBe('done');
      expect(writes).toEqual(['completed']);
    });

    it('a handler still running after it writes in_progress, then the outcome', async () => {
      let finish!: () => void;
      const slow = () =>
        new Promise<{ abandoned: Promise<void> }>((resolve) => (finish = () => resolve({ abandoned: Promise.resolve() })));
      const processing = delayedRunner(slow).process(item(), run({}));
      await waitFor(() => writes.length === 1, { timeout: 5_000, message: 'in_progress after 50 ms' });
      expect(writes).toEqual(['in_progress']);
      finish();
      expect(await processing).toBe('done');
      expect(writes).toEqual(['in_progress', 'completed']);
    });

    describe('with a handler that never settles', () => {
      beforeEach(() => vi.useFakeTimers());
      afterEach(() => vi.useRealTimers());

      it("the run's signal aborting clears the in_progress timer: nothing is written and no timer is left", async () => {
        const controller = new AbortController();
        const hung = () => new Promise<{ abandoned: Promise<void> }>(() => undefined);
        void delayedRunner(hung).process(item(), run({ shutdown: controller.signal }));
        expect(vi.getTimerCount()).toBe(1);
        controller.abort(new Error('application shutting down'));
        expect(vi.getTimerCount()).toBe(0);
        await vi.advanceTimersByTimeAsync(1_000);
        expect(writes).toEqual([]);
      });
    });

    it('a fast failure writes only the error', async () => {
      await delayedRunner(failed).process(item(), run({}));
      expect(writes).toEqual(['error']);
    });
  });
});
