/**
 * Pure Lease logic of the Kubernetes coordinator: the wire shape it reads and writes,
 * the specs it builds, and the expiry judgement. No I/O, no clock of its own.
 */

/** The `metadata` fields of a Lease the coordinator relies on (the rest is passed through). */
export interface LeaseMetadata {
  name?: string;
  namespace?: string;
  /** Optimistic concurrency token: a replace carrying a stale one is refused with 409. */
  resourceVersion?: string;
}

/**
 * `spec` of a `coordination.k8s.io/v1` Lease. Times are `metav1.MicroTime`: read as
 * strings by `@kubernetes/client-node` 1.x (it does not revive them), written as
 * {@link MicroTime} or as the string that was read.
 */
export interface LeaseSpecFields {
  holderIdentity?: string | null;
  leaseDurationSeconds?: number;
  acquireTime?: Date | string;
  renewTime?: Date | string;
  leaseTransitions?: number;
}

/** A Lease object as the API returns and accepts it (structurally `V1Lease`). */
export interface LeaseObject {
  apiVersion?: string;
  kind?: string;
  metadata?: LeaseMetadata;
  spec?: LeaseSpecFields;
}

/** What the coordinator judges a Lease by. */
export interface LeaseRecord {
  /** Empty when nobody holds the Lease (never created with a holder, or released). */
  readonly holderIdentity: string;
  /** Undefined when the Lease does not say (then the configured duration applies). */
  readonly leaseDurationSeconds?: number;
  /** RFC3339 text, or undefined. */
  readonly renewTime?: string;
  readonly leaseTransitions: number;
  readonly resourceVersion?: string;
}

/** The last record seen and the LOCAL time it was first seen in that form. */
export interface LeaseObservation {
  readonly record: LeaseRecord;
  readonly observedAt: number;
}

/**
 * A Date that serializes with microseconds (`2024-05-01T10:00:00.123000Z`). The API
 * server parses `metav1.MicroTime` with exactly six fraction digits and refuses the
 * three that `Date#toISOString()` gives. `JSON.stringify` reaches this override
 * through `Date#toJSON`, whichever way the client serializes the field.
 */
export class MicroTime extends Date {
  override toISOString(): string {
    return `${super.toISOString().slice(0, -1)}000Z`;
  }
}

/** The wire value of `leaseDurationSeconds`: whole seconds, rounded up, at least 1. */
export function leaseDurationSeconds(leaseDurationMs: number): number {
  return Math.max(1, Math.ceil(leaseDurationMs / 1000));
}

/** Normalises a Lease read from the API. */
export function readLeaseRecord(lease: LeaseObject): LeaseRecord {
  const spec = lease.spec ?? {};
  const seconds = spec.leaseDurationSeconds;
  return {
    holderIdentity: spec.holderIdentity ?? '',
    leaseDurationSeconds: typeof seconds === 'number' && Number.isFinite(seconds) && seconds > 0 ? seconds : undefined,
    renewTime: timeText(spec.renewTime),
    leaseTransitions: spec.leaseTransitions ?? 0,
    resourceVersion: lease.metadata?.resourceVersion,
  };
}

/**
 * Records that `record` was seen at `now`. An unchanged record (same holder, renewTime
 * and resourceVersion) keeps its first observation time; a changed or first-seen one
 * counts as observed now. Like client-go, expiry is measured on our own (monotonic) clock from
 * that moment, never from the `renewTime` another pod wrote, so clock skew between
 * pods cannot make a live lease look expired.
 */
export function observeLease(
  previous: LeaseObservation | undefined,
  record: LeaseRecord,
  now: number,
): LeaseObservation {
  if (previous && sameRecord(previous.record, record)) return { record, observedAt: previous.observedAt };
  return { record, observedAt: now };
}

/**
 * Whether another replica may take the Lease over: nobody holds it, or its holder has
 * not changed it for the Lease's own duration (or `fallbackDurationMs` when it names
 * none) of our local time.
 */
export function isLeaseExpired(observation: LeaseObservation, now: number, fallbackDurationMs: number): boolean {
  const { record, observedAt } = observation;
  if (record.holderIdentity === '') return true;
  const durationMs =
    record.leaseDurationSeconds === undefined ? fallbackDurationMs : record.leaseDurationSeconds * 1000;
  return observedAt + durationMs <= now;
}

/** Spec of a Lease created with us as its first holder. */
export function createdSpec(identity: string, durationSeconds: number, now: number): LeaseSpecFields {
  const time = new MicroTime(now);
  return {
    holderIdentity: identity,
    leaseDurationSeconds: durationSeconds,
    acquireTime: time,
    renewTime: time,
    leaseTransitions: 0,
  };
}

/** Spec after we take over a Lease someone else held (or nobody): one more transition. */
export function takenOverSpec(
  previous: LeaseSpecFields | undefined,
  identity: string,
  durationSeconds: number,
  now: number,
): LeaseSpecFields {
  const time = new MicroTime(now);
  return {
    ...previous,
    holderIdentity: identity,
    leaseDurationSeconds: durationSeconds,
    acquireTime: time,
    renewTime: time,
    leaseTransitions: (previous?.leaseTransitions ?? 0) + 1,
  };
}

/** Spec after we renew a Lease we hold: a new renewTime, everything else kept. */
export function renewedSpec(previous: LeaseSpecFields | undefined, durationSeconds: number, now: number): LeaseSpecFields {
  const time = new MicroTime(now);
  return {
    ...previous,
    leaseDurationSeconds: durationSeconds,
    acquireTime: wireTime(previous?.acquireTime) ?? time,
    renewTime: time,
  };
}

/**
 * Spec after we give the Lease up: no holder and a one-second duration, as client-go
 * writes it, so a standby takes over at its next attempt.
 */
export function releasedSpec(previous: LeaseSpecFields | undefined, now: number): LeaseSpecFields {
  const time = new MicroTime(now);
  return {
    ...previous,
    holderIdentity: '',
    leaseDurationSeconds: 1,
    acquireTime: time,
    renewTime: time,
  };
}

/** A new Lease object for `create`. */
export function newLease(name: string, namespace: string, spec: LeaseSpecFields): LeaseObject {
  return { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace }, spec };
}

/**
 * The Lease that was read, with a new spec, for `replace`. Its metadata (and so its
 * resourceVersion) is sent back unchanged: the write only succeeds if nobody wrote
 * in between.
 */
export function withSpec(lease: LeaseObject, spec: LeaseSpecFields): LeaseObject {
  return { ...lease, apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', spec };
}

function sameRecord(a: LeaseRecord, b: LeaseRecord): boolean {
  return a.holderIdentity === b.holderIdentity && a.renewTime === b.renewTime && a.resourceVersion === b.resourceVersion;
}

function timeText(value: Date | string | undefined): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  return Number.isNaN(value.getTime()) ? String(value) : value.toISOString();
}

/** A time read back, made safe to write again (a revived Date would lose the micro format). */
function wireTime(value: Date | string | undefined): Date | string | undefined {
  if (value instanceof Date) return new MicroTime(value.getTime());
  return value;
}
