import type { QueuedEvent } from '../dispatch/attempt-runner.js';
import type { QueueItem } from '../dispatch/keyed-work-queue.js';

/**
 * The newest parked item per resource. Waking an older parked event after a newer one
 * ran (a parked create after the delete) would undo the newer state, so each outcome
 * supersedes the resource's parked item in O(1) instead of a scan of the parked list.
 */
export class NewestParked {
  private readonly byResource = new Map<string, QueueItem<QueuedEvent>>();

  /** Records an item's outcome; returns the older parked item it supersedes (to unpark), if any. */
  finished(item: QueueItem<QueuedEvent>, outcome: 'done' | 'park'): QueueItem<QueuedEvent> | undefined {
    const resource = item.payload.event.resourceId;
    const superseded = this.byResource.get(resource);
    if (outcome === 'park') this.byResource.set(resource, item);
    else this.byResource.delete(resource);
    return superseded && superseded !== item ? superseded : undefined;
  }
}
