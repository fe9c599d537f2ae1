import { describe, expect, it } from 'vitest';
import type { QueuedEvent } from '../../../src/dispatch/attempt-runner.js';
import { KeyedWorkQueue, type QueueItem, type WorkOutcome } from '../../../src/dispatch/keyed-work-queue.js';
import { EventCursor } from '../../../src/run/event-cursor.js';
import { EventIntake } from '../../../src/run/event-intake.js';
import { TenancyLogger } from '../../../src/telemetry/tenancy-logger.js';
import { TenancyEvent } from '../../../src/tenancy-event.js';
import { resolveTenancyOptions } from '../../../src/tenancy-options.resolver.js';

const ORG = '6f1c1a52-8d0e-4a4b-9a57-2b1f3f0c9e11';
const PROJECT = '0b0e3f4a-1c2d-4e5f-8a9b-0c1d2e3f4a5b';

function project(name: string, eventType: 'created' | 'deleted' = 'created'): TenancyEvent {
  return new TenancyEvent({
    id: 0,
    eventType,
    resourceType: 'project',
    resourceId: PROJECT,
    resourceName: name,
    orgId: ORG,
    orgName: 'acme',
    folderId: null,
    createdAt: new Date(0),
  });
}

/** An intake over a queue of concurrency 1 whose worker holds every item until released. */
function harness() {
  const started: Array<QueueItem<QueuedEvent>> = [];
  const releases: Array<(outcome: WorkOutcome) => void> = [];
  const queue = new KeyedWorkQueue<QueuedEvent>({ concurrency: 1, initialBackoff: 1, maxBackoff: 1 }, (item) => {
    item.payload.started = true;
    started.push(item);
    return new Promise<WorkOutcome>((resolve) => releases.push(resolve));
  });
  const options = resolveTenancyOptions({ url: 'http://127.0.0.1:1', controllerName: 'ctl' }, {});
  const intake = new EventIntake(queue, () => true, new EventCursor(), new TenancyLogger(options));
  // Occupies the only worker slot with another org, so the project's events wait.
  const blocker = new TenancyEvent({ ...project('blocker'), resourceType: 'org', resourceId: '11111111-2222-4333-8444-555555555555', orgId: null, orgName: null });
  intake.queueIncremental([blocker]);
  return { queue, intake, started, releases };
}

describe('EventIntake: a later snapshot and the events still waiting', () => {
  it("updates a waiting snapshot event in place: one entry, the newer event, both snapshots' callbacks", async () => {
    const { queue, intake, started, releases } = harness();
    const finished: string[] = [];
    intake.queueSnapshot([project('old')], 0, () => finished.push('first'));
    intake.queueSnapshot([project('new', 'deleted')], 0, () => finished.push('second'));
    expect(queue.size).toBe(2); // the blocker and one project entry
    releases[0]('done');
    await queue.whenBelow(2);
    expect(started[1].payload.event.resourceName).toBe('new');
    expect(started[1].payload.event.eventType).toBe('deleted');
    started[1].payload.onFinished?.();
    expect(finished).toEqual(['first', 'second']);
    releases[1]('done');
    await queue.whenIdle();
  });

  it('queues the newer event behind one that has started', async () => {
    const { queue, intake, started, releases } = harness();
    releases[0]('done');
    await queue.whenIdle();
    intake.queueSnapshot([project('old')], 0, () => undefined);
    expect(started.at(-1)?.payload.event.resourceName).toBe('old');
    intake.queueSnapshot([project('new')], 0, () => undefined);
    expect(queue.size).toBe(2);
    releases[1]('done');
    await queue.whenBelow(2);
    expect(started.at(-1)?.payload.event.resourceName).toBe('new');
    releases[2]('done');
    await queue.whenIdle();
  });

  it('leaves a waiting event of a recovery alone (it carries its org count) and queues the newer one behind it', async () => {
    const { queue, intake, started, releases } = harness();
    intake.queueRecovery([project('recovered')], 0, [ORG]);
    intake.queueSnapshot([project('new')], 0, () => undefined);
    expect(queue.size).toBe(3);
    for (let index = 0; index < 3; index += 1) {
      await queue.whenBelow(3 - index + 1);
      releases[index]('done');
    }
    await queue.whenIdle();
    expect(started.map((item) => item.payload.event.resourceName)).toEqual(['blocker', 'recovered', 'new']);
  });
});
