import { Logger } from '@nestjs/common';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { RunSchedule } from '../../../src/run/run-schedule.js';
import type { TenancyRun } from '../../../src/run/tenancy-run.js';
import { MAX_INVALID_EVENT_STRIKES } from '../../../src/tenancy.constants.js';
import { TenantManagerRequestError } from '../../../src/tenancy.errors.js';
import { CapturingLogger } from '../../support/tenancy-test-app.js';
import { waitFor } from '../../support/wait-for.js';
import { gate, makeRun, startRun } from './run-harness.js';
import { ScriptedTenantManager } from './scripted-tenant-manager.js';

describe('TenancyRun (unit, scripted Tenant Manager)', () => {
  let logs: CapturingLogger;
  let tm: ScriptedTenantManager;
  const runs: TenancyRun[] = [];
  const handled: string[] = [];
  const track = (run: TenancyRun) => (runs.push(run), run);
  const lines = (text: string) => logs.lines.filter((l) => l.message.includes(text));

  beforeAll(() => Logger.overrideLogger((logs = new CapturingLogger())));
  afterAll(() => Logger.overrideLogger(['log', 'error', 'warn', 'debug', 'verbose', 'fatal']));
  beforeEach(() => {
    tm = new ScriptedTenantManager();
    handled.length = 0;
    logs.lines.length = 0;
  });
  afterEach(async () => {
    for (const run of runs.splice(0)) await run.drain();
  });

  const recording = () =>
    track(
      makeRun(tm, (item) => {
        handled.push(`${item.payload.event.eventType}:${item.payload.event.resourceName}`);
        return 'done';
      }),
    );

  it('event log goes backwards: a resync snapshot below the cursor warns once with both ids and follows the new log', async () => {
    for (const name of ['a', 'b', 'c', 'd', 'e']) tm.createOrg(name);
    const run = recording();
    await startRun(run);
    await waitFor(() => run.feed.cursor.fetched === 5 && handled.length === 5);
    // Restored from a backup taken at event 2; the new log goes on from there.
    tm.restoreTo(2);
    tm.createOrg('after-restore');
    await run.resync();
    const warned = lines('event log went back');
    expect(warned).toHaveLength(1);
    expect(warned[0].message).toContain('lastEventId 3 is below our cursor 5');
    expect(warned[0].fields).toMatchObject({ cursor: 5, lastEventId: 3 });
    tm.createOrg('created-afterwards');
    await waitFor(() => handled.includes('created:created-afterwards'), { message: 'an event of the new log is delivered' });
    expect(run.feed.cursor.fetched).toBe(4);
    await run.whenIdle();
    expect(run.feed.cursor.completed).toBe(4);
    expect(lines('event log went back')).toHaveLength(1);
  });

  it('event log goes backwards: an incremental page whose lastEventId is below after follows the new log from a snapshot', async () => {
    for (const name of ['a', 'b', 'c', 'd', 'e']) tm.createOrg(name);
    const run = recording();
    await startRun(run);
    await run.whenIdle();
    tm.restoreTo(1);
    tm.createOrg('x');
    tm.createOrg('y');
    // The restarted Tenant Manager answers with its own (lower) head.
    tm.pageOverride = (after) =>
      after > tm.lastEventId ? { events: [], lastEventId: tm.lastEventId, received: 0, unknown: [], invalid: [] } : undefined;
    await waitFor(() => handled.includes('created:y'));
    const warned = lines('event log went back');
    expect(warned).toHaveLength(1);
    expect(warned[0].message).toContain('poll after 5 lastEventId 3 is below our cursor 5');
    tm.createOrg('z');
    await waitFor(() => handled.includes('created:z'));
    expect(run.feed.cursor.fetched).toBe(4);
    expect(lines('event log went back')).toHaveLength(1);
  });

  it('event log goes backwards: a Tenant Manager that answers again after failed polls is checked with a snapshot, so a fresh log is followed without resync()', async () => {
    for (const name of ['a', 'b', 'c', 'd', 'e']) tm.createOrg(name);
    const run = recording();
    await startRun(run);
    await run.whenIdle();
    const replays = tm.replays;
    // Down: polls fail. Back with a fresh log, whose empty "after 5" page looks like nothing new.
    tm.pageOverride = () => {
      throw new Error('connect ECONNREFUSED 127.0.0.1:1');
    };
    const failedFrom = tm.polls.length;
    await waitFor(() => tm.polls.length >= failedFrom + 2);
    tm.restoreTo(0);
    tm.createOrg('fresh');
    tm.pageOverride = undefined;
    await waitFor(() => handled.includes('created:fresh'), { message: 'the org of the fresh log is handled' });
    expect(tm.replays).toBe(replays + 1);
    expect(lines('answers polls again: checking a snapshot')).toHaveLength(1);
    expect(lines('event log went back')).toHaveLength(1);
    tm.createOrg('later');
    await waitFor(() => handled.includes('created:later'));
    expect(run.feed.cursor.fetched).toBe(2);
    // Healthy polls since then: no further resync.
    expect(tm.replays).toBe(replays + 1);
  });

  it('a throttled poll (HTTP 429 from a running Tenant Manager) is no outage: no snapshot is fetched in reply', async () => {
    tm.createOrg('a');
    const run = recording();
    await startRun(run);
    await run.whenIdle();
    const replays = tm.replays;
    let throttled = 0;
    tm.pageOverride = () => {
      if (throttled < 3) {
        throttled += 1;
        throw new TenantManagerRequestError('GET /v1/events: HTTP 429 too many requests', 429, { retryAfter: 1 });
      }
      return undefined;
    };
    tm.createOrg('b');
    await waitFor(() => handled.includes('created:b'));
    expect(throttled).toBe(3);
    expect(tm.replays).toBe(replays);
    expect(lines('answers polls again')).toEqual([]);
  });

  it('after failed polls against the same log the check snapshot is dropped: nothing is handled twice, the poll page is not lost', async () => {
    tm.createOrg('a');
    const run = recording();
    await startRun(run);
    await run.whenIdle();
    const replays = tm.replays;
    let failures = 0;
    tm.pageOverride = () => {
      if (failures < 2) {
        failures += 1;
        throw new Error('HTTP 503');
      }
      return undefined;
    };
    tm.createOrg('b');
    await waitFor(() => handled.includes('created:b'));
    await run.whenIdle();
    expect(tm.replays).toBe(replays + 1);
    expect(lines('answers polls again: checking a snapshot against our cursor 1')).toHaveLength(1);
    expect(handled).toEqual(['created:a', 'created:b']);
    expect(run.feed.cursor.completed).toBe(2);
    expect(lines('event log went back')).toEqual([]);
  });

  it('a refused self-contradictory poll page is no outage: its streak ending takes no snapshot', async () => {
    tm.createOrg('a');
    const run = recording();
    await startRun(run);
    await run.whenIdle();
    const replays = tm.replays;
    let served = 0;
    tm.pageOverride = (after) =>
      served === 0 ? (served++, { events: [], lastEventId: after + 10, received: 0, unknown: [], invalid: [] }) : undefined;
    await waitFor(() => served === 1);
    tm.createOrg('b');
    await waitFor(() => handled.includes('created:b'));
    expect(tm.replays).toBe(replays);
    expect(lines('answers polls again')).toEqual([]);
  });

  it('event log goes backwards: a poll answered for the old log after a snapshot replaced it does not move the cursor', async () => {
    for (const name of ['a', 'b', 'c', 'd', 'e']) tm.createOrg(name);
    const run = recording();
    await startRun(run);
    await run.whenIdle();
    const held = gate();
    tm.pollGate = held.promise;
    const polled = tm.polls.length;
    await waitFor(() => tm.polls.length > polled);
    tm.restoreTo(2);
    tm.createOrg('x');
    await run.resync();
    expect(run.feed.cursor.fetched).toBe(3);
    // The poll asked "after 5" of the old log; its empty answer must not count.
    tm.pollGate = undefined;
    held.open();
    tm.createOrg('y');
    await waitFor(() => handled.includes('created:y'), { message: 'the event after the restore is not skipped' });
    expect(run.feed.cursor.fetched).toBe(4);
  });

  it('a page with event ids above its lastEventId is malformed, backed off, and not fetched forever', async () => {
    tm.createOrg('a');
    const run = recording();
    await startRun(run);
    await run.whenIdle();
    tm.createOrg('p');
    tm.createOrg('q');
    // Claims lastEventId 1 but carries events 2 and 3.
    let served = 0;
    tm.pageOverride = (after) =>
      after === 1 ? (served++, { events: tm.log.slice(1, 3), lastEventId: 1, received: 2, unknown: [], invalid: [] }) : undefined;
    await waitFor(() => run.feed.cursor.fetched === 3);
    expect(served).toBe(MAX_INVALID_EVENT_STRIKES);
    await waitFor(() => tm.polls.includes(3));
    await run.whenIdle();
    expect(handled).toEqual(['created:a', 'created:p', 'created:q']);
    expect(lines('malformed response: event id(s) 2, 3 outside (1, 1]').length).toBeGreaterThan(0);
    expect(lines('stayed self-contradictory')).toHaveLength(1);
  });

  it('a page with event ids at or below after is malformed; once accepted, the old ids are skipped, not handled again', async () => {
    tm.createOrg('a');
    tm.createOrg('b');
    const run = recording();
    await startRun(run);
    await run.whenIdle();
    tm.createOrg('c');
    // Repeats event 2 (already past the cursor) next to the new event 3.
    let served = 0;
    tm.pageOverride = (after) =>
      after === 2 ? (served++, { events: tm.log.slice(1, 3), lastEventId: 3, received: 2, unknown: [], invalid: [] }) : undefined;
    await waitFor(() => handled.includes('created:c'));
    expect(served).toBe(MAX_INVALID_EVENT_STRIKES);
    await waitFor(() => tm.polls.includes(3));
    expect(handled).toEqual(['created:a', 'created:b', 'created:c']);
  });

  it('an empty poll page whose lastEventId runs ahead of after is malformed: the cursor stays and the events in between are handled', async () => {
    const run = recording();
    await startRun(run);
    // Claims the log reaches 50 while carrying no event: trusting it would skip 1..50.
    let served = 0;
    tm.pageOverride = (after) =>
      after === 0 && served === 0 ? (served++, { events: [], lastEventId: 50, received: 0, unknown: [], invalid: [] }) : undefined;
    await waitFor(() => served === 1 && tm.polls.length >= 2);
    expect(run.feed.cursor.fetched).toBe(0);
    for (const name of ['x', 'y', 'z']) tm.createOrg(name);
    await waitFor(() => handled.length === 3, { message: `events 1..3 handled (cursor ${run.feed.cursor.fetched})` });
    expect(handled).toEqual(['created:x', 'created:y', 'created:z']);
    expect(run.feed.cursor.fetched).toBe(3);
    expect(lines('lastEventId 50 on an empty page (must be 0)')).toHaveLength(1);
  });

  it('a poll page with more events than the limit asked for is malformed: fetched-but-unfinished events never exceed maxQueuedEvents', async () => {
    tm.createOrg('first');
    const held = gate();
    const handledNames: string[] = [];
    const run = track(
      makeRun(
        tm,
        async (item) => {
          await held.promise;
          handledNames.push(item.payload.event.resourceName);
          return 'done' as const;
        },
        { pollLimit: 5, maxQueuedEvents: 10, concurrency: 1 },
      ),
    );
    let mostHeld = 0;
    const push = run.queue.push.bind(run.queue);
    run.queue.push = (...args: Parameters<typeof push>) => {
      const pushed = push(...args);
      mostHeld = Math.max(mostHeld, run.queue.size);
      return pushed;
    };
    await startRun(run);
    for (let i = 0; i < 40; i += 1) tm.createOrg(`flood-${i}`);
    // Every page ignores the limit: the whole rest of the log at once.
    tm.pageOverride = (after) => {
      const events = tm.log.filter((e) => e.id > after);
      return events.length > 0 ? { events, lastEventId: events.at(-1)!.id, received: events.length, unknown: [], invalid: [] } : undefined;
    };
    await waitFor(() => run.queue.size >= 10, { message: 'the queue fills up to its bound' });
    expect(mostHeld).toBeLessThanOrEqual(10);
    held.open();
    await waitFor(() => run.feed.cursor.fetched === tm.lastEventId, { timeout: 10_000 });
    await run.whenIdle();
    expect(handledNames).toEqual(['first', ...Array.from({ length: 40 }, (_, i) => `flood-${i}`)]);
    expect(mostHeld).toBeLessThanOrEqual(10);
    expect(lines('events for limit').length).toBeGreaterThan(0);
  });

  it('unknown-type events are summarised: one line per page with a count', async () => {
    tm.createOrg('a');
    const run = recording();
    await startRun(run);
    await run.whenIdle();
    const unknown = [1, 2, 3].map((n) => ({ id: n + 1, eventType: 'moved', resourceType: 'folder' }));
    tm.pageOverride = (after) =>
      after === 1 ? { events: [], lastEventId: 4, received: 3, unknown, invalid: [] } : undefined;
    await waitFor(() => run.feed.cursor.fetched === 4);
    const summary = lines('of a type this client does not know');
    expect(summary).toHaveLength(1);
    expect(summary[0].message).toContain('skipped 3 event(s)');
  });

  it("honours the server's Retry-After on replay retries, capped by maxBackoff", async () => {
    tm.createOrg('a');
    const asked = new TenantManagerRequestError('Tenant Manager replay: HTTP 503', 503, { retryAfter: 400 });
    tm.replayFailures.push(asked);
    const times: number[] = [];
    const fetchReplay = tm.fetchReplay.bind(tm);
    tm.fetchReplay = () => (times.push(Date.now()), fetchReplay());
    const run = track(makeRun(tm, () => 'done', { initialBackoff: 1, maxBackoff: 10_000 }));
    await startRun(run);
    expect(times).toHaveLength(2);
    expect(times[1] - times[0]).toBeGreaterThanOrEqual(350);
    // A huge Retry-After is capped by maxBackoff.
    const capped = new ScriptedTenantManager();
    capped.replayFailures.push(new TenantManagerRequestError('HTTP 429', 429, { retryAfter: 3_600_000 }));
    const started = Date.now();
    const second = track(makeRun(capped, () => 'done', { initialBackoff: 1, maxBackoff: 50 }));
    await startRun(second);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('one poison event never stops the other orgs: memory stays bounded by maxQueuedEvents, and the held-back org is recovered in order', async () => {
    const poison = tm.createOrg('poison');
    const others = ['a', 'b', 'c'].map((name) => tm.createOrg(name));
    let blocked = true;
    let maxQueued = 0;
    const order: string[] = [];
    const run = track(
      makeRun(
        tm,
        (item) => {
          const { event } = item.payload;
          maxQueued = Math.max(maxQueued, run.queue.size);
          if (blocked && event.resourceId === poison) return 'retry';
          order.push(`${event.orgId === poison || event.resourceId === poison ? 'P' : 'o'}:${event.resourceName}`);
          return 'done';
        },
        { maxQueuedEvents: 20, pollLimit: 10, concurrency: 4, maxBackoff: 5 },
      ),
    );
    await startRun(run);
    for (let i = 0; i < 40; i += 1) {
      tm.createProject(poison, `p${i}`);
      for (const org of others) tm.createProject(org, `o${i}-${org.slice(-2)}`);
    }
    await waitFor(() => order.filter((o) => o.startsWith('o:o')).length === 120, {
      message: 'every other org handled while one is stuck',
    });
    expect(maxQueued).toBeLessThanOrEqual(20);
    expect(lines('is stuck retrying').length).toBeGreaterThan(0);
    expect(order.filter((o) => o.startsWith('P:'))).toEqual([]);
    blocked = false;
    await waitFor(() => order.filter((o) => o.startsWith('P:p')).length >= 40, { message: 'held-back org recovered' });
    tm.createProject(poison, 'late');
    await waitFor(() => order.includes('P:late'));
    const poisonOrder = order.filter((o) => o.startsWith('P:'));
    // The stuck org event first, then its projects in creation order, each at least once, then the later one.
    expect(poisonOrder[0]).toBe('P:poison');
    const projects = poisonOrder.filter((o) => /^P:p\d+$/.test(o));
    expect(new Set(projects).size).toBe(40);
    const firstSeen = [...new Set(projects)];
    expect(firstSeen).toEqual(Array.from({ length: 40 }, (_, i) => `P:p${i}`));
    expect(poisonOrder[poisonOrder.length - 1]).toBe('P:late');
    await run.whenIdle();
    expect(run.feed.cursor.completed).toBe(tm.lastEventId);
  });

  it('a re-won run never runs a handler of an org while the abandoned run still runs one, and old completions are dead ends', async () => {
    const a = tm.createOrg('a');
    tm.createOrg('b');
    const timeline: string[] = [];
    const held = gate();
    const first = track(
      makeRun(tm, async (item) => {
        const name = item.payload.event.resourceName;
        timeline.push(`old start ${name}`);
        if (item.payload.event.resourceId === a) await held.promise;
        timeline.push(`old end ${name}`);
        return 'done' as const;
      }),
    );
    await startRun(first);
    await waitFor(() => timeline.includes('old start a'));
    const abandoned = first.abandon('renew refused');
    const second = track(
      makeRun(
        tm,
        (item) => {
          timeline.push(`new start ${item.payload.event.resourceName}`);
          return 'done';
        },
        {},
        first,
      ),
    );
    await startRun(second);
    await waitFor(() => timeline.includes('new start b'));
    expect(timeline).not.toContain('new start a');
    held.open();
    await waitFor(() => timeline.includes('new start a'));
    expect(timeline.indexOf('old end a')).toBeLessThan(timeline.indexOf('new start a'));
    await abandoned;
    await second.whenIdle();
    // Only the new run's replay finished; the old run's late completion counted for nothing.
    expect(lines('replay handled')).toHaveLength(1);
    expect(first.feed.replayProgress?.snapshot().finishedAt).toBeNull();
    expect(second.feed.cursor.completed).toBe(tm.lastEventId);
    expect(first.status.pending).toBe(0);
  });

  it('a handler of a run two terms back still holds back its org: runs hand on their still-running attempts, not themselves', async () => {
    const a = tm.createOrg('a');
    tm.createOrg('b');
    const timeline: string[] = [];
    const held = gate();
    const first = track(
      makeRun(tm, async (item) => {
        if (item.payload.event.resourceId === a) await held.promise;
        timeline.push(`first end ${item.payload.event.resourceName}`);
        return 'done' as const;
      }),
    );
    await startRun(first);
    await waitFor(() => first.stillRunning().has(a));
    const firstEnded = first.abandon('renew refused');
    // The second term is lost before its replay of org a could start.
    const second = track(makeRun(tm, () => 'done', {}, first));
    await startRun(second);
    await second.abandon('renew refused');
    expect([...second.stillRunning().keys()]).toEqual([a]);
    const third = track(
      makeRun(
        tm,
        (item) => {
          timeline.push(`third start ${item.payload.event.resourceName}`);
          return 'done';
        },
        {},
        second,
      ),
    );
    await startRun(third);
    await waitFor(() => timeline.includes('third start b'));
    expect(timeline).not.toContain('third start a');
    held.open();
    await waitFor(() => timeline.includes('third start a'));
    expect(timeline.indexOf('first end a')).toBeLessThan(timeline.indexOf('third start a'));
    await firstEnded;
    // Settled attempts are forgotten: nothing is handed on any more.
    await waitFor(() => third.stillRunning().size === 0);
  });

  it('a resync schedule that fails to start is reported, and neither readiness nor polling depends on it', async () => {
    const startResync = vi.spyOn(RunSchedule.prototype, 'startResync').mockImplementation(() => {
      throw new Error('No execution date was found in the next 8 years.');
    });
    try {
      tm.createOrg('a');
      const run = track(
        makeRun(
          tm,
          (item) => {
            handled.push(item.payload.event.resourceName);
            return 'done';
          },
          { resyncInterval: 60_000 },
        ),
      );
      let ready = false;
      run.start(() => (ready = true));
      await waitFor(() => ready, { message: 'the ready callback ran' });
      expect(startResync).toHaveBeenCalledTimes(1);
      tm.createOrg('after-replay');
      await waitFor(() => handled.includes('after-replay'), { message: 'polling goes on' });
      expect(run.state).toBe('polling');
      const reported = lines('could not be scheduled');
      expect(reported).toHaveLength(1);
      expect(reported[0].level).toBe('error');
      expect(reported[0].message).toContain('resyncInterval 60000 could not be scheduled (No execution date was found');
      expect(lines('poller loop crashed')).toEqual([]);
    } finally {
      startResync.mockRestore();
    }
  });
});
