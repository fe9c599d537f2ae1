import type { TenancyEvent } from './tenancy-event.js';

/** Builders of every error and log text, so tests can assert the exact wording. */

export const invalidOption = (field: string, shown: string, rule: string): string =>
  `TenancyModule option "${field}" ${rule} (got ${shown})`;

export const invalidDecoratorArgument = (argument: string, value: unknown, allowed: readonly string[]): string =>
  `@OnTenancyEvent(): ${argument} must be one of ${allowed.map((a) => `'${a}'`).join(', ')} (got ${describeValue(value)})`;

export const handlerFailed = (handler: string, error: Error): string => `${handler}: ${error.message}`;

export const handlerTimedOut = (handler: string, timeout: number): string =>
  `${handler}: timed out after ${timeout} ms`;

export const handlerIgnoredAbort = (handler: string, event: TenancyEvent, grace: number): string =>
  `${handler} ignored its abort signal for ${String(event)}: still running ${grace} ms after the timeout; retrying anyway`;

export const eventFailed = (event: TenancyEvent, attempt: number, reason: string): string =>
  `${String(event)} failed (attempt ${attempt}): ${reason}`;

export const eventParked = (event: TenancyEvent, attempts: number, reason: string): string =>
  `${String(event)} parked after ${attempts} attempt(s): ${reason}`;

/** `detail` is a client error's message, which names the request: `GET /v1/events?…: HTTP 404 not found`. */
export const requestFailed = (what: string, detail: string): string => `Tenant Manager ${what} failed: ${detail}`;

/** A Tenant Manager request and what became of it, each said once: method, path (no credentials), cause. */
export const requestError = (method: string, path: string, cause: string): string => `${method} ${path}: ${cause}`;

/** The cause of a request that reached no server, with where it went (credentials masked). */
export const unreachable = (code: string, redactedBaseUrl: string): string => `${code} (${redactedBaseUrl})`;

export const httpStatusFailed = (status: number, text: string): string => `HTTP ${status} ${text}`;

export const malformedResponse = (detail: string): string => `malformed response: ${detail}`;

export const responseTooLarge = (limit: number): string =>
  `response body exceeds maxResponseBytes (${limit} bytes); abandoned`;

export const responseUndecodable = (code: string): string => `response body cannot be decoded as text (${code})`;

export const connectionClosedEarly = (): string => 'connection closed before the response ended';

export const responseMalformed = (part: string): string => `malformed HTTP response (${part})`;

export const requestAborted = (): string => 'aborted';

export const axiosMissing = (): string =>
  "TenancyModule option \"transport\" is 'axios', but the axios package cannot be loaded: install axios (and @nestjs/axios for HttpModule)";

export const statusWriteFailed = (what: string, resourceType: string, resourceId: string, detail: string): string =>
  `status ${what} for ${resourceType} ${resourceId} failed: ${detail}`;

export const invalidEvent = (reasons: string, raw: unknown): string =>
  `invalid event in the response (${reasons}): ${safeJson(raw)}`;

export const invalidEventSkipped = (strikes: number, raw: unknown): string =>
  `skipping event that stayed invalid in ${strikes} fetches: ${safeJson(raw)}`;

export const unknownEventSkipped = (raw: unknown): string =>
  `skipping event of a type this client does not know: ${safeJson(raw)}`;

/** A short, log-safe rendering of an arbitrary value. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) {
    return String(value);
  }
  return safeJson(value);
}

export function safeJson(value: unknown, max = 2_000): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    // cyclic, throwing toJSON or getter, revoked proxy: describe it another way
  }
  if (typeof text !== 'string') return describeThrown(value, max);
  return clip(text, max);
}

/**
 * Describes any value without ever throwing: throwing getters, `toString`,
 * `toJSON` or `Symbol.toPrimitive`, revoked proxies, null-prototype and cyclic
 * objects all get a text. Used for whatever a handler or callback throws.
 */
export function describeThrown(value: unknown, max = 2_000): string {
  try {
    if (value === undefined || value === null) return String(value);
    switch (typeof value) {
      case 'string':
        return clip(value, max);
      case 'number':
      case 'boolean':
      case 'bigint':
        return String(value);
      case 'symbol':
        return value.toString();
      case 'function':
        return `function ${readName(value) || '(anonymous)'}`;
    }
    if (isErrorLike(value)) {
      const name = readName(value) || 'Error';
      let message: unknown;
      try {
        message = (value as Error).message;
      } catch {
        return `${name} whose message cannot be read`;
      }
      if (typeof message === 'string') return clip(message === '' ? name : `${name}: ${message}`, max);
    }
  } catch {
    // a getter or trap threw: fall through to the generic renderings
  }
  try {
    const json = JSON.stringify(value);
    if (typeof json === 'string') return clip(json, max);
  } catch {
    // not serialisable
  }
  try {
    const text = String(value);
    if (typeof text === 'string') return clip(text, max);
  } catch {
    // no usable toString either
  }
  return 'a value that cannot be described (its accessors throw)';
}

/** `instanceof Error` that never throws (a revoked proxy's trap would). */
export function isErrorLike(value: unknown): boolean {
  try {
    return value instanceof Error;
  } catch {
    return false; // revoked proxy
  }
}

function readName(value: unknown): string {
  try {
    const name = (value as { name?: unknown }).name;
    return typeof name === 'string' ? name : '';
  } catch {
    return '';
  }
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

export const onErrorThrew = (thrown: string): string => `onError callback threw: ${thrown}`;

export const lastEventIdBehindCursor = (after: number, lastEventId: number): string =>
  malformedResponse(`lastEventId ${lastEventId} is behind the cursor (after=${after})`);

export const replayStarted = (what: string): string => `${what} started`;

export const replayFetched = (what: string, received: number, ms: number, queued: number, lastEventId: number): string =>
  `${what} fetched ${received} event(s) in ${ms} ms, queued ${queued}, lastEventId ${lastEventId}`;

export const replayRetrying = (what: string, detail: string, delay: number, attempt: number): string =>
  `${requestFailed(what, detail)}; retrying in ${delay} ms (attempt ${attempt})`;

export const resyncSkipped = (queued: number, max: number): string =>
  `resync skipped: ${queued} events are still queued (maxQueuedEvents ${max}); the next one will catch up`;

export const resyncNotScheduled = (schedule: number | string, reason: string): string =>
  `resyncInterval ${JSON.stringify(schedule)} could not be scheduled (${reason}): polling goes on without periodic resyncs`;

export const handlersStillRunning = (count: number, timeout: number): string =>
  `${count} handler(s) still running after shutdownTimeout (${timeout} ms); aborting their signals`;

export const statusWritesUnsent = (count: number): string =>
  `${count} status write(s) could not be sent before shutdown`;

export const abandonedAtShutdown = (event: TenancyEvent): string => `${String(event)} abandoned at shutdown`;

export const coordinatorCallHung = (call: string, ms: number): string =>
  `coordinator ${call} did not return within ${ms} ms; shutting down without waiting for it`;

export const requestTimedOut = (ms: number): string => `timed out after ${ms} ms (httpTimeout)`;

export const eventHandled = (event: TenancyEvent, attempt: number): string => `${String(event)} handled (attempt ${attempt})`;

export const scopedHandlerProvider = (handler: string, scope: string, token: string): string =>
  `@OnTenancyEvent handler ${handler} is on a ${scope} provider (token ${token}); tenancy handlers must live on singleton (default-scope) providers, because events arrive outside any request`;

/** A provider token as a user wrote it: a class name, a quoted string, or a symbol. */
export function describeProviderToken(token: unknown): string {
  if (typeof token === 'function') return token.name || '(anonymous class)';
  if (typeof token === 'symbol') return token.toString();
  return describeValue(token);
}

/** An option key that no option has; its value is never shown (it may be a misspelled secret). */
export const unknownOption = (field: string, suggestion?: string): string =>
  `TenancyModule option "${field}" is not a known option${suggestion ? `; did you mean "${suggestion}"?` : ''}`;

export const metricsControllerShared = (controller: string): string =>
  `another TenancyModule with controller name "${controller}" already uses this metrics registry: its counters are shared, and gauges show the newest instance`;

export const abandonedOnLeadershipLoss = (event: TenancyEvent): string =>
  `${String(event)} abandoned: leadership lost (the new leader replays it)`;

export const unknownEventsSkipped = (what: string, count: number, example: unknown): string =>
  `${what}: skipped ${count} event(s) of a type this client does not know, e.g. ${safeJson(example, 500)}`;

export const eventLogCheckAfterOutage = (cursor: number): string =>
  `the Tenant Manager answers polls again: checking a snapshot against our cursor ${cursor}, in case it restarted with a fresh log or was restored from a backup`;

export const eventLogWentBack = (what: string, cursor: number, lastEventId: number): string =>
  `the Tenant Manager's event log went back (${what} lastEventId ${lastEventId} is below our cursor ${cursor}): restored from a backup or restarted with a fresh log? Following the new log from a fresh snapshot`;

export const contradictoryPage = (after: number, lastEventId: number, ids: readonly number[]): string =>
  `Tenant Manager poll after ${after}: malformed response: event id(s) ${ids.slice(0, 10).join(', ')}${ids.length > 10 ? ', …' : ''} outside (${after}, ${lastEventId}]`;

export const pageOverLimit = (after: number, received: number, limit: number): string =>
  `Tenant Manager poll after ${after}: malformed response: ${received} events for limit ${limit}`;

export const pageLastEventIdMismatch = (after: number, lastEventId: number, highest: number | null): string =>
  `Tenant Manager poll after ${after}: malformed response: lastEventId ${lastEventId} ${
    highest === null ? `on an empty page (must be ${after})` : `but the highest event id on the page is ${highest}`
  }`;

export const contradictoryPageSkipped = (after: number, strikes: number, cursor: number, skipped: number): string =>
  `Tenant Manager poll after ${after} stayed self-contradictory for ${strikes} fetches: ${
    cursor === after ? `keeping the cursor at ${after} (no event after it on the page)` : `moving the cursor to ${cursor} (the highest event id taken from the page)`
  }, ${skipped} contradicting event(s) skipped`;

export const keyHeldBack = (key: string, dropped: number): string =>
  `org ${key} is stuck retrying and its backlog filled the queue: ${dropped} waiting event(s) dropped from the queue, to be recovered from a snapshot once it unblocks`;

export const keysRecovered = (keys: number, queued: number): string =>
  `recovered ${keys} held-back org(s) from a snapshot: ${queued} event(s) queued`;

export const decoratedStaticMethod = (method: string): string =>
  `@OnTenancyEvent() cannot decorate static method ${method}: handlers are called on a provider's instance; make it an instance method`;

export const handlersWithoutSingleton = (handlers: readonly string[], factories: readonly string[]): string =>
  `@OnTenancyEvent handler(s) ${handlers.join(', ')} have no singleton instance in this app, and request-scoped factory provider(s) ${factories.join(', ')} may be building them: tenancy handlers must live on singleton providers, because events arrive outside any request (if the class is simply not provided here, ignore this)`;
