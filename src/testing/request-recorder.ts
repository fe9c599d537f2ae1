import type { IncomingHttpHeaders } from 'node:http';

/** One request the fake received, for assertions. */
export interface RecordedRequest {
  /** Upper-case, e.g. `GET`. */
  readonly method: string;
  /** Pathname without the query. */
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  /** Node's lower-cased header map. */
  readonly headers: IncomingHttpHeaders;
  /** Parsed JSON body, raw text when not JSON, `undefined` when empty or over 64 KiB. */
  readonly body: unknown;
  /** Response status; 0 while unanswered, and for a connection destroyed by a fault. */
  readonly status: number;
  /** `Date.now()` when the request's body had been read. */
  readonly at: number;
}

/** A recorded request whose status is filled in when it is answered. */
export type MutableRecordedRequest = { -readonly [K in keyof RecordedRequest]: RecordedRequest[K] };

/** Default cap: enough for any test, bounded for long benchmarks. */
export const DEFAULT_REQUEST_CAP = 10_000;

/**
 * The request log, capped to the most recent `cap` entries so a 300k-request
 * benchmark cannot grow it without bound.
 */
export class RequestRecorder {
  private entries: MutableRecordedRequest[] = [];
  private readonly cap: number;

  /** `true` keeps the default cap, a number sets it, `false` records nothing. */
  constructor(setting: boolean | number = true) {
    if (typeof setting === 'number' && !(Number.isInteger(setting) && setting >= 0)) {
      throw new RangeError(`recordRequests must be a non-negative integer or a boolean, got ${setting}`);
    }
    this.cap = setting === true ? DEFAULT_REQUEST_CAP : setting === false ? 0 : setting;
  }

  /** Stores a request (unless recording is off) and returns the entry to complete later. */
  add(request: MutableRecordedRequest): MutableRecordedRequest {
    if (this.cap === 0) return request;
    this.entries.push(request);
    // Trim in batches: amortised O(1) instead of an O(n) shift per request.
    if (this.entries.length >= this.cap * 2) this.entries = this.entries.slice(-this.cap);
    return request;
  }

  /** The most recent requests, oldest first. */
  list(): RecordedRequest[] {
    return this.entries.length > this.cap ? this.entries.slice(-this.cap) : this.entries.slice();
  }

  /** Forgets all recorded requests. */
  clear(): void {
    this.entries = [];
  }
}
