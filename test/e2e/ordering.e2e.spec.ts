import { Injectable } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { OnTenancyEvent, TenancyEvent, type TenancyEventContext, TenancyTerminalError } from 'nestjs-tenancy';
import { useFakeTenantManager } from '../support/fake-tenant-manager.harness.js';
import { waitFor } from '../support/wait-for.js';

const CONTROLLER = 'ordering-controller';
const isReplay = (r: { path: string; query: Record<string, string> }) =>
  r.path === '/v1/events' && r.query.replay === 'true';
const isPoll = (r: { path: string; query: Record<string, string> }) =>
  r.path === '/v1/events' && r.query.after !== undefined;

/** Records start/end per org key; awaits a short random delay to interleave orgs. */
@Injectable()
class OrderRecorder {
  readonly log: Array<{ key: string; name: string; type: string; phase: 'start' | 'end'; attempt: number }> = [];
  readonly poison = new Set<string>();
  inFlight = 0;
  maxInFlight = 0;

  @OnTenancyEvent('*', '*')
  async handle(event: TenancyEvent, ctx: TenancyEventContext): Promise<void> {
    const key = event.orgId ?? event.resourceId;
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    this.log.push({ key, name: event.resourceName, type: event.eventType, phase: 'start', attempt: ctx.attempt });
    try {
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 4));
      if (this.poison.has(event.resourceName)) throw new Error(`poison ${event.resourceName}`);
    } finally {
      this.inFlight -= 1;
      this.log.push({ key, name: event.resourceName, type: event.eventType, phase: 'end', attempt: ctx.attempt });
    }
  }

  completed(name: string): boolean {
    return this.log.some((l) => l.name === name && l.phase === 'end' && !this.poison.has(name));
  }
}

describe('org ordering, concurrency and failures (e2e)', () => {
  const tm = useFakeTenantManager(CONTROLLER);
  const { apps } = tm;

  it('keeps per-org order under concurrency across 20 orgs, and never exceeds the cap', async () => {
    const { app, poller } = await apps.start(
      { url: tm.url, controllerName: CONTROLLER, concurrency: 4 },
      [OrderRecorder],
    );
    await poller.whenReady();
    const orgIds = new Map<string, string>();
    for (let o = 0; o < 20; o += 1) orgIds.set(tm.fake.createOrg(`org-${o}`).id, `org-${o}`);
    for (let p = 0; p < 5; p += 1) for (let o = 0; o < 20; o += 1) tm.fake.createProject(`org-${o}`, `p-${o}-${p}`);
    for (let o = 0; o < 20; o += 2) tm.fake.deleteProject(`org-${o}`, `p-${o}-0`);
    const expected = tm.fake.events.length;
    const recorder = app.get(OrderRecorder);
    await waitFor(() => recorder.log.filter((l) => l.phase === 'end').length === expected, { timeout: 10_000 });
    await poller.whenIdle();

    for (const [orgId, orgName] of orgIds) {
      const mine = recorder.log.filter((l) => l.key === orgId);
      // Strictly alternating start/end: one at a time within the org.
      expect(mine.map((l) => l.phase)).toEqual(mine.map((_, i) => (i % 2 === 0 ? 'start' : 'end')));
      const order = tm.fake.events
        .filter((e) => (e.orgId ?? e.resourceId) === orgId)
        .map((e) => `${e.eventType}:${e.resourceName}`);
      expect(mine.filter((l) => l.phase === 'start').map((l) => `${l.type}:${l.name}`)).toEqual(order);
      expect(order[0]).toBe(`created:${orgName}`);
    }
    expect(recorder.maxInFlight).toBeLessThanOrEqual(4);
    expect(recorder.maxInFlight).toBeGreaterThan(1);
  });

  it('a poison project in org A does not delay org B', async () => {
    const { app, poller } = await apps.start({ url: tm.url, controllerName: CONTROLLER }, [OrderRecorder]);
    const recorder = app.get(OrderRecorder);
    recorder.poison.add('a-bad');
    await poller.whenReady();
    tm.fake.createOrg('a');
    tm.fake.createOrg('b');
    tm.fake.createProject('a', 'a-bad');
    tm.fake.createProject('a', 'a-after');
    for (let i = 0; i < 10; i += 1) tm.fake.createProject('b', `b-${i}`);
    await waitFor(() => recorder.completed('b-9'));
    // Org B is done while A is still retrying its poison project, and A's next event waits.
    expect(recorder.log.filter((l) => l.name === 'a-bad' && l.phase === 'start').length).toBeGreaterThanOrEqual(1);
    expect(recorder.log.some((l) => l.name === 'a-after')).toBe(false);
    expect(poller.getStatus().completedEventId).toBeLessThan(tm.fake.lastEventId);

    recorder.poison.delete('a-bad');
    await waitFor(() => recorder.completed('a-after'));
    await poller.whenIdle();
    expect(poller.getStatus().completedEventId).toBe(tm.fake.lastEventId);
  });

  it('a replayed resource that keeps failing does not stop the replay or polling', async () => {
    tm.fake.createOrg('a');
    tm.fake.createProject('a', 'bad');
    tm.fake.createProject('a', 'good');
    tm.fake.createOrg('b');
    // Configured before start: the replay must already see the poison.
    const recorder = new OrderRecorder();
    recorder.poison.add('bad');
    const { poller } = await apps.start({ url: tm.url, controllerName: CONTROLLER }, [
      { provide: OrderRecorder, useValue: recorder },
    ]);
    await poller.whenReady();
    tm.fake.createProject('b', 'new');
    await waitFor(() => recorder.completed('new'));
    // The snapshot was fetched once: one bad resource does not re-run the whole replay.
    expect(tm.fake.requests.filter(isReplay)).toHaveLength(1);
    expect(recorder.log.filter((l) => l.name === 'b' && l.phase === 'start')).toHaveLength(1);
  });

  it('parks an event after maxAttempts, lets its org move on, and retry() wakes it', async () => {
    const errors: string[] = [];
    const { app, poller, logs } = await apps.start(
      { url: tm.url, controllerName: CONTROLLER, maxAttempts: 3, onError: (_e, m) => errors.push(m) },
      [OrderRecorder],
    );
    const recorder = app.get(OrderRecorder);
    recorder.poison.add('bad');
    await poller.whenReady();
    tm.fake.createOrg('a');
    const bad = tm.fake.createProject('a', 'bad');
    tm.fake.createProject('a', 'after');
    await waitFor(() => recorder.completed('after'));
    await poller.whenIdle();
    expect(recorder.log.filter((l) => l.name === 'bad' && l.phase === 'start').map((l) => l.attempt)).toEqual([1, 2, 3]);
    expect(poller.getStatus().parkedEvents.map((e) => e.resourceName)).toEqual(['bad']);
    expect(tm.fake.statusOf(CONTROLLER, 'project', bad.id)).toMatchObject({ status: 'error', message: 'OrderRecorder#handle: poison bad' });
    expect(errors.filter((m) => m.includes('parked after 3 attempt(s)'))).toHaveLength(1);
    expect(logs.lines.some((l) => l.level === 'warn' && l.message.includes('parked'))).toBe(true);
    // The low-watermark passes a parked event.
    expect(poller.getStatus().completedEventId).toBe(tm.fake.lastEventId);

    recorder.poison.delete('bad');
    expect(poller.retry('some-other-id')).toBe(0);
    expect(poller.retry(bad.id)).toBe(1);
    await waitFor(() => tm.fake.statusOf(CONTROLLER, 'project', bad.id)?.status === 'completed');
    expect(poller.getStatus().parkedEvents).toEqual([]);
    expect(recorder.log.filter((l) => l.name === 'bad' && l.phase === 'start').at(-1)?.attempt).toBe(1);
  });

  it('TenancyTerminalError parks at once; retry() with no argument wakes everything', async () => {
    let terminal = true;
    @Injectable()
    class Terminal {
      calls = 0;
      @OnTenancyEvent('project', 'created')
      handle(event: TenancyEvent): void {
        this.calls += 1;
        if (terminal) throw new TenancyTerminalError(`quota exceeded for ${event.resourceName}`);
      }
    }
    tm.fake.createOrg('a');
    const one = tm.fake.createProject('a', 'one');
    tm.fake.createProject('a', 'two');
    const { app, poller } = await apps.start({ url: tm.url, controllerName: CONTROLLER }, [Terminal]);
    await poller.whenReady();
    await poller.whenIdle();
    expect(app.get(Terminal).calls).toBe(2);
    expect(poller.getStatus().parkedEvents.map((e) => e.resourceName)).toEqual(['one', 'two']);
    expect(tm.fake.statusOf(CONTROLLER, 'project', one.id)?.message).toBe('Terminal#handle: quota exceeded for one');
    terminal = false;
    expect(poller.retry()).toBe(2);
    await poller.whenIdle();
    expect(app.get(Terminal).calls).toBe(4);
    expect(tm.fake.statusOf(CONTROLLER, 'project', one.id)?.status).toBe('completed');
  });

  it('a timed-out attempt is aborted and its retry never overlaps it', async () => {
    const spans: Array<{ attempt: number; start: number; end?: number; aborted?: boolean }> = [];
    @Injectable()
    class Slow {
      @OnTenancyEvent('org', 'created')
      async handle(_event: TenancyEvent, ctx: TenancyEventContext): Promise<void> {
        const span: (typeof spans)[number] = { attempt: ctx.attempt, start: Date.now() };
        spans.push(span);
        if (ctx.attempt === 1) {
          // Ignores the abort for a while, like a handler stuck in a non-abortable call.
          await new Promise((resolve) => setTimeout(resolve, 400));
          span.aborted = ctx.signal.aborted;
        }
        span.end = Date.now();
      }
    }
    const errors: string[] = [];
    const org = tm.fake.createOrg('a');
    const { poller } = await apps.start(
      { url: tm.url, controllerName: CONTROLLER, handlerTimeout: 100, onError: (_e, m) => errors.push(m) },
      [Slow],
    );
    await waitFor(() => tm.fake.statusOf(CONTROLLER, 'org', org.id)?.status === 'completed');
    await poller.whenIdle();
    expect(spans.map((s) => s.attempt)).toEqual([1, 2]);
    expect(spans[0].aborted).toBe(true);
    expect(spans[1].start).toBeGreaterThanOrEqual(spans[0].end!);
    expect(errors.some((m) => m.includes('Slow#handle: timed out after 100 ms'))).toBe(true);
  });

  it('a handler that ignores its abort is given a grace period, then its key retries anyway', async () => {
    let attempts = 0;
    @Injectable()
    class Hanging {
      @OnTenancyEvent('org', 'created')
      async handle(_event: TenancyEvent, ctx: TenancyEventContext): Promise<void> {
        attempts += 1;
        if (ctx.attempt === 1) await new Promise(() => {});
      }
    }
    const org = tm.fake.createOrg('a');
    const { poller, logs } = await apps.start(
      { url: tm.url, controllerName: CONTROLLER, handlerTimeout: 50 },
      [Hanging],
    );
    await waitFor(() => tm.fake.statusOf(CONTROLLER, 'org', org.id)?.status === 'completed', { timeout: 5_000 });
    await poller.whenIdle();
    expect(attempts).toBe(2);
    expect(
      logs.lines.some(
        (l) => l.level === 'warn' && l.message.includes('Hanging#handle ignored its abort signal') && l.message.includes('1000 ms'),
      ),
    ).toBe(true);
  });

  it('bounds fetched-but-unfinished events by maxQueuedEvents', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    @Injectable()
    class Gated {
      handled = 0;
      @OnTenancyEvent('*', '*')
      async handle(): Promise<void> {
        await gate;
        this.handled += 1;
      }
    }
    tm.fake.seed(20, 9); // 200 events
    tm.fake.failNext(1, { status: 200, body: '{"events":[],"lastEventId":0}', match: isReplay });
    const { app, poller } = await apps.start(
      { url: tm.url, controllerName: CONTROLLER, maxQueuedEvents: 50, pollLimit: 20, pollInterval: 20 },
      [Gated],
    );
    await waitFor(() => tm.fake.requests.filter(isPoll).length >= 3);
    const polls = () => tm.fake.requests.filter(isPoll).map((r) => `${r.query.after}/${r.query.limit}`);
    // 20 + 20 + 10 = 50 queued behind the shut gate, and no fourth poll: the bound holds.
    await waitFor(() => poller.getStatus().queued + poller.getStatus().inFlight === 50);
    // Let the backpressured loop wake a few times (it stamps each wake) without fetching.
    const since = poller.getStatus().lastPollAttemptAt!.getTime();
    await waitFor(() => poller.getStatus().lastPollAttemptAt!.getTime() >= since + 60);
    expect(polls()).toEqual(['0/20', '20/20', '40/10']);
    release();
    await waitFor(() => app.get(Gated).handled === 200, { timeout: 10_000 });
    await poller.whenIdle();
    // Once room opens up, polling resumes in chunks of at least a tenth of the bound
    // (5 here), never one fetch per finished event.
    const laterLimits = tm.fake.requests.filter(isPoll).slice(3).map((r) => Number(r.query.limit));
    expect(laterLimits.length).toBeGreaterThan(0);
    expect(Math.min(...laterLimits)).toBeGreaterThanOrEqual(5);
    expect(poller.getStatus().completedEventId).toBe(200);
  });

  it('resync() re-delivers the current state as replayed events', async () => {
    tm.fake.createOrg('a');
    const { app, poller } = await apps.start({ url: tm.url, controllerName: CONTROLLER }, [OrderRecorder]);
    await poller.whenReady();
    await poller.whenIdle();
    await poller.resync();
    await poller.whenIdle();
    const recorder = app.get(OrderRecorder);
    expect(recorder.log.filter((l) => l.name === 'a' && l.phase === 'end')).toHaveLength(2);
    expect(tm.fake.requests.filter(isReplay)).toHaveLength(2);
  });
});
