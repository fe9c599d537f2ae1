import { describe, expect, it } from 'vitest';
import { TenancyEvent } from '../../../src/tenancy-event.js';
import { decodeEventsPage, MalformedResponseError } from '../../../src/tenant-manager/tenant-manager.wire.js';
import { PROJECT_ID, orgDeleted, page, projectCreated } from '../../support/wire-events.js';


/** The error thrown by decodeEventsPage; fails the test when nothing is thrown. */
async function malformed(body: string): Promise<MalformedResponseError> {
  let thrown: unknown;
  try {
    await decodeEventsPage(body);
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(MalformedResponseError);
  return thrown as MalformedResponseError;
}

describe('decodeEventsPage: valid pages', () => {
  it('decodes events into TenancyEvent instances, in order', async () => {
    const decoded = (await decodeEventsPage(page([projectCreated, orgDeleted])));
    expect(decoded.lastEventId).toBe(43);
    expect(decoded.received).toBe(2);
    expect(decoded.unknown).toEqual([]);
    expect(decoded.invalid).toEqual([]);
    expect(decoded.events).toHaveLength(2);
    for (const event of decoded.events) expect(event).toBeInstanceOf(TenancyEvent);
    const [first, second] = decoded.events;
    expect({ ...first }).toEqual({
      ...projectCreated,
      createdAt: new Date('2026-05-15T10:00:00.123Z'),
    });
    expect(first.createdAt).toBeInstanceOf(Date);
    expect(first.createdAt.toISOString()).toBe('2026-05-15T10:00:00.123Z');
    expect({ ...second }).toEqual({ ...orgDeleted, createdAt: new Date('2026-05-15T10:00:01.000Z') });
    expect(String(first)).toBe(`event #42 project created "my-project" (${PROJECT_ID})`);
  });

  it('accepts RFC 3339 offsets as Go writes them for a non-UTC clock, at the right instant', async () => {
    const page = await decodeEventsPage(
      JSON.stringify({ events: [{ ...orgDeleted, createdAt: '2026-05-15T12:00:01.5+02:00' }], lastEventId: 0 }),
    );
    expect(page.invalid).toEqual([]);
    expect(page.events[0].createdAt.toISOString()).toBe('2026-05-15T10:00:01.500Z');
  });

  it('defaults absent orgId, orgName and folderId to null', async () => {
    const { orgId: _orgId, orgName: _orgName, folderId: _folderId, ...bare } = projectCreated;
    const [event] = (await decodeEventsPage(page([bare]))).events;
    expect(event.orgId).toBeNull();
    expect(event.orgName).toBeNull();
    expect(event.folderId).toBeNull();
    expect(event.resourceId).toBe(PROJECT_ID);
  });

  it('keeps a folderId in any string form', async () => {
    const [event] = (await decodeEventsPage(page([{ ...projectCreated, folderId: 'folder-7' }]))).events;
    expect(event.folderId).toBe('folder-7');
  });

  it('ignores extra fields', async () => {
    const decoded = (await decodeEventsPage(page([{ ...projectCreated, extra: { nested: true } }])));
    expect(decoded.events).toHaveLength(1);
    expect(decoded.invalid).toEqual([]);
    expect(Object.keys(decoded.events[0]).sort()).toEqual(Object.keys(projectCreated).sort());
  });

  it('accepts replayed events (id 0) and an empty page', async () => {
    const replayed = (await decodeEventsPage(page([{ ...projectCreated, id: 0 }], 0)));
    expect(replayed.events.map((e) => e.id)).toEqual([0]);
    expect(replayed.lastEventId).toBe(0);
    const empty = (await decodeEventsPage(page([], 1234)));
    expect(empty).toEqual({ events: [], lastEventId: 1234, received: 0, unknown: [], invalid: [] });
  });
});

describe('decodeEventsPage: malformed envelopes', () => {
  it('rejects a body that is not JSON', async () => {
    const error = (await malformed('<html>502 Bad Gateway</html>'));
    expect(error.name).toBe('MalformedResponseError');
    expect(error.message).toMatch(/^body is not JSON \(.+\): "<html>502 Bad Gateway<\/html>"$/);
  });

  it('rejects an empty body', async () => {
    expect((await malformed('')).message).toMatch(/^body is not JSON \(.+\): ""$/);
  });

  it('truncates a long body in the message', async () => {
    const message = (await malformed('x'.repeat(1_000))).message;
    expect(message).toContain(JSON.stringify(`${'x'.repeat(200)}…`));
    expect(message).not.toContain('x'.repeat(201));
  });

  it.each([['[]'], ['null'], ['42'], ['"events"'], ['true']])('rejects a JSON body that is not an object: %s', async (body) => {
    expect((await malformed(body)).message).toBe(`body is not a JSON object: ${JSON.stringify(body)}`);
  });

  it.each([
    ['missing', JSON.stringify({ lastEventId: 1 })],
    ['null', JSON.stringify({ events: null, lastEventId: 1 })],
    ['an object', JSON.stringify({ events: {}, lastEventId: 1 })],
    ['a string', JSON.stringify({ events: '[]', lastEventId: 1 })],
  ])('rejects events that is %s', async (_what, body) => {
    expect((await malformed(body)).message).toBe(`"events" is not an array: ${JSON.stringify(body)}`);
  });

  it.each([
    ['negative', -1, '-1'],
    ['a string', '5', '"5"'],
    ['a float', 1.5, '1.5'],
    ['null', null, 'null'],
    ['above the safe integer range', 2 ** 60, String(2 ** 60)],
    ['a boolean', true, 'true'],
  ])('rejects lastEventId that is %s', async (_what, lastEventId, shown) => {
    expect((await malformed(page([projectCreated], lastEventId))).message).toBe(
      `"lastEventId" is not a non-negative integer (got ${shown})`,
    );
  });

  it('rejects a missing lastEventId', async () => {
    expect((await malformed(JSON.stringify({ events: [] }))).message).toBe(
      '"lastEventId" is not a non-negative integer (got undefined)',
    );
  });
});

describe('decodeEventsPage: unknown event kinds', () => {
  it.each([
    ['resourceType folder', { resourceType: 'folder' }],
    ['eventType updated', { eventType: 'updated' }],
    ['both unknown', { resourceType: 'folder', eventType: 'moved' }],
    ['a differently-cased type', { resourceType: 'Project' }],
  ])('sorts %s into unknown, not invalid', async (_what, change) => {
    const raw = { ...projectCreated, ...change };
    const decoded = (await decodeEventsPage(page([raw, orgDeleted])));
    expect(decoded.unknown).toEqual([raw]);
    expect(decoded.invalid).toEqual([]);
    expect(decoded.events.map((e) => e.id)).toEqual([43]);
    expect(decoded.received).toBe(2);
  });

  it('sorts an unknown kind into unknown even when its other fields are invalid', async () => {
    const raw = { id: 7, eventType: 'created', resourceType: 'folder', resourceId: 'not-a-uuid' };
    const decoded = (await decodeEventsPage(page([raw])));
    expect(decoded.unknown).toEqual([raw]);
    expect(decoded.invalid).toEqual([]);
  });

  it('treats a missing or non-string type as invalid, not unknown', async () => {
    const { eventType: _eventType, ...noEventType } = projectCreated;
    const decoded = (await decodeEventsPage(page([noEventType, { ...projectCreated, resourceType: 5 }])));
    expect(decoded.unknown).toEqual([]);
    expect(decoded.invalid.map((i) => i.reasons)).toEqual([
      'eventType: eventType must be one of the following values: created, deleted',
      'resourceType: resourceType must be one of the following values: org, project',
    ]);
  });
});

describe('decodeEventsPage: invalid events', () => {
  it.each([['"__proto__":{}'], ['"constructor":"x"'], ['"__proto__":{"id":1}']])(
    'an invalid event carrying %s is still invalid (the key cannot hide the rules)',
    async (extra) => {
      const broken = { id: -7, eventType: 'created', resourceType: 'org', resourceId: 'not-a-uuid', resourceName: 'acme', createdAt: 'yesterday' };
      // JSON.parse keeps "__proto__" and "constructor" as own data properties.
      const body = JSON.stringify({ events: [broken], lastEventId: 0 }).replace('{"id":-7', `{${extra},"id":-7`);
      const page = await decodeEventsPage(body);
      expect(page.events).toEqual([]);
      expect(page.invalid).toHaveLength(1);
      expect(page.invalid[0].reasons).toMatch(/resourceId/);
    },
  );

  it('reports a resourceId that is not a UUID, with identity id:N', async () => {
    const raw = { ...projectCreated, resourceId: 'not-a-uuid' };
    const decoded = (await decodeEventsPage(page([raw, orgDeleted])));
    expect(decoded.invalid).toEqual([
      { raw, reasons: 'resourceId: resourceId must be a UUID', identity: 'id:42' },
    ]);
    expect(decoded.events.map((e) => e.id)).toEqual([43]);
    expect(decoded.unknown).toEqual([]);
    expect(decoded.received).toBe(2);
  });

  it('reports an orgId that is not a UUID', async () => {
    const raw = { ...projectCreated, orgId: 'my-org' };
    expect((await decodeEventsPage(page([raw]))).invalid).toEqual([
      { raw, reasons: 'orgId: orgId must be a UUID', identity: 'id:42' },
    ]);
  });

  it.each([['yesterday'], ['2026-02-30T10:00:00Z'], [''], [1715767200000], [null]])(
    'reports a bad createdAt (%j)',
    async (createdAt) => {
      const raw = { ...projectCreated, createdAt };
      const [invalid] = (await decodeEventsPage(page([raw]))).invalid;
      expect(invalid.reasons).toBe('createdAt: createdAt must be a valid ISO 8601 date string');
      expect(invalid.identity).toBe('id:42');
      expect(invalid.raw).toEqual(raw);
    },
  );

  it('reports a missing id, identified by its raw text without createdAt', async () => {
    const { id: _id, ...raw } = projectCreated;
    const { createdAt: _createdAt, ...stable } = raw;
    const decoded = (await decodeEventsPage(page([raw])));
    expect(decoded.invalid).toEqual([
      {
        raw,
        reasons: 'id: id must not be less than 0, id must be an integer number',
        identity: `raw:${JSON.stringify(stable)}`,
      },
    ]);
    expect(decoded.events).toEqual([]);
  });

  it('identifies an invalid replayed event (id 0) by its content, the same across fetches', async () => {
    // Every replay stamps createdAt anew: it must not change the identity.
    const first = { ...projectCreated, id: 0, resourceId: 'nope', createdAt: '2026-05-15T10:00:00.000000Z' };
    const again = { ...first, createdAt: '2026-05-15T10:00:07.000000Z' };
    const [a] = (await decodeEventsPage(page([first], 0))).invalid;
    const [b] = (await decodeEventsPage(page([again], 0))).invalid;
    expect(a.reasons).toBe('resourceId: resourceId must be a UUID');
    const { createdAt: _createdAt, ...stable } = first;
    expect(a.identity).toBe(`raw:${JSON.stringify(stable)}`);
    expect(b.identity).toBe(a.identity);
  });

  it('names every invalid field in the reasons', async () => {
    const raw = { ...projectCreated, resourceId: 'x', resourceName: 7, createdAt: 'soon' };
    const [invalid] = (await decodeEventsPage(page([raw]))).invalid;
    expect(invalid.reasons).toBe(
      [
        'resourceId: resourceId must be a UUID',
        'resourceName: resourceName must be a string',
        'createdAt: createdAt must be a valid ISO 8601 date string',
      ].join('; '),
    );
  });

  it('reports entries that are not objects', async () => {
    const decoded = (await decodeEventsPage(page([5, null, 'event', [projectCreated]])));
    expect(decoded.invalid).toEqual([
      { raw: 5, reasons: 'not an object', identity: 'raw:5' },
      { raw: null, reasons: 'not an object', identity: 'raw:null' },
      { raw: 'event', reasons: 'not an object', identity: 'raw:"event"' },
      { raw: [projectCreated], reasons: 'not an object', identity: `raw:${JSON.stringify([projectCreated])}` },
    ]);
    expect(decoded.received).toBe(4);
  });

  it('counts every received event across valid, unknown and invalid', async () => {
    const events = [
      projectCreated,
      { ...projectCreated, id: 44, resourceType: 'folder' },
      { ...projectCreated, id: 45, resourceId: 'bad' },
      orgDeleted,
      null,
      { ...orgDeleted, id: 46, eventType: 'renamed' },
    ];
    const decoded = (await decodeEventsPage(page(events, 46)));
    expect(decoded.received).toBe(6);
    expect(decoded.events.map((e) => e.id)).toEqual([42, 43]);
    expect(decoded.unknown.map((u) => (u as { id: number }).id)).toEqual([44, 46]);
    expect(decoded.invalid.map((i) => i.identity)).toEqual(['id:45', 'raw:null']);
    expect(decoded.events.length + decoded.unknown.length + decoded.invalid.length).toBe(decoded.received);
  });
});

describe('decodeEventsPage fast path agrees with class-validator', () => {
  // The hand-written check may only accept what class-validator accepts: compare the
  // decoder's verdict with class-validator's own on tricky values.
  const base = {
    id: 7,
    eventType: 'created',
    resourceType: 'project',
    resourceId: '0b0e1e2a-1234-4678-9abc-def012345678',
    resourceName: 'p',
    orgId: '1b0e1e2a-1234-4678-9abc-def012345678',
    orgName: 'o',
    folderId: null,
    createdAt: '2026-05-15T10:00:00.123456Z',
  };
  const cases: Array<[string, Record<string, unknown>, boolean]> = [
    ['a plain valid event', {}, true],
    ['a version-0 UUID', { resourceId: '0b0e1e2a-1234-0678-9abc-def012345678' }, false],
    ['a non-RFC variant', { resourceId: '0b0e1e2a-1234-4678-0abc-def012345678' }, false],
    ['upper-case UUID', { resourceId: '0B0E1E2A-1234-4678-9ABC-DEF012345678' }, true],
    ['the max UUID', { resourceId: 'ffffffff-ffff-ffff-ffff-ffffffffffff' }, true],
    ['February 30th', { createdAt: '2026-02-30T00:00:00Z' }, false],
    ['month 13', { createdAt: '2026-13-01T00:00:00Z' }, false],
    ['hour 24', { createdAt: '2026-05-15T24:00:00Z' }, false],
    ['an offset timestamp', { createdAt: '2026-05-15T10:00:00+02:00' }, true],
    ['nanoseconds', { createdAt: '2026-05-15T10:00:00.123456789Z' }, true],
    ['no time', { createdAt: '2026-05-15' }, true],
    ["Go's zero time (year 1)", { createdAt: '0001-01-01T00:00:00Z' }, false],
    ['a float id', { id: 7.5 }, false],
    ['a numeric name', { resourceName: 5 }, false],
    ['a bad orgId', { orgId: 'x' }, false],
    ['a missing orgId', { orgId: undefined }, true],
  ];
  it.each(cases)('%s', async (_what, change, valid) => {
    const raw = { ...base, ...change };
    const decoded = (await decodeEventsPage(JSON.stringify({ events: [raw], lastEventId: 7 })));
    expect(decoded.events.length === 1).toBe(valid);
    expect(decoded.invalid.length === 1).toBe(!valid);
  });
});

describe('decodeEventsPage: the fast check remembers only what passed', () => {
  it('an event after a valid one is judged on its own: a repeated timestamp or org does not let a bad field through', async () => {
    const { createdAt: _createdAt, ...noTimestamp } = projectCreated;
    const decoded = await decodeEventsPage(
      page([
        projectCreated,
        noTimestamp,
        { ...projectCreated, createdAt: '' },
        { ...projectCreated, orgId: '' },
        { ...projectCreated, orgId: 'not-a-uuid' },
        { ...projectCreated, createdAt: '2026-02-30T10:00:00Z' },
        projectCreated,
      ]),
    );
    expect(decoded.events).toHaveLength(2);
    expect(decoded.invalid.map((i) => i.reasons.split(':')[0])).toEqual(['createdAt', 'createdAt', 'orgId', 'orgId', 'createdAt']);
  });
});

describe('decodeEventsPage: a createdAt class-validator accepts but JavaScript cannot read', () => {
  // ISO 8601 allows week and ordinal dates, a comma before fractions, hour-only times and
  // the basic format; `new Date` reads none of them. Such an event must be invalid (named
  // in the report), never handed to a handler with an Invalid Date.
  it.each(['2026-W20-5', '2026-135', '2026-05-15T10:00:00,5Z', '2026-05-15T10Z', '20260515T100000Z'])('%s is an invalid event', async (createdAt) => {
    const decoded = await decodeEventsPage(page([{ ...projectCreated, createdAt }, projectCreated]));
    expect(decoded.events).toHaveLength(1);
    expect(decoded.invalid).toHaveLength(1);
    expect(decoded.invalid[0].reasons).toMatch(/^createdAt: /);
  });

  it('a date-only or month-only timestamp stays valid, at its UTC midnight', async () => {
    const decoded = await decodeEventsPage(page([{ ...projectCreated, createdAt: '2026-05-15' }, { ...projectCreated, createdAt: '2026-05' }]));
    expect(decoded.events.map((event) => event.createdAt.toISOString())).toEqual(['2026-05-15T00:00:00.000Z', '2026-05-01T00:00:00.000Z']);
  });
});
