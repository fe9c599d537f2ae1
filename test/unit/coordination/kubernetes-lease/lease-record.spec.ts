import { describe, expect, it } from 'vitest';
import {
  MicroTime,
  createdSpec,
  isLeaseExpired,
  leaseDurationSeconds,
  newLease,
  observeLease,
  readLeaseRecord,
  releasedSpec,
  renewedSpec,
  takenOverSpec,
  withSpec,
  type LeaseRecord,
} from '../../../../src/coordination/kubernetes-lease/lease-record.js';

const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);
const record = (overrides: Partial<LeaseRecord> = {}): LeaseRecord => ({
  holderIdentity: 'pod-a',
  leaseDurationSeconds: 15,
  renewTime: '2025-01-01T12:00:00.000000Z',
  leaseTransitions: 0,
  resourceVersion: '7',
  ...overrides,
});

describe('MicroTime', () => {
  it('serializes with six fraction digits, through toISOString and JSON alike', () => {
    const time = new MicroTime(Date.UTC(2025, 4, 1, 10, 0, 0, 123));
    expect(time.toISOString()).toBe('2025-05-01T10:00:00.123000Z');
    expect(JSON.stringify({ time })).toBe('{"time":"2025-05-01T10:00:00.123000Z"}');
  });
});

describe('leaseDurationSeconds', () => {
  it('rounds up to whole seconds, at least 1', () => {
    expect([300, 999, 1000, 1001, 1500, 15_000].map(leaseDurationSeconds)).toEqual([1, 1, 1, 2, 2, 15]);
  });
});

describe('readLeaseRecord', () => {
  it('reads holder, duration, renewTime (string or Date), transitions and resourceVersion', () => {
    expect(
      readLeaseRecord({
        metadata: { resourceVersion: '12' },
        spec: { holderIdentity: 'pod-a', leaseDurationSeconds: 5, renewTime: '2025-01-01T12:00:00.123456Z', leaseTransitions: 3 },
      }),
    ).toEqual({
      holderIdentity: 'pod-a',
      leaseDurationSeconds: 5,
      renewTime: '2025-01-01T12:00:00.123456Z',
      leaseTransitions: 3,
      resourceVersion: '12',
    });
    expect(readLeaseRecord({ spec: { renewTime: new Date(T0) } }).renewTime).toBe('2025-01-01T12:00:00.000Z');
  });

  it('treats a missing or null holder as empty, and a missing, zero or negative duration as unknown', () => {
    expect(readLeaseRecord({})).toEqual({
      holderIdentity: '',
      leaseDurationSeconds: undefined,
      renewTime: undefined,
      leaseTransitions: 0,
      resourceVersion: undefined,
    });
    expect(readLeaseRecord({ spec: { holderIdentity: null, leaseDurationSeconds: 0 } })).toMatchObject({
      holderIdentity: '',
      leaseDurationSeconds: undefined,
    });
    expect(readLeaseRecord({ spec: { leaseDurationSeconds: -3 } }).leaseDurationSeconds).toBeUndefined();
  });
});

describe('observeLease', () => {
  it('counts a first-seen record as observed now', () => {
    expect(observeLease(undefined, record(), T0)).toEqual({ record: record(), observedAt: T0 });
  });

  it('keeps the first observation time while holder, renewTime and resourceVersion stay the same', () => {
    const first = observeLease(undefined, record(), T0);
    expect(observeLease(first, record({ leaseTransitions: 9 }), T0 + 5_000).observedAt).toBe(T0);
  });

  it.each([
    ['holderIdentity', { holderIdentity: 'pod-b' }],
    ['renewTime', { renewTime: '2025-01-01T12:00:02.000000Z' }],
    ['resourceVersion', { resourceVersion: '8' }],
  ])('restarts the observation when %s changes', (_field, change) => {
    const first = observeLease(undefined, record(), T0);
    expect(observeLease(first, record(change), T0 + 5_000).observedAt).toBe(T0 + 5_000);
  });
});

describe('isLeaseExpired', () => {
  it('expires exactly leaseDurationSeconds after the local observation, whatever renewTime says', () => {
    // renewTime a year in the past: another pod's clock is not ours; only observation time counts.
    const observation = observeLease(undefined, record({ renewTime: '2024-01-01T00:00:00.000000Z' }), T0);
    expect(isLeaseExpired(observation, T0, 1_000)).toBe(false);
    expect(isLeaseExpired(observation, T0 + 14_999, 1_000)).toBe(false);
    expect(isLeaseExpired(observation, T0 + 15_000, 1_000)).toBe(true);
  });

  it('uses the fallback duration when the record names none', () => {
    const observation = observeLease(undefined, record({ leaseDurationSeconds: undefined }), T0);
    expect(isLeaseExpired(observation, T0 + 2_999, 3_000)).toBe(false);
    expect(isLeaseExpired(observation, T0 + 3_000, 3_000)).toBe(true);
  });

  it('treats an empty holder as expired at once', () => {
    const observation = observeLease(undefined, record({ holderIdentity: '' }), T0);
    expect(isLeaseExpired(observation, T0, 15_000)).toBe(true);
  });
});

describe('spec builders', () => {
  const previous = {
    holderIdentity: 'pod-a',
    leaseDurationSeconds: 15,
    acquireTime: '2025-01-01T11:00:00.654321Z',
    renewTime: '2025-01-01T11:59:58.000000Z',
    leaseTransitions: 4,
    preferredHolder: 'pod-c',
  };
  const json = (value: unknown) => JSON.parse(JSON.stringify(value)) as unknown;

  it('createdSpec: us as holder, acquire = renew = now, no transitions', () => {
    expect(json(createdSpec('pod-a', 15, T0))).toEqual({
      holderIdentity: 'pod-a',
      leaseDurationSeconds: 15,
      acquireTime: '2025-01-01T12:00:00.000000Z',
      renewTime: '2025-01-01T12:00:00.000000Z',
      leaseTransitions: 0,
    });
  });

  it('takenOverSpec: new holder, acquire = renew = now, one more transition, other fields kept', () => {
    expect(json(takenOverSpec(previous, 'pod-b', 10, T0))).toEqual({
      holderIdentity: 'pod-b',
      leaseDurationSeconds: 10,
      acquireTime: '2025-01-01T12:00:00.000000Z',
      renewTime: '2025-01-01T12:00:00.000000Z',
      leaseTransitions: 5,
      preferredHolder: 'pod-c',
    });
    expect(takenOverSpec(undefined, 'pod-b', 10, T0).leaseTransitions).toBe(1);
  });

  it('renewedSpec: only renewTime (and our duration) change; acquireTime and transitions stay', () => {
    expect(json(renewedSpec(previous, 15, T0))).toEqual({ ...previous, renewTime: '2025-01-01T12:00:00.000000Z' });
  });

  it('renewedSpec: a revived Date acquireTime goes out in micro format again', () => {
    const spec = renewedSpec({ ...previous, acquireTime: new Date(Date.UTC(2025, 0, 1, 11, 0, 0, 654)) }, 15, T0);
    expect(json(spec)).toMatchObject({ acquireTime: '2025-01-01T11:00:00.654000Z' });
  });

  it('releasedSpec: no holder, one second, acquire = renew = now, transitions kept', () => {
    expect(json(releasedSpec(previous, T0))).toEqual({
      holderIdentity: '',
      leaseDurationSeconds: 1,
      acquireTime: '2025-01-01T12:00:00.000000Z',
      renewTime: '2025-01-01T12:00:00.000000Z',
      leaseTransitions: 4,
      preferredHolder: 'pod-c',
    });
  });

  it('newLease and withSpec: a full Lease, the read metadata (resourceVersion) kept for replace', () => {
    const spec = createdSpec('pod-a', 15, T0);
    expect(newLease('leader', 'ns', spec)).toEqual({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'leader', namespace: 'ns' },
      spec,
    });
    const read = { metadata: { name: 'leader', namespace: 'ns', resourceVersion: '41' }, spec: previous };
    expect(withSpec(read, spec)).toEqual({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'leader', namespace: 'ns', resourceVersion: '41' },
      spec,
    });
  });
});
