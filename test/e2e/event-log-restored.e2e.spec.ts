import { describe, expect, it } from 'vitest';
import { useFakeTenantManager } from '../support/fake-tenant-manager.harness.js';
import { OrgCreatedRecorder } from '../support/org-created.recorder.js';
import { waitFor } from '../support/wait-for.js';

const CONTROLLER = 'restored-log-controller';

describe('the event log goes backwards (e2e)', () => {
  const tm = useFakeTenantManager(CONTROLLER);

  it('a Tenant Manager restarted with a fresh log: resync warns once with both ids and no event created afterwards is missed', async () => {
    for (const name of ['a', 'b', 'c', 'd']) tm.fake.createOrg(name);
    const { app, poller, logs } = await tm.apps.start({ url: tm.url, controllerName: CONTROLLER }, [OrgCreatedRecorder]);
    const recorder = app.get(OrgCreatedRecorder);
    await poller.whenIdle();
    expect(poller.getStatus().fetchCursor).toBe(4);
    // Same address, empty log: ids start at 1 again.
    await tm.replace({ port: Number(new URL(tm.url).port) });
    tm.fake.createOrg('fresh');
    await poller.resync();
    const warned = logs.lines.filter((l) => l.message.includes('event log went back'));
    expect(warned).toHaveLength(1);
    expect(warned[0].fields).toMatchObject({ cursor: 4, lastEventId: 1 });
    await waitFor(() => recorder.handled.includes('fresh'));
    tm.fake.createOrg('later');
    await waitFor(() => recorder.handled.includes('later'), { message: 'an event of the new log is delivered' });
    expect(poller.getStatus().fetchCursor).toBe(2);
    await poller.whenIdle();
    expect(poller.getStatus().completedEventId).toBe(2);
    expect(logs.lines.filter((l) => l.message.includes('event log went back'))).toHaveLength(1);
  });

  it('a Tenant Manager that was down and comes back with a fresh log is followed without anyone calling resync()', async () => {
    for (const name of ['a', 'b', 'c', 'd']) tm.fake.createOrg(name);
    const { app, poller, logs } = await tm.apps.start({ url: tm.url, controllerName: CONTROLLER }, [OrgCreatedRecorder]);
    const recorder = app.get(OrgCreatedRecorder);
    await poller.whenIdle();
    expect(poller.getStatus().fetchCursor).toBe(4);
    // Down long enough for a poll to fail, then back at the same address with an empty log.
    const failed = poller.getStatus().counters.polls.failed;
    await tm.fake.stop();
    await waitFor(() => poller.getStatus().counters.polls.failed > failed, { message: 'a poll fails while it is down' });
    await tm.replace({ port: Number(new URL(tm.url).port) });
    tm.fake.createOrg('fresh');
    await waitFor(() => recorder.handled.includes('fresh'), {
      message: `org "fresh" (id 1 of the new log) handled; fetchCursor=${poller.getStatus().fetchCursor}`,
    });
    expect(logs.lines.filter((l) => l.message.includes('answers polls again: checking a snapshot'))).toHaveLength(1);
    const warned = logs.lines.filter((l) => l.message.includes('event log went back'));
    expect(warned).toHaveLength(1);
    expect(warned[0].fields).toMatchObject({ cursor: 4, lastEventId: 1 });
    tm.fake.createOrg('later');
    await waitFor(() => recorder.handled.includes('later'), { message: 'an event of the new log is delivered' });
    expect(poller.getStatus().fetchCursor).toBe(2);
  });
});
