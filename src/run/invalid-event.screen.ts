import type { DecodedEventsPage } from '../tenant-manager/tenant-manager.wire.js';
import { MAX_INVALID_EVENT_STRIKES } from '../tenancy.constants.js';
import { TenantManagerRequestError } from '../tenancy.errors.js';
import { invalidEvent, invalidEventSkipped } from '../tenancy.messages.js';
import type { TenancyLogger } from '../telemetry/tenancy-logger.js';
import { InvalidEventTracker } from './invalid-event.tracker.js';
import { InvalidEventsError } from './page-judge.js';

/**
 * Screens the fetched pages of one kind (snapshots or polls) for invalid events. A page
 * with one is treated as a failed request (the cursor stays), because corruption on the
 * way is usually transient; one still invalid after MAX_INVALID_EVENT_STRIKES fetches
 * is reported once more and skipped.
 */
export class InvalidEventScreen {
  private readonly tracker = new InvalidEventTracker(MAX_INVALID_EVENT_STRIKES);

  constructor(private readonly logger: TenancyLogger) {}

  /** Throws an {@link InvalidEventsError} while the page must be fetched again. */
  check(page: DecodedEventsPage): void {
    if (page.invalid.length === 0) return;
    const { blocking, skipped } = this.tracker.check(page.invalid);
    if (blocking.length > 0) throw new InvalidEventsError(invalidEvent(blocking[0].reasons, blocking[0].raw));
    for (const bad of skipped) {
      const error = new TenantManagerRequestError(invalidEventSkipped(MAX_INVALID_EVENT_STRIKES, bad.raw), 200);
      this.logger.failure(error, error.message);
    }
  }
}
