import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { TenancyEvent, tenancyEventFromWire } from '../../src/tenancy-event.js';
import { decodeEventsPage } from '../../src/tenant-manager/tenant-manager.wire.js';

const ORG_ID = '6f1c1a52-8d0e-4a4b-9a57-2b1f3f0c9e11';
const STAMP = '2026-05-15T10:00:00.123456Z';

const fields = {
  id: 0,
  eventType: 'created',
  resourceType: 'org',
  resourceId: ORG_ID,
  resourceName: 'acme',
  orgId: null,
  orgName: null,
  folderId: null,
} as const;

/** Two replayed events of one snapshot, decoded as the library decodes them (one shared timestamp). */
async function twoReplayed(): Promise<[TenancyEvent, TenancyEvent]> {
  const other = { ...fields, resourceId: '0b0e3f4a-1c2d-4e5f-8a9b-0c1d2e3f4a5b', resourceName: 'beta' };
  const page = await decodeEventsPage(JSON.stringify({ events: [{ ...fields, createdAt: STAMP }, { ...other, createdAt: STAMP }], lastEventId: 0 }));
  expect(page.events).toHaveLength(2);
  return page.events as [TenancyEvent, TenancyEvent];
}

// createdAt of a decoded event is made from the wire timestamp on first read (no Date
// per queued event); to a handler it must look and behave like a plain Date field.
describe('TenancyEvent.createdAt of a decoded event', () => {
  it('is a Date at the wire instant, the same instance on every read', async () => {
    const [event] = await twoReplayed();
    expect(event.createdAt).toBeInstanceOf(Date);
    expect(event.createdAt.toISOString()).toBe('2026-05-15T10:00:00.123Z');
    expect(event.createdAt).toBe(event.createdAt);
  });

  it('is in spread copies, Object.keys (last, as declared), JSON and structuredClone', async () => {
    const [event] = await twoReplayed();
    expect(Object.keys(event)).toEqual([...Object.keys(fields), 'createdAt']);
    const copy = { ...event };
    expect(copy.createdAt).toBeInstanceOf(Date);
    expect(Object.getOwnPropertyDescriptor(copy, 'createdAt')?.value).toBe(event.createdAt);
    expect(JSON.parse(JSON.stringify(event))).toEqual({ ...fields, createdAt: '2026-05-15T10:00:00.123Z' });
    expect(structuredClone(event).createdAt).toEqual(new Date('2026-05-15T10:00:00.123Z'));
  });

  it("mutating one event's Date leaves another event of the same snapshot alone", async () => {
    const [first, second] = await twoReplayed();
    first.createdAt.setTime(0);
    expect(first.createdAt.getTime()).toBe(0);
    expect(second.createdAt.toISOString()).toBe('2026-05-15T10:00:00.123Z');
    expect(second.createdAt).not.toBe(first.createdAt);
  });

  it('can be assigned at run time, as a data field could', async () => {
    const [event] = await twoReplayed();
    const replaced = new Date(5);
    (event as { createdAt: Date }).createdAt = replaced;
    expect(event.createdAt).toBe(replaced);
  });

  it('a frozen event refuses a new createdAt, and the property can be redefined or deleted like a class field', async () => {
    const [event, other] = await twoReplayed();
    Object.freeze(event);
    expect(() => ((event as { createdAt: Date }).createdAt = new Date(1))).toThrow(TypeError);
    expect(event.createdAt.toISOString()).toBe('2026-05-15T10:00:00.123Z');
    Object.defineProperty(other, 'createdAt', { value: new Date(2), enumerable: true });
    expect(other.createdAt.getTime()).toBe(2);
    expect(delete (other as { createdAt?: Date }).createdAt).toBe(true);
    expect(Object.keys(other)).not.toContain('createdAt');
  });

  it('shows as a Date in util.inspect (console.log), not as [Getter/Setter]', async () => {
    const [event] = await twoReplayed();
    const shown = inspect(event);
    expect(shown).toMatch(/^TenancyEvent \{/);
    expect(shown).toContain('createdAt: 2026-05-15T10:00:00.123Z');
    expect(shown).not.toContain('Getter');
    expect(inspect({ nested: { deeper: event } }, { depth: 1 })).toContain('[TenancyEvent]');
  });

  it('is the same, field for field, as an event constructed with a Date', () => {
    const lazy = tenancyEventFromWire(fields, STAMP);
    const eager = new TenancyEvent({ ...fields, createdAt: new Date(STAMP) });
    expect(lazy).toStrictEqual(eager);
    expect({ ...lazy }).toStrictEqual({ ...eager });
  });
});

describe('TenancyEvent constructed by hand', () => {
  it('keeps the Date it was given', () => {
    const createdAt = new Date(STAMP);
    const event = new TenancyEvent({ ...fields, createdAt });
    expect(event.createdAt).toBe(createdAt);
    expect({ ...event }.createdAt).toBe(createdAt);
  });
});

// A TenancyEvent built with `new` (tests, fixtures, users' own code) must be exactly the
// class it was before decoded events got a lazy createdAt: a plain data field.
describe('TenancyEvent constructed by hand: createdAt is a plain data field, as before', () => {
  const byHand = (createdAt: unknown) => new TenancyEvent({ ...fields, createdAt: createdAt as Date });

  it('is a writable data property holding what it was given', () => {
    const createdAt = new Date(STAMP);
    expect(Object.getOwnPropertyDescriptor(byHand(createdAt), 'createdAt')).toEqual({
      value: createdAt,
      writable: true,
      enumerable: true,
      configurable: true,
    });
  });

  it('keeps a value that is not a Date as it was given (no conversion behind the caller)', () => {
    expect(byHand(STAMP).createdAt).toBe(STAMP);
    expect(byHand(0).createdAt).toBe(0);
  });

  it('is read through an object that inherits from the event, and through a Proxy', () => {
    const createdAt = new Date(STAMP);
    const event = byHand(createdAt);
    expect((Object.create(event) as TenancyEvent).createdAt).toBe(createdAt);
    expect(new Proxy(event, {}).createdAt).toBe(createdAt);
  });
});

describe('TenancyEvent.createdAt of a decoded event, read or written in unusual ways', () => {
  it('keeps a string assigned to it as a string, as a data field would', () => {
    const event = tenancyEventFromWire(fields, STAMP);
    (event as unknown as { createdAt: unknown }).createdAt = 'not a date';
    expect(event.createdAt).toBe('not a date');
  });

  it('is read through an object that inherits from the event, as an inherited data field is', () => {
    const event = tenancyEventFromWire(fields, STAMP);
    const child = Object.create(event) as TenancyEvent;
    expect(child.createdAt).toBe(event.createdAt);
    expect(child.createdAt.toISOString()).toBe('2026-05-15T10:00:00.123Z');
  });
});

describe('TenancyEvent.createdAt of a decoded event through a Proxy', () => {
  it('fails with a TypeError that says what to do, never a silent undefined', () => {
    const event = tenancyEventFromWire(fields, STAMP);
    expect(() => new Proxy(event, {}).createdAt).toThrow(/through a Proxy.*\{ \.\.\.event \}/);
    expect(new Proxy({ ...event }, {}).createdAt.toISOString()).toBe('2026-05-15T10:00:00.123Z');
  });

  it('reads through two levels of inheriting objects, and an assignment there stays on the inheriting object', () => {
    const event = tenancyEventFromWire(fields, STAMP);
    const grandchild = Object.create(Object.create(event)) as { createdAt: Date };
    expect(grandchild.createdAt).toBe(event.createdAt);
    grandchild.createdAt = new Date(7);
    expect(grandchild.createdAt.getTime()).toBe(7);
    expect(event.createdAt.toISOString()).toBe('2026-05-15T10:00:00.123Z');
  });
});
