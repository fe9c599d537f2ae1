import { Logger } from '@nestjs/common';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { InvalidEventsError, PageJudge, type PageVerdict } from '../../../src/run/page-judge.js';
import { TenancyLogger } from '../../../src/telemetry/tenancy-logger.js';
import type { DecodedEventsPage } from '../../../src/tenant-manager/tenant-manager.wire.js';
import { MAX_INVALID_EVENT_STRIKES } from '../../../src/tenancy.constants.js';
import { CapturingLogger } from '../../support/tenancy-test-app.js';
import { ScriptedTenantManager } from './scripted-tenant-manager.js';

const tm = new ScriptedTenantManager();
const org = { type: 'org' as const, id: '00000000-0000-4000-8000-0000000000aa', name: 'o', orgId: null };
const page = (ids: number[], lastEventId: number, extra: Partial<DecodedEventsPage> = {}): DecodedEventsPage => ({
  events: ids.map((id) => tm.event(id, 'created', org)),
  lastEventId,
  received: ids.length + (extra.unknown?.length ?? 0),
  unknown: [],
  invalid: [],
  ...extra,
});

/** Judges the same page until it is accepted; returns the verdict and how many fetches were refused. */
function judgeUntilAccepted(judge: PageJudge, answer: DecodedEventsPage, after: number, limit: number) {
  const refusals: string[] = [];
  for (let fetch = 1; fetch <= MAX_INVALID_EVENT_STRIKES; fetch += 1) {
    try {
      return { verdict: judge.judge(answer, after, limit), refusals };
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidEventsError);
      refusals.push((error as Error).message);
    }
  }
  throw new Error(`still refused after ${MAX_INVALID_EVENT_STRIKES} fetches`);
}

const okThrough = (verdict: PageVerdict) => (verdict.kind === 'ok' ? { ids: verdict.events.map((e) => e.id), through: verdict.through } : verdict);

describe('PageJudge', () => {
  let logs: CapturingLogger;
  const judge = () => new PageJudge(new TenancyLogger({ controllerName: 'unit' }));
  const accepted = () => logs.lines.filter((l) => l.message.includes('stayed self-contradictory'));

  beforeAll(() => Logger.overrideLogger((logs = new CapturingLogger())));
  afterAll(() => Logger.overrideLogger(['log', 'error', 'warn', 'debug', 'verbose', 'fatal']));
  beforeEach(() => {
    logs.lines.length = 0;
  });

  it('a page that agrees with itself and the request is taken as is', () => {
    expect(okThrough(judge().judge(page([4, 5, 6], 6), 3, 3))).toEqual({ ids: [4, 5, 6], through: 6 });
    expect(okThrough(judge().judge(page([], 3), 3, 100))).toEqual({ ids: [], through: 3 });
    // Unknown-typed events count as events of the page: their ids may carry lastEventId.
    const unknown = [{ id: 7, eventType: 'moved', resourceType: 'folder' }];
    expect(okThrough(judge().judge(page([6], 7, { unknown }), 5, 100))).toEqual({ ids: [6], through: 7 });
    // An event whose id cannot be read may be the one lastEventId names: not a contradiction.
    const invalid = [{ raw: { id: 'seven' }, reasons: 'id: must be an integer', identity: 'seven' }];
    expect(okThrough(judge().judge(page([6], 7, { invalid, received: 2 }), 5, 100))).toEqual({ ids: [6], through: 7 });
  });

  it('an empty page whose lastEventId is not after is contradictory; once accepted the cursor stays at after', () => {
    const { verdict, refusals } = judgeUntilAccepted(judge(), page([], 50), 0, 100);
    expect(refusals).toHaveLength(MAX_INVALID_EVENT_STRIKES - 1);
    expect(refusals[0]).toBe('Tenant Manager poll after 0: malformed response: lastEventId 50 on an empty page (must be 0)');
    expect(okThrough(verdict)).toEqual({ ids: [], through: 0 });
    expect(accepted().map((l) => [l.level, l.message])).toEqual([
      ['error', '[unit] Tenant Manager poll after 0 stayed self-contradictory for 5 fetches: keeping the cursor at 0 (no event after it on the page), 0 contradicting event(s) skipped | after=0 lastEventId=50 cursor=0'],
    ]);
  });

  it('a page whose lastEventId runs ahead of its highest event is contradictory; once accepted the cursor moves only to that event', () => {
    const { verdict, refusals } = judgeUntilAccepted(judge(), page([11, 12], 40), 10, 100);
    expect(refusals).toHaveLength(MAX_INVALID_EVENT_STRIKES - 1);
    expect(refusals[0]).toContain('lastEventId 40 but the highest event id on the page is 12');
    expect(okThrough(verdict)).toEqual({ ids: [11, 12], through: 12 });
    expect(accepted()).toHaveLength(1);
    expect(accepted()[0].message).toContain('moving the cursor to 12 (the highest event id taken from the page)');
  });

  it('a page with more events than the limit asked for is contradictory; once accepted only the first limit events are taken', () => {
    const { verdict, refusals } = judgeUntilAccepted(judge(), page([7, 3, 4, 5, 6, 2], 7), 1, 4);
    expect(refusals).toHaveLength(MAX_INVALID_EVENT_STRIKES - 1);
    expect(refusals[0]).toBe('Tenant Manager poll after 1: malformed response: 6 events for limit 4');
    // Events 6 and 7 stay for the next fetch, after 5.
    expect(okThrough(verdict)).toEqual({ ids: [2, 3, 4, 5], through: 5 });
  });

  it('a page that agrees again resets the strikes: a single lying fetch is refused, never accepted', () => {
    const judging = judge();
    expect(() => judging.judge(page([], 50), 0, 100)).toThrow(InvalidEventsError);
    expect(okThrough(judging.judge(page([1], 1), 0, 100))).toEqual({ ids: [1], through: 1 });
    for (let fetch = 1; fetch < MAX_INVALID_EVENT_STRIKES; fetch += 1) {
      expect(() => judging.judge(page([], 50), 1, 100)).toThrow(InvalidEventsError);
    }
  });
});
