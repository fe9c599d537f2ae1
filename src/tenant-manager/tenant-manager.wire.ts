import { EventType, ResourceType, type TenancyEvent, tenancyEventFromWire } from '../tenancy-event.js';

/** One event as the Tenant Manager sends it, once validated. */
interface WireEvent {
  id: number;
  eventType: EventType;
  resourceType: ResourceType;
  resourceId: string;
  resourceName: string;
  orgId?: string | null;
  orgName?: string | null;
  folderId?: string | null;
  createdAt: string;
}

/** An event that failed validation, kept raw for the report. */
export interface InvalidWireEvent {
  readonly raw: unknown;
  readonly reasons: string;
  /** Identity across fetches: the id, or the raw content without createdAt for replayed events (id 0). */
  readonly identity: string;
}

/** A decoded `GET /v1/events` response. */
export interface DecodedEventsPage {
  readonly events: TenancyEvent[];
  readonly lastEventId: number;
  /** Raw size of `events` on the wire, unknown and invalid ones included. */
  readonly received: number;
  /** Events with an `eventType`/`resourceType` this client does not know. */
  readonly unknown: unknown[];
  readonly invalid: InvalidWireEvent[];
}

/** A response that is not a valid events page at all. */
export class MalformedResponseError extends Error {
  override readonly name = 'MalformedResponseError';
}

const KNOWN_EVENT_TYPES: readonly unknown[] = Object.values(EventType);
const KNOWN_RESOURCE_TYPES: readonly unknown[] = Object.values(ResourceType);

/**
 * Decodes and validates a `GET /v1/events` body. Throws {@link MalformedResponseError}
 * when the envelope is wrong (not JSON, no `events` array, bad `lastEventId`); sorts
 * events into valid, unknown-typed (the model will grow) and invalid.
 */
export async function decodeEventsPage(body: string): Promise<DecodedEventsPage> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (error) {
    throw new MalformedResponseError(`body is not JSON (${(error as Error).message}): ${preview(body)}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new MalformedResponseError(`body is not a JSON object: ${preview(body)}`);
  }
  const { events, lastEventId } = parsed as { events?: unknown; lastEventId?: unknown };
  if (!Array.isArray(events)) {
    throw new MalformedResponseError(`"events" is not an array: ${preview(body)}`);
  }
  if (typeof lastEventId !== 'number' || !Number.isSafeInteger(lastEventId) || lastEventId < 0) {
    throw new MalformedResponseError(`"lastEventId" is not a non-negative integer (got ${JSON.stringify(lastEventId)})`);
  }
  const sorter = new EventsPageSorter();
  for (const raw of events) {
    const pending = sorter.add(raw);
    if (pending !== undefined) await pending;
  }
  return sorter.page(lastEventId, events.length);
}

/**
 * Sorts the events of one page, in order, into valid ({@link TenancyEvent}),
 * unknown-typed (the model will grow) and invalid. Shared by the text decoder above
 * and the byte decoder (events-page.decoder.ts), which feeds it one event at a time.
 */
export class EventsPageSorter {
  private readonly events: TenancyEvent[] = [];
  private readonly unknown: unknown[] = [];
  private readonly invalid: InvalidWireEvent[] = [];
  private readonly shared = new SharedStrings();

  /**
   * Sorts one event. Returns a promise only for an event the fast check does not
   * accept (a rare, slow path): await it before adding the next, to keep the order.
   */
  add(raw: unknown): Promise<void> | undefined {
    if (raw !== null && typeof raw === 'object') {
      const { eventType, resourceType } = raw as { eventType?: unknown; resourceType?: unknown };
      // A new kind of resource or event (e.g. folders) is not corruption: skip it.
      if (
        typeof eventType === 'string' &&
        typeof resourceType === 'string' &&
        (!KNOWN_EVENT_TYPES.includes(eventType) || !KNOWN_RESOURCE_TYPES.includes(resourceType))
      ) {
        this.unknown.push(raw);
        return undefined;
      }
    }
    if (isPlainObject(raw) && obviouslyValid(raw)) {
      this.accept(raw as unknown as WireEvent);
      return undefined;
    }
    return validationProblems(raw).then((reasons) => {
      if (reasons) this.invalid.push({ raw, reasons, identity: identityOf(raw) });
      else this.accept(raw as WireEvent);
    });
  }

  /** The page so far; `received` counts every event on the wire, unknown and invalid ones included. */
  page(lastEventId: number, received: number): DecodedEventsPage {
    return { events: this.events, lastEventId, received, unknown: this.unknown, invalid: this.invalid };
  }

  private accept(dto: WireEvent): void {
    const shared = this.shared;
    // An org's id and name come once with the org and again with each of its projects:
    // one string each for the whole page (a queued 100k replay holds every one of them).
    const org = dto.resourceType === ResourceType.Org;
    this.events.push(
      tenancyEventFromWire(
        {
          id: dto.id,
          eventType: dto.eventType,
          resourceType: dto.resourceType,
          resourceId: org ? shared.of(dto.resourceId) : dto.resourceId,
          resourceName: org ? shared.of(dto.resourceName) : dto.resourceName,
          orgId: dto.orgId == null ? null : shared.of(dto.orgId),
          orgName: dto.orgName == null ? null : shared.of(dto.orgName),
          folderId: dto.folderId ?? null,
        },
        // A replay's events share one timestamp; the Date is made when a handler reads it.
        shared.of(dto.createdAt),
      ),
    );
  }
}

// The Tenant Manager answers 400 to a status write for the nil UUID: such an event
// could never complete, so it is invalid like any other malformed id.
const NIL_UUID = '00000000-0000-0000-0000-000000000000';

// Sufficient (never looser) checks for the common valid event; anything they do not
// accept goes to class-validator (wire-event.schema.ts), which decides and words the reasons. Validating
// 100k replayed events with class-validator alone took ~0.9 s (bench S6).
// class-validator's IsUUID() ('all': versions 1-8, RFC variant), minus its nil/max special cases.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
// RFC 3339 as Go writes it: `Z`, or an offset such as `+02:00` for a non-UTC clock.
// Years 1000-9999 only: validator.js rejects earlier ones (Go's zero time, 0001-01-01).
const RFC3339_TIMESTAMP = /^([1-9]\d{3}-\d{2}-\d{2})T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$/;

function obviouslyValid(raw: Record<string, unknown>): boolean {
  const { id, eventType, resourceType, resourceId, resourceName, orgId, orgName, folderId, createdAt } = raw;
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) return false;
  if (!KNOWN_EVENT_TYPES.includes(eventType) || !KNOWN_RESOURCE_TYPES.includes(resourceType)) return false;
  if (typeof resourceId !== 'string' || !UUID.test(resourceId) || resourceId === NIL_UUID) return false;
  if (typeof resourceName !== 'string') return false;
  if (orgId != null && orgId !== lastOrgId) {
    if (typeof orgId !== 'string' || !UUID.test(orgId)) return false;
    lastOrgId = orgId;
  }
  if (orgName != null && typeof orgName !== 'string') return false;
  if (folderId != null && typeof folderId !== 'string') return false;
  if (typeof createdAt !== 'string') return false;
  if (createdAt === lastTimestamp) return true;
  if (!isTimestamp(createdAt)) return false;
  lastTimestamp = createdAt;
  return true;
}

// The last orgId and createdAt that passed: a project repeats its org's id, and every
// event of a replay has the same createdAt (a third of the check's time, bench S6).
let lastOrgId: string | undefined;
let lastTimestamp: string | undefined;

function isTimestamp(text: string): boolean {
  const match = RFC3339_TIMESTAMP.exec(text);
  if (match === null) return false;
  // A real calendar day (no 2026-02-30, no month 13): the date part survives a round trip.
  const day = new Date(`${match[1]}T00:00:00Z`);
  return !Number.isNaN(day.getTime()) && day.toISOString().startsWith(match[1]);
}

// Loaded on the first event the fast check does not accept: class-validator costs
// ~90 ms of start-up (bench --startup), and a healthy Tenant Manager never needs it.
let schema: Promise<typeof import('./wire-event.schema.js')> | undefined;

/** Equal strings of one page as one instance (JSON.parse makes a fresh copy of each). */
class SharedStrings {
  private readonly known = new Map<string, string>();

  of(text: string): string {
    const known = this.known.get(text);
    if (known !== undefined) return known;
    this.known.set(text, text);
    return text;
  }
}

function isPlainObject(raw: unknown): raw is Record<string, unknown> {
  return raw !== null && typeof raw === 'object' && !Array.isArray(raw);
}

/** Why `raw` is invalid, or undefined; only for an event the fast check did not accept. */
async function validationProblems(raw: unknown): Promise<string | undefined> {
  if (!isPlainObject(raw)) return 'not an object';
  schema ??= import('./wire-event.schema.js');
  const problems = (await schema).wireEventProblems(raw);
  if ((raw as { resourceId?: unknown }).resourceId === NIL_UUID) problems.push('resourceId: must not be the nil UUID');
  // ISO 8601 also has week and ordinal dates and forms `new Date` cannot read: a handler
  // must never get an Invalid Date (createdAt is made from this text).
  const { createdAt } = raw as { createdAt?: unknown };
  if (typeof createdAt === 'string' && problems.every((problem) => !problem.startsWith('createdAt:')) && Number.isNaN(Date.parse(createdAt))) {
    problems.push('createdAt: must be a date and time JavaScript can read (RFC 3339)');
  }
  return problems.length === 0 ? undefined : problems.join('; ');
}

function identityOf(raw: unknown): string {
  const id = (raw as { id?: unknown } | null)?.id;
  if (typeof id === 'number' && Number.isSafeInteger(id) && id > 0) return `id:${id}`;
  // Replayed events all have id 0 and a fresh createdAt on every fetch: identify
  // them by everything else, or a bad one would never reach its strike limit.
  const rest =
    raw !== null && typeof raw === 'object' && !Array.isArray(raw)
      ? Object.fromEntries(Object.entries(raw).filter(([field]) => field !== 'createdAt'))
      : raw;
  try {
    return `raw:${JSON.stringify(rest)}`;
  } catch {
    return `raw:${String(rest)}`;
  }
}

function preview(body: string): string {
  return JSON.stringify(body.length > 200 ? `${body.slice(0, 200)}…` : body);
}
