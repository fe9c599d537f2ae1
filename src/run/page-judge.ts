import type { DecodedEventsPage } from '../tenant-manager/tenant-manager.wire.js';
import { MAX_INVALID_EVENT_STRIKES } from '../tenancy.constants.js';
import { TenantManagerRequestError } from '../tenancy.errors.js';
import { contradictoryPage, contradictoryPageSkipped } from '../tenancy.messages.js';
import type { TenancyLogger } from '../telemetry/tenancy-logger.js';
import type { TenancyEvent } from '../tenancy-event.js';

/** A page held back because of invalid or self-contradicting events (a failed fetch, backed off). */
export class InvalidEventsError extends TenantManagerRequestError {}

/** What to do with an incremental page. */
export type PageVerdict =
  | { readonly kind: 'went-back' }
  | { readonly kind: 'ok'; readonly events: readonly TenancyEvent[]; readonly through: number };

/**
 * Judges an incremental page against the `after` it answered. Its `lastEventId`
 * below `after` means the event log was replaced. Events outside (after, lastEventId]
 * make the page contradict itself: it is a malformed response (backed off and
 * fetched again), and once it stayed so for MAX_INVALID_EVENT_STRIKES fetches at the
 * same `after` it is taken for what it can mean, so it is never fetched forever:
 * events at or below `after` are skipped, the cursor moves past the highest id.
 */
export class PageJudge {
  private strikes = 0;
  private strikesAfter = -1;

  constructor(private readonly logger: TenancyLogger) {}

  judge(page: DecodedEventsPage, after: number): PageVerdict {
    if (page.lastEventId < after) return { kind: 'went-back' };
    const outside: number[] = [];
    let highest = page.lastEventId;
    for (const event of page.events) {
      if (event.id <= after || event.id > page.lastEventId) outside.push(event.id);
      highest = Math.max(highest, event.id);
    }
    if (outside.length === 0) {
      this.strikes = 0;
      return { kind: 'ok', events: page.events, through: page.lastEventId };
    }
    this.strikes = this.strikesAfter === after ? this.strikes + 1 : 1;
    this.strikesAfter = after;
    if (this.strikes < MAX_INVALID_EVENT_STRIKES) {
      throw new InvalidEventsError(contradictoryPage(after, page.lastEventId, outside), 200);
    }
    const kept = page.events.filter((event) => event.id > after).sort((a, b) => a.id - b.id);
    const skipped = page.events.length - kept.length;
    const error = new TenantManagerRequestError(contradictoryPageSkipped(after, this.strikes, highest, skipped), 200);
    this.logger.failure(error, error.message, 'error', { after, lastEventId: page.lastEventId, cursor: highest });
    this.strikes = 0;
    return { kind: 'ok', events: kept, through: highest };
  }
}
