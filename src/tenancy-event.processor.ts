import { Inject, Injectable, Logger } from '@nestjs/common';
import type { QueueItem, WorkOutcome } from './org-ordering.queue.js';
import { StatusReporter } from './status.reporter.js';
import { TenancyEventDispatcher } from './tenancy-event.dispatcher.js';
import { TenancyHandlerRegistry } from './tenancy-handler.registry.js';
import { LOG_CONTEXT, TENANCY_RESOLVED_OPTIONS } from './tenancy.constants.js';
import { eventFailed, eventParked } from './tenancy.messages.js';
import { reportFailure } from './failure.reporter.js';
import type { ResolvedTenancyOptions } from './tenancy-options.js';
import { ControllerStatus, EventType, type TenancyEvent } from './tenancy-event.js';

/** An event waiting in the queue, with where it came from. */
export interface QueuedEvent {
  readonly event: TenancyEvent;
  readonly replay: boolean;
}

/** Per-run signals: handlers are aborted at shutdown; nothing is written once closed. */
export interface ProcessingRun {
  readonly shutdown: AbortSignal;
  readonly closed: boolean;
}

/**
 * One attempt at one event, with the reference client's status lifecycle:
 * `in_progress`, the handlers, then `completed` (created) or a status DELETE
 * (deleted) on success, `error` with the message on failure.
 */
@Injectable()
export class TenancyEventProcessor {
  private readonly logger = new Logger(LOG_CONTEXT);

  constructor(
    @Inject(TENANCY_RESOLVED_OPTIONS) private readonly options: ResolvedTenancyOptions,
    private readonly registry: TenancyHandlerRegistry,
    private readonly dispatcher: TenancyEventDispatcher,
    private readonly status: StatusReporter,
  ) {}

  async process(item: QueueItem<QueuedEvent>, run: ProcessingRun): Promise<WorkOutcome> {
    const { event, replay } = item.payload;
    const { resourceType, resourceId } = event;
    await this.status.report(resourceType, resourceId, {
      kind: 'put',
      status: ControllerStatus.InProgress,
      message: '',
    });
    const result = await this.dispatcher.dispatch(event, this.registry.match(event), {
      replay,
      attempt: item.attempt,
      shutdown: run.shutdown,
    });
    if (!result.error) {
      if (!run.closed) {
        // Deleting our row on a successful delete is what lets the Tenant Manager
        // hard-delete the resource; until then it stays "deleting" (and is replayed).
        await this.status.report(
          resourceType,
          resourceId,
          event.eventType === EventType.Deleted
            ? { kind: 'delete' }
            : { kind: 'put', status: ControllerStatus.Completed, message: '' },
        );
      }
      return 'done';
    }
    if (run.shutdown.aborted) {
      // Aborted by shutdown, not failed: leave the row as it is; a restart replays it.
      this.logger.warn(`[${this.options.controllerName}] ${String(event)} abandoned at shutdown (attempt ${item.attempt})`);
      return 'retry';
    }
    const error = result.error;
    if (!run.closed) {
      await this.status.report(resourceType, resourceId, {
        kind: 'put',
        status: ControllerStatus.Error,
        message: error.message,
      });
    }
    const maxAttempts = this.options.maxAttempts;
    if (error.terminal || (maxAttempts !== undefined && item.attempt >= maxAttempts)) {
      reportFailure(this.logger, this.options, error, eventParked(event, item.attempt, error.message), 'warn');
      await result.abandoned;
      return 'park';
    }
    reportFailure(this.logger, this.options, error, eventFailed(event, item.attempt, error.message));
    await result.abandoned;
    return 'retry';
  }
}
