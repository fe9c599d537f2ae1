import { describe, expect, it } from 'vitest';
import { QueuedEventItem } from '../../../src/run/queued-event.item.js';
import { TenancyEvent } from '../../../src/tenancy-event.js';

const event = new TenancyEvent({
  id: 0,
  eventType: 'created',
  resourceType: 'org',
  resourceId: '6f1c1a52-8d0e-4a4b-9a57-2b1f3f0c9e11',
  resourceName: 'acme',
  orgId: null,
  orgName: null,
  folderId: null,
  createdAt: new Date(0),
});

describe('QueuedEventItem', () => {
  it('is its own payload, starting at attempt 1, not started, without an error', () => {
    const onFinished = () => undefined;
    const item = new QueuedEventItem('org-key', event, 'snapshot', onFinished, 3);
    expect(item.payload).toBe(item);
    expect(item).toMatchObject({ key: 'org-key', event, replay: true, onFinished, epoch: 3, attempt: 1, started: false });
    expect(item.lastError).toBeUndefined();
  });

  it('shows updates made through the payload on the item (one object)', () => {
    const item = new QueuedEventItem('k', event, 'log', undefined, 0);
    item.payload.started = true;
    item.payload.lastError = 'boom';
    expect(item.started).toBe(true);
    expect(item.lastError).toBe('boom');
  });

  it.each([
    ['log', false],
    ['snapshot', true],
    ['recovery', true],
  ] as const)('an event from the %s is replay: %s', (origin, replay) => {
    expect(new QueuedEventItem('k', event, origin, undefined, 0).replay).toBe(replay);
  });
});

describe('QueuedEventItem: its packed fields stay independent', () => {
  it.each(['log', 'snapshot', 'recovery'] as const)('origin %s survives every attempt and started change', (origin) => {
    const item = new QueuedEventItem('k', event, origin, undefined, 7);
    for (const attempt of [2, 3, 1_000, 2 ** 40]) {
      item.attempt = attempt;
      item.started = true;
      expect([item.attempt, item.started, item.origin, item.epoch]).toEqual([attempt, true, origin, 7]);
      item.started = false;
      expect([item.attempt, item.started, item.origin]).toEqual([attempt, false, origin]);
      item.started = true;
      item.attempt += 1;
      expect([item.attempt, item.started, item.origin]).toEqual([attempt + 1, true, origin]);
    }
  });

  it('keeps each failing event its own lastError, and forgets it when set to undefined', () => {
    const first = new QueuedEventItem('k', event, 'log', undefined, 0);
    const second = new QueuedEventItem('k', event, 'log', undefined, 0);
    first.lastError = 'first failed';
    expect(first.lastError).toBe('first failed');
    expect(second.lastError).toBeUndefined();
    first.lastError = undefined;
    expect(first.lastError).toBeUndefined();
  });
});
