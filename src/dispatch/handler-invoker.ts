import { Inject, Injectable } from '@nestjs/common';
import { MIN_ABANDONED_HANDLER_GRACE, TENANCY_RESOLVED_OPTIONS } from '../tenancy.constants.js';
import { TenancyLogger } from '../telemetry/tenancy-logger.js';
import { settleWithin } from '../common/deadline.js';
import { TenancyHandlerError, TenancyTerminalError, toError } from '../tenancy.errors.js';
import { handlerFailed, handlerIgnoredAbort, handlerTimedOut } from '../tenancy.messages.js';
import type { TenancyHandler } from '../discovery/tenancy-handler.registry.js';
import { TenancyTelemetry } from '../telemetry/tenancy.telemetry.js';
import type { ResolvedTenancyOptions } from '../tenancy-options.js';
import type { TenancyEvent, TenancyEventContext } from '../tenancy-event.js';
import { PerSignalSet } from '../common/per-signal-set.js';

/** What one attempt at one event's handlers came to. */
export interface InvocationResult {
  /** Undefined when every handler succeeded. */
  readonly error?: TenancyHandlerError;
  /**
   * Settles once every handler that timed out has settled, or the grace period
   * passed: the next attempt at this key must not overlap an abandoned one.
   */
  readonly abandoned: Promise<void>;
}

const NOTHING_ABANDONED = Promise.resolve();
// The outcome of every attempt whose handlers all succeeded in time: shared, not made per event.
const ALL_SUCCEEDED: InvocationResult = Object.freeze({ abandoned: NOTHING_ABANDONED });
const HANDLER_SUCCEEDED: { error?: Error; message: string; abandoned?: Promise<void> } = Object.freeze({ message: '' });

/** Runs an event's matching handlers, in discovery order; all run, all must succeed. */
@Injectable()
export class HandlerInvoker {
  // Per run's shutdown signal: the attempts to abort when it fires.
  private readonly running = new PerSignalSet<AttemptContext>(abortAll);

  constructor(
    @Inject(TENANCY_RESOLVED_OPTIONS) private readonly options: ResolvedTenancyOptions,
    private readonly telemetry: TenancyTelemetry,
    private readonly logger: TenancyLogger,
  ) {}

  async dispatch(
    event: TenancyEvent,
    handlers: readonly TenancyHandler[],
    context: { replay: boolean; attempt: number; shutdown: AbortSignal },
  ): Promise<InvocationResult> {
    // Made on the first failure or abandoned handler only: most events have neither.
    let failures: Array<{ handler: string; message: string; error: Error }> | undefined;
    let abandoned: Promise<void>[] | undefined;
    for (const handler of handlers) {
      const started = performance.now();
      const outcome = await this.runOne(event, handler, context);
      this.telemetry.handlerFinished(handler.name, (performance.now() - started) / 1000, !outcome.error);
      if (outcome.error) (failures ??= []).push({ handler: handler.name, message: outcome.message, error: outcome.error });
      if (outcome.abandoned) (abandoned ??= []).push(outcome.abandoned);
    }
    if (abandoned === undefined && failures === undefined) return ALL_SUCCEEDED;
    const settled = abandoned === undefined ? NOTHING_ABANDONED : Promise.all(abandoned).then(() => undefined);
    if (failures === undefined) return { abandoned: settled };
    const error = new TenancyHandlerError(
      failures.map((f) => f.message).join('; '),
      failures.map((f) => f.handler),
      failures.some((f) => f.error instanceof TenancyTerminalError),
      { cause: failures.length === 1 ? failures[0].error : new AggregateError(failures.map((f) => f.error)) },
    );
    return { error, abandoned: settled };
  }

  private async runOne(
    event: TenancyEvent,
    handler: TenancyHandler,
    context: { replay: boolean; attempt: number; shutdown: AbortSignal },
  ): Promise<{ error?: Error; message: string; abandoned?: Promise<void> }> {
    // A signal of its own per attempt (listeners a handler leaves on it die with it),
    // aborted by the timeout or, through one listener per run, by shutdown.
    const ctx = new AttemptContext(context.replay, context.attempt);
    if (context.shutdown.aborted) ctx.abort(context.shutdown.reason);
    const active = this.running.of(context.shutdown);
    active.add(ctx);
    const timeout = this.options.handlerTimeout;
    let running: Promise<unknown>;
    try {
      running = Promise.resolve(handler.invoke(event, ctx));
    } catch (thrown) {
      running = Promise.reject(thrown);
    }
    let timer: NodeJS.Timeout | undefined;
    const timedOut =
      timeout === undefined
        ? undefined
        : new Promise<typeof TIMED_OUT>((resolve) => (timer = setTimeout(() => resolve(TIMED_OUT), timeout)));
    try {
      const result = await (timedOut ? Promise.race([running, timedOut]) : running);
      if (result === TIMED_OUT) {
        const message = handlerTimedOut(handler.name, timeout!);
        ctx.abort(new Error(message));
        return {
          error: new Error(message),
          message,
          abandoned: this.awaitAbandoned(event, handler, running, context.shutdown),
        };
      }
      return HANDLER_SUCCEEDED;
    } catch (thrown) {
      const error = toError(thrown);
      return { error, message: handlerFailed(handler.name, error) };
    } finally {
      clearTimeout(timer);
      active.delete(ctx);
    }
  }


  // Holds the key's next attempt until the abandoned handler settles, the grace
  // period passes, or shutdown starts (so no grace timer outlives app.close()).
  private async awaitAbandoned(
    event: TenancyEvent,
    handler: TenancyHandler,
    running: Promise<unknown>,
    shutdown: AbortSignal,
  ): Promise<void> {
    const grace = Math.max(MIN_ABANDONED_HANDLER_GRACE, this.options.handlerTimeout ?? 0);
    if ((await settleWithin(running, grace, shutdown)) === 'expired') {
      this.logger.warn(handlerIgnoredAbort(handler.name, event, grace));
    }
  }
}

/**
 * A handler's context. Its abort signal is made when the handler first reads it:
 * most handlers never do, and an AbortController per event was a visible share of
 * a replay's CPU (bench S1 profile).
 */
class AttemptContext implements TenancyEventContext {
  private controller?: AbortController;
  private abortedWith?: { reason: unknown };

  constructor(
    readonly replay: boolean,
    readonly attempt: number,
  ) {}

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.abortedWith) this.controller.abort(this.abortedWith.reason);
    }
    return this.controller.signal;
  }

  abort(reason: unknown): void {
    if (this.abortedWith) return;
    this.abortedWith = { reason };
    this.controller?.abort(reason);
  }
}

function abortAll(attempts: Set<AttemptContext>, reason: unknown): void {
  for (const attempt of attempts) attempt.abort(reason);
}

// A handler may legitimately resolve to any value; only this one means "timed out".
const TIMED_OUT: unique symbol = Symbol('timed out');
