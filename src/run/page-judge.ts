import type { DecodedEventsPage } from '../tenant-manager/tenant-manager.wire.js';
import { MAX_INVALID_EVENT_STRIKES } from '../tenancy.constants.js';
import { TenantManagerRequestError } from '../tenancy.errors.js';
import { contradictoryPage, contradictoryPageSkipped, pageLastEventIdMismatch, pageOverLimit } from '../tenancy.messages.js';
import type { TenancyLogger } from '../telemetry/tenancy-logger.js';
import type { TenancyEvent } from '../tenancy-event.js';

/** A page held back because of invalid or self-contradicting events (a failed fetch, backed off). */
export class InvalidEventsError extends TenantManagerRequestError {}

/** What to do with an incremental page. */
export type PageVerdict =
  | { readonly kind: 'went-back' }
  | { readonly kind: 'ok'; readonly events: readonly TenancyEvent[]; readonly through: number };

/**
 * Judges an incremental page against the `after` and `limit` it answered. Its
 * `lastEventId` below `after` means the event log was replaced. A page contradicts
 * itself when it has events outside (after, lastEventId], more events than `limit`
 * (memory is bounded by what was asked for), or a `lastEventId` other than its highest
 * event id (`after` when empty): trusting that id would skip events never seen.
 * Such a page is a malformed response (backed off and fetched again); once it stayed
 * so for MAX_INVALID_EVENT_STRIKES fetches at the same `after` it is taken for what it
 * can mean, so it is never fetched forever: events at or below `after` are skipped, at
 * most `limit` events are taken, and the cursor moves only to the highest event id
 * taken (stays at `after` when none is).
 */
export class PageJudge {
  private strikes = 0;
  private strikesAfter = -1;

  constructor(private readonly logger: TenancyLogger) {}

  judge(page: DecodedEventsPage, after: number, limit: number): PageVerdict {
    if (page.lastEventId < after) return { kind: 'went-back' };
    const problem = this.contradiction(page, after, limit);
    if (problem === undefined) {
      this.strikes = 0;
      return { kind: 'ok', events: page.events, through: page.lastEventId };
    }
    this.strikes = this.strikesAfter === after ? this.strikes + 1 : 1;
    this.strikesAfter = after;
    if (this.strikes < MAX_INVALID_EVENT_STRIKES) throw new InvalidEventsError(problem, 200);
    const ahead = idsOn(page).filter((id) => id > after).sort((a, b) => a - b);
    // The first `limit` ids after the cursor; the rest stays for the next fetch.
    const through = ahead.length === 0 ? after : ahead[Math.min(ahead.length, limit) - 1];
    const kept = page.events.filter((event) => event.id > after && event.id <= through).sort((a, b) => a.id - b.id);
    const skipped = page.events.filter((event) => event.id <= after).length;
    const error = new TenantManagerRequestError(contradictoryPageSkipped(after, this.strikes, through, skipped), 200);
    this.logger.failure(error, error.message, 'error', { after, lastEventId: page.lastEventId, cursor: through });
    this.strikes = 0;
    return { kind: 'ok', events: kept, through };
  }

  /** What makes the page contradict itself or the request, if anything (one pass over the events: every page is judged). */
  private contradiction(page: DecodedEventsPage, after: number, limit: number): string | undefined {
    const outside: number[] = [];
    let highest = -1;
    for (const event of page.events) {
      if (event.id <= after || event.id > page.lastEventId) outside.push(event.id);
      if (event.id > highest) highest = event.id;
    }
    if (outside.length > 0) return contradictoryPage(after, page.lastEventId, outside);
    if (page.received > limit) return pageOverLimit(after, page.received, limit);
    if (page.received === 0) return page.lastEventId === after ? undefined : pageLastEventIdMismatch(after, page.lastEventId, null);
    let readable = page.events.length;
    for (const raw of [...page.unknown, ...page.invalid.map((bad) => bad.raw)]) {
      const id = idOf(raw);
      if (id === undefined) continue;
      readable += 1;
      if (id > highest) highest = id;
    }
    // An event whose id could not be read may be the one lastEventId names: then only the bounds above apply.
    if (readable < page.received || highest === page.lastEventId) return undefined;
    return pageLastEventIdMismatch(after, page.lastEventId, highest);
  }
}

/** The ids on a page: valid events', and those readable on unknown-typed and invalid ones. */
function idsOn(page: DecodedEventsPage): number[] {
  const ids = page.events.map((event) => event.id);
  for (const raw of [...page.unknown, ...page.invalid.map((bad) => bad.raw)]) {
    const id = idOf(raw);
    if (id !== undefined) ids.push(id);
  }
  return ids;
}

/** The id of a raw wire event, when it has a usable one. */
function idOf(raw: unknown): number | undefined {
  const id = (raw as { id?: unknown } | null)?.id;
  return typeof id === 'number' && Number.isSafeInteger(id) ? id : undefined;
}
