import { describe, expect, it } from 'vitest';
import { TenancyEvent } from '../../../src/tenancy-event.js';
import { decodeEventsPageBytes, decodePlainEventsPage } from '../../../src/tenant-manager/events-page.decoder.js';
import { type DecodedEventsPage, decodeEventsPage } from '../../../src/tenant-manager/tenant-manager.wire.js';
import { seededRandom } from '../../support/seeded-random.js';
import { orgDeleted, page, projectCreated } from '../../support/wire-events.js';

// The byte decoder must answer exactly what the text decoder answers, for every
// body: the same page (events, unknown, invalid, received, lastEventId) or the same error.


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

describe('decodeEventsPageBytes: adversarial bodies (review)', () => {
  const withName = (resourceName: string) => ({ ...projectCreated, resourceName });

  it.each([
    ['a backslash before the closing quote', 'a\\'],
    ['an escaped quote then a backslash', 'a\\"\\\\'],
    ['backslash runs', '\\\\\\"\\\\'],
    ['JSON structure inside a string', '"},{"id":1}],"lastEventId":9}'],
    ['U+2028 and U+2029', 'a\u2028b\u2029c'],
    ['a 4-byte character', '🚀x🚀'],
  ])('a chunk boundary at every byte of a name with %s gives the same page', async (_what, name) => {
    const body = Buffer.from(page([withName(name), orgDeleted]));
    for (let at = 0; at <= body.length; at += 1) {
      const outcome = await expectSameOutcome(body, cut(body, [at]));
      expect((outcome as { page: { events: TenancyEvent[] } }).page.events[0].resourceName).toBe(name);
      // On the one-pass path itself, not rescued by the text decoder.
      expect(await decodePlainEventsPage(cut(body, [at]))).toStrictEqual((outcome as { page: unknown }).page);
    }
  });

  it('escaped lone surrogates decode as the text decoder decodes them, at every cut', async () => {
    const text = page([projectCreated]).replace('"my-project"', '"a\\ud800b\\udfffc"');
    const body = Buffer.from(text);
    for (let at = 0; at <= body.length; at += 1) {
      const outcome = await expectSameOutcome(body, cut(body, [at]));
      expect(await decodePlainEventsPage(cut(body, [at]))).toStrictEqual((outcome as { page: unknown }).page);
    }
    expect(((await decodeEventsPageBytes([body])).events[0]).resourceName).toBe('a\ud800b\udfffc');
  });

  it('invalid UTF-8 split across chunks, inside a string and outside, gives the same answer at every cut', async () => {
    const inside = Buffer.concat([Buffer.from(page([withName('ab')]).split('ab')[0] + 'a'), Buffer.from([0xf0, 0x9f, 0x9a]), Buffer.from('b' + page([withName('ab')]).split('ab')[1])]);
    const outside = Buffer.concat([Buffer.from('{"events":[],'), Buffer.from([0xe2, 0x82]), Buffer.from('"lastEventId":1}')]);
    for (const body of [inside, outside]) {
      for (let at = 0; at <= body.length; at += 1) await expectSameOutcome(body, cut(body, [at]));
    }
    // Inside a string it is plain JSON (U+FFFD): the one-pass path takes it at every cut.
    for (let at = 0; at <= inside.length; at += 1) {
      expect((await decodePlainEventsPage(cut(inside, [at])))?.events[0].resourceName).toBe('a\ufffdb');
    }
  });

  it.each([
    ['1e2', 100],
    ['1.0', 1],
    ['1E+1', 10],
    ['-0', -0],
  ])('a lastEventId and an id written as %s decode as the text decoder decodes them', async (written, value) => {
    const text = page([{ ...orgDeleted, id: 424242 }], 424242).replaceAll('424242', written);
    const outcome = await expectSameOutcome(Buffer.from(text));
    const decoded = (outcome as { page: { lastEventId: number; events: TenancyEvent[] } }).page;
    expect(decoded.lastEventId).toBe(value);
    expect(decoded.events.map((e) => e.id)).toEqual([value]);
  });

  it.each(['1E400', '9007199254740993', '-1e-400'])('a huge or tiny lastEventId %s fails as the text decoder fails', async (written) => {
    const outcome = await expectSameOutcome(Buffer.from(`{"events":[],"lastEventId":${written}}`));
    if (written === '-1e-400') expect(outcome).toHaveProperty('page.lastEventId', -0);
    else expect('error' in outcome).toBe(true);
  });

  it('deep nesting in an unknown field of an event and of the envelope: the same page, no stack overflow', async () => {
    const depth = 20_000;
    const deep = `${'['.repeat(depth)}"]}"${']'.repeat(depth)}`;
    const event = JSON.stringify(projectCreated).replace('{', `{"deep":${deep},`);
    // Compared field by field: a deep raw value is too deep for the test's own recursive equality.
    const summary = (decoded: DecodedEventsPage) => ({
      events: decoded.events,
      invalid: decoded.invalid.map(({ reasons, identity }) => ({ reasons, identity })),
      lastEventId: decoded.lastEventId,
      received: decoded.received,
    });
    for (const text of [`{"x":${deep},"events":[${event}],"lastEventId":43}`, `{"events":[${event.replace('"id":42', '"id":-1')}],"lastEventId":43}`]) {
      const body = Buffer.from(text);
      const expected = summary(await decodeEventsPage(text));
      expect(expected.events.length + expected.invalid.length).toBe(1);
      expect(summary(await decodeEventsPageBytes(cut(body, [depth / 2, body.length - depth / 2])))).toStrictEqual(expected);
    }
  });

  it.each([
    ['keys after events', `{"events":[${JSON.stringify(orgDeleted)}],"a":{"events":[1]},"lastEventId":43,"z":[]}`],
    ['events null', '{"events":null,"lastEventId":1}'],
    ['an empty array with whitespace inside', '{"events":[ \n\t\r ],"lastEventId":1}'],
    ['an empty key', `{"":1,"events":[],"lastEventId":1}`],
    ['a key that is "events" with a trailing space', `{"events ":5,"events":[],"lastEventId":1}`],
    ['a nested object named lastEventId inside events', `{"events":[{"lastEventId":-5}],"lastEventId":1}`],
  ])('%s: the same answer', async (_what, text) => {
    const body = Buffer.from(text);
    for (let at = 0; at <= body.length; at += 1) await expectSameOutcome(body, cut(body, [at]));
  });

  it('a large replay (~8 MB, 64 KiB chunks) gives the same page as the text decoder', async () => {
    const events = Array.from({ length: 30_000 }, (_, index) => ({
      ...projectCreated,
      id: 0,
      resourceId: `0b0e3f4a-1c2d-4e5f-8a9b-${String(index).padStart(12, '0')}`,
      resourceName: `p-${index}-é"\\`,
    }));
    const body = Buffer.from(page(events, 0));
    expect(body.length).toBeGreaterThan(7_000_000);
    const chunks = Array.from({ length: Math.ceil(body.length / 65_536) }, (_, index) => body.subarray(index * 65_536, (index + 1) * 65_536));
    const fast = await decodePlainEventsPage(chunks);
    expect(fast).toBeDefined();
    expect(fast).toStrictEqual(await decodeEventsPage(body.toString('utf8')));
  });
});
