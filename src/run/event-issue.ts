import type { QueueItem } from '../dispatch/keyed-work-queue.js';
import type { QueuedEvent } from '../dispatch/attempt-runner.js';
import type { TenancyEventIssue } from '../tenancy-status.js';

/** The public view of a queued event that is failing or parked. */
export function toEventIssue(item: QueueItem<QueuedEvent>, attempts: number): TenancyEventIssue {
  const { event, replay, lastError } = item.payload;
  return {
    eventId: event.id,
    eventType: event.eventType,
    resourceType: event.resourceType,
    resourceId: event.resourceId,
    resourceName: event.resourceName,
    replay,
    attempts,
    lastError: lastError ?? null,
  };
}
