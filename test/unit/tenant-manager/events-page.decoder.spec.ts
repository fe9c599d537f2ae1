import { describe, expect, it } from 'vitest';
import { TenancyEvent } from '../../../src/tenancy-event.js';
import { decodeEventsPageBytes, decodePlainEventsPage } from '../../../src/tenant-manager/events-page.decoder.js';
import { decodeEventsPage } from '../../../src/tenant-manager/tenant-manager.wire.js';
import { seededRandom } from '../../support/seeded-random.js';

// The byte decoder must answer exactly what the text decoder answers, for every
// body: the same page (events, unknown, invalid, received, lastEventId) or the same error.

const ORG_ID = '6f1c1a52-8d0e-4a4b-9a57-2b1f3f0c9e11';
const PROJECT_ID = '0b0e3f4a-1c2d-4e5f-8a9b-0c1d2e3f4a5b';

const projectCreated = {
  id: 42,
  eventType: 'created',
  resourceType: 'project',
  resourceId: PROJECT_ID,
  resourceName: 'my-project',
  orgId: ORG_ID,
  orgName: 'my-org',
  folderId: null,
  createdAt: '2026-05-15T10:00:00.123456Z',
};

const orgDeleted = {
  id: 43,
  eventType: 'deleted',
  resourceType: 'org',
  resourceId: ORG_ID,
  resourceName: 'my-org',
  orgId: null,
  orgName: null,
  folderId: null,
  createdAt: '2026-05-15T10:00:01Z',
};

const page = (events: unknown[], lastEventId: unknown = 43) => JSON.stringify({ events, lastEventId });

type Outcome = { page: unknown } | { error: { name: string; message: string } };

async function outcomeOf(decode: () => Promise<unknown>): Promise<Outcome> {
  try {
    return { page: await decode() };
  } catch (error) {
    return { error: { name: (error as Error).name, message: (error as Error).message } };
  }
}

/** The body cut into chunks at the given byte offsets. */
function cut(body: Buffer, at: readonly number[]): Buffer[] {
  const chunks: Buffer[] = [];
  let from = 0;
  for (const to of at) {
    chunks.push(body.subarray(from, to));
    from = to;
  }
  chunks.push(body.subarray(from));
  return chunks;
}

/** Expects both decoders to agree on `body` delivered in `chunks`; returns the text decoder's outcome. */
async function expectSameOutcome(body: Buffer, chunks: Buffer[] = [body]): Promise<Outcome> {
  const expected = await outcomeOf(() => decodeEventsPage(body.toString('utf8')));
  const actual = await outcomeOf(() => decodeEventsPageBytes(chunks));
  expect(actual).toStrictEqual(expected);
  if ('page' in actual) {
    for (const event of (actual.page as { events: unknown[] }).events) expect(event).toBeInstanceOf(TenancyEvent);
  }
  return expected;
}

const VALID_BODIES: Array<[string, string]> = [
  ['two events', page([projectCreated, orgDeleted])],
  ['an empty page', page([], 1234)],
  ['replayed events', page([{ ...projectCreated, id: 0 }, { ...orgDeleted, id: 0 }], 0)],
  ['pretty-printed', JSON.stringify({ events: [projectCreated, orgDeleted], lastEventId: 43 }, null, 2)],
  ['odd whitespace', ` \r\n\t{ \t"events"\n:\r[ ${JSON.stringify(projectCreated)} ,\n\t${JSON.stringify(orgDeleted)}\r\n]\t,"lastEventId" : 43 }\n \t`],
  ['lastEventId first', `{"lastEventId":43,"events":[${JSON.stringify(projectCreated)}]}`],
  ['an escaped envelope key', page([projectCreated]).replace('"events"', '"\\u0065vents"')],
  ['an escaped lastEventId key', page([projectCreated]).replace('"lastEventId"', '"last\\u0045ventId"')],
  ['escaped keys inside an event', page([projectCreated]).replace('"resourceName"', '"resource\\u004eame"')],
  ['a duplicate key inside an event (the last wins)', page([projectCreated]).replace('"resourceName":"my-project"', '"resourceName":"first","resourceName":"my-project"')],
  ['extra envelope keys', `{"cursor":{"a":[1,{"b":"}]\\"["}]},"events":[${JSON.stringify(orgDeleted)}],"more":true,"n":null,"s":"x\\"y","lastEventId":43,"f":-1.5e3}`],
  ['extra and nested fields in events', page([{ ...projectCreated, data: { tags: ['a', { deep: [[['}']]] }], note: 'q"uote\\back' } }])],
  ['unicode in names', page([{ ...projectCreated, resourceName: 'café ☕ 🚀 \u2028 naïve' }, { ...orgDeleted, resourceName: 'Ω' }])],
  ['unicode escapes in values', page([projectCreated]).replace('"my-project"', '"my-\\u00e9\\ud83d\\ude80-project"')],
  ['unknown kinds', page([{ ...projectCreated, resourceType: 'folder' }, { ...orgDeleted, eventType: 'moved' }, orgDeleted])],
  ['invalid events of every kind', page([null, 42, 'x', [], true, {}, { ...projectCreated, resourceId: 'nope' }, { ...orgDeleted, id: -1 }, { ...projectCreated, resourceId: '00000000-0000-0000-0000-000000000000' }, { ...orgDeleted, id: 0, createdAt: 'yesterday' }, projectCreated])],
  ['an event with a __proto__ key', page([orgDeleted]).replace('{"id":43', '{"__proto__":{"id":1},"id":-43')],
  ['an envelope with a __proto__ key', `{"__proto__":{"events":5},"events":[],"lastEventId":1}`],
  ['a lastEventId of 0 written as 0e0', `{"events":[],"lastEventId":0e0}`],
  ['an offset timestamp', page([{ ...orgDeleted, createdAt: '2026-05-15T12:00:01.5+02:00' }], 0)],
  ['a timestamp only class-validator accepts', page([{ ...orgDeleted, createdAt: '2026-05-15T10:00:01.000+0000' }, projectCreated])],
];

const BROKEN_BODIES: Array<[string, string]> = [
  ['empty', ''],
  ['whitespace only', ' \n '],
  ['not JSON', '<html>502 Bad Gateway</html>'],
  ['null', 'null'],
  ['an array', '[]'],
  ['a string', '"events"'],
  ['an empty object', '{}'],
  ['events missing', '{"lastEventId":1}'],
  ['events null', '{"events":null,"lastEventId":1}'],
  ['events an object', '{"events":{},"lastEventId":1}'],
  ['events a string', '{"events":"[]","lastEventId":1}'],
  ['events twice (the last wins)', `{"events":[${JSON.stringify(orgDeleted)}],"events":[],"lastEventId":1}`],
  ['events twice, the last not an array', `{"events":[],"events":5,"lastEventId":1}`],
  ['lastEventId twice (the last wins)', '{"events":[],"lastEventId":-1,"lastEventId":7}'],
  ['lastEventId twice, the last bad', '{"events":[],"lastEventId":7,"lastEventId":-1}'],
  ['lastEventId missing', '{"events":[]}'],
  ['lastEventId negative', page([projectCreated], -1)],
  ['lastEventId a string', page([projectCreated], '5')],
  ['lastEventId a float', page([projectCreated], 1.5)],
  ['lastEventId too large', page([projectCreated], 2 ** 60)],
  ['lastEventId an object', '{"events":[],"lastEventId":{"n":1}}'],
  ['a trailing comma in events', '{"events":[1,],"lastEventId":1}'],
  ['a leading comma in events', '{"events":[,1],"lastEventId":1}'],
  ['a trailing comma in the envelope', '{"events":[],"lastEventId":1,}'],
  ['a missing comma', '{"events":[] "lastEventId":1}'],
  ['a missing colon', '{"events" [],"lastEventId":1}'],
  ['a missing value', '{"events":[],"lastEventId":}'],
  ['an unquoted key', '{events:[],"lastEventId":1}'],
  ['a raw control character in a key', '{"eve\tnts":[],"lastEventId":1}'],
  ['a bad escape in a key', '{"\\x":1,"events":[],"lastEventId":1}'],
  ['trailing garbage', `${page([projectCreated])}x`],
  ['a second object', `${page([projectCreated])}{}`],
  ['a BOM', `\ufeff${page([projectCreated])}`],
  ['bad JSON inside an event', page([projectCreated]).replace('"created"', "'created'")],
  ['a bad number inside an event', page([projectCreated]).replace('"id":42', '"id":042')],
  ['a bad literal as an event', '{"events":[nul],"lastEventId":1}'],
  ['junk after an event', `{"events":[${JSON.stringify(orgDeleted)}x],"lastEventId":1}`],
  ['junk after a string value', '{"x":"a"b,"events":[],"lastEventId":1}'],
  ['mismatched brackets in an event', `{"events":[{"a":[1}],"lastEventId":1}`],
  ['mismatched brackets in an extra value', `{"x":{"a":]},"events":[],"lastEventId":1}`],
  ['an unterminated string', '{"events":["abc],"lastEventId":1}'],
  ['a raw newline in a string', '{"events":["a\nb"],"lastEventId":1}'],
  ['NaN', '{"events":[],"lastEventId":NaN}'],
  ['a long non-JSON body', 'x'.repeat(1_000)],
];

describe('decodeEventsPageBytes: the same answer as the text decoder', () => {
  it.each(VALID_BODIES)('valid, on the one-pass path: %s', async (_what, text) => {
    const body = Buffer.from(text);
    const expected = await expectSameOutcome(body);
    expect('page' in expected).toBe(true);
    // Taken without the text decoder: the one-pass decode alone gives the same page.
    expect(await decodePlainEventsPage([body])).toStrictEqual((expected as { page: unknown }).page);
  });

  it.each(BROKEN_BODIES)('malformed or unusual: %s', async (_what, text) => {
    await expectSameOutcome(Buffer.from(text));
  });

  it('invalid UTF-8 inside strings decodes as the text decoder reads it (U+FFFD)', async () => {
    const text = page([projectCreated, orgDeleted]);
    const at = text.indexOf('my-project') + 3;
    const body = Buffer.concat([Buffer.from(text.slice(0, at)), Buffer.from([0xc3, 0xff, 0xe2, 0x82]), Buffer.from(text.slice(at))]);
    const expected = await expectSameOutcome(body);
    expect((expected as { page: { events: TenancyEvent[] } }).page.events[0].resourceName).toContain('\ufffd');
  });

  it('invalid UTF-8 outside strings is a malformed body, worded as the text decoder words it', async () => {
    const body = Buffer.concat([Buffer.from('{"events":[]'), Buffer.from([0xff]), Buffer.from(',"lastEventId":1}')]);
    const expected = await expectSameOutcome(body);
    expect('error' in expected).toBe(true);
  });

  it('every prefix of a page (a truncated body) fails exactly as the text decoder fails', async () => {
    const body = Buffer.from(page([projectCreated, { ...orgDeleted, resourceName: 'é"\\' }], 43));
    for (let length = 0; length < body.length; length += 1) {
      const outcome = await expectSameOutcome(body.subarray(0, length));
      expect('error' in outcome).toBe(true);
    }
  });

  it('a chunk boundary at every byte gives the same page', async () => {
    const text = `{"x":{"y":"a\\"}"},"events":[${JSON.stringify({ ...projectCreated, resourceName: 'naïve 🚀 "q"\\' })},7,"s",null,${JSON.stringify(orgDeleted)}],"lastEventId":43}`;
    const body = Buffer.from(text);
    for (let at = 0; at <= body.length; at += 1) await expectSameOutcome(body, cut(body, [at]));
  });

  it('one byte per chunk, and empty chunks between, give the same page', async () => {
    const body = Buffer.from(page([projectCreated, orgDeleted, { ...projectCreated, resourceType: 'folder' }]));
    const single = Array.from({ length: body.length }, (_, at) => body.subarray(at, at + 1));
    const outcome = await expectSameOutcome(body, single);
    expect('page' in outcome).toBe(true);
    const withEmpty = single.flatMap((chunk) => [Buffer.alloc(0), chunk]);
    await expectSameOutcome(body, [...withEmpty, Buffer.alloc(0)]);
  });

  it('random cuts of random bodies (valid and damaged) give the same answer', async () => {
    const random = seededRandom(14);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
    const all = [...VALID_BODIES, ...BROKEN_BODIES].map(([, text]) => Buffer.from(text));
    for (let round = 0; round < 300; round += 1) {
      let body = pick(all);
      // Sometimes damage it: drop, duplicate or replace one byte.
      if (body.length > 0 && random() < 0.5) {
        const at = Math.floor(random() * body.length);
        const kind = pick(['drop', 'double', 'replace'] as const);
        const replacement = Buffer.from([pick([0x22, 0x5c, 0x7b, 0x7d, 0x5b, 0x5d, 0x2c, 0x3a, 0x20, 0x30, 0xc3])]);
        const middle = kind === 'drop' ? Buffer.alloc(0) : kind === 'double' ? body.subarray(at, at + 2) : replacement;
        body = Buffer.concat([body.subarray(0, at), middle, body.subarray(at + 1)]);
      }
      const cuts = Array.from({ length: Math.floor(random() * 4) }, () => Math.floor(random() * (body.length + 1))).sort((a, b) => a - b);
      await expectSameOutcome(body, cut(body, cuts));
    }
  });
});

describe('decodePlainEventsPage: leaves to the text decoder what is not plain', () => {
  it.each([
    ['a BOM', `\ufeff${page([])}`],
    ['events twice', '{"events":[],"events":[],"lastEventId":1}'],
    ['a bad lastEventId', page([], -1)],
    ['a truncated body', page([projectCreated]).slice(0, -1)],
    ['bad JSON inside an event', page([projectCreated]).replace('"id":42', '"id":042')],
  ])('%s', async (_what, text) => {
    expect(await decodePlainEventsPage([Buffer.from(text)])).toBeUndefined();
  });
});
