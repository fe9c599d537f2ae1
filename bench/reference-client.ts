import { Agent, request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * The baseline: the reference Go client's algorithm (PROTOCOL.md, "What the
 * reference Go client does with it"), ported line for line so the benchmark
 * compares algorithms, not languages or HTTP stacks:
 *
 * 1. Replay: fetch the snapshot, retrying transport errors / non-200 / undecodable
 *    bodies with backoff (initial, doubling, capped). Process every replayed event;
 *    if any failed, fetch and process the whole replay again after the backoff.
 * 2. Poll: on a ticker every `pollInterval`, fetch `after=<cursor>&limit=<pollLimit>`;
 *    process in order, stop at the first failure keeping the cursor at the last
 *    success; a full page does not trigger an early fetch (wait for the next tick).
 * 3. Per event, sequentially: PUT in_progress → handler → PUT completed (created) /
 *    DELETE (deleted) on success, PUT error with the message on failure. A failed
 *    status call is reported and never fails the event.
 *
 * HTTP is node:http with the same keep-alive agent settings as the library
 * (`keepAlive: true`, `maxSockets: concurrency + 2`); every body is read to the end
 * so sockets are reused. Nothing in here is slowed down on purpose.
 */

/** An event as the baseline decodes it (Go: a struct with the wire fields). */
export interface ReferenceEvent {
  readonly id: number;
  readonly eventType: string;
  readonly resourceType: string;
  readonly resourceId: string;
  readonly resourceName: string;
  readonly orgId: string | null;
  readonly orgName: string | null;
  readonly folderId: string | null;
  readonly createdAt: string;
}

export interface ReferenceClientOptions {
  readonly url: string;
  readonly controllerName: string;
  readonly handler: (event: ReferenceEvent) => Promise<void>;
  readonly pollInterval?: number;
  readonly pollLimit?: number;
  readonly initialBackoff?: number;
  readonly maxBackoff?: number;
  readonly httpTimeout?: number;
  readonly internalToken?: string;
  /** Same as the library's agent: `maxSockets: concurrency + 2`. */
  readonly maxSockets?: number;
  readonly onError?: (error: Error, message: string) => void;
  /** Benchmark hooks (no behaviour): after each event's last status call, after the replay. */
  readonly onEventDone?: (event: ReferenceEvent, ok: boolean) => void;
  readonly onSnapshot?: () => void;
  readonly onReplayDone?: () => void;
}

interface EventsPage {
  readonly events: ReferenceEvent[];
  readonly lastEventId: number;
}

/** The reference client's behaviour, for comparison only: not part of the library. */
export class ReferenceClient {
  private readonly agent: Agent;
  private readonly base: URL;
  private readonly pollInterval: number;
  private readonly pollLimit: number;
  private readonly initialBackoff: number;
  private readonly maxBackoff: number;
  private readonly httpTimeout: number;
  private cursor = 0;

  constructor(private readonly options: ReferenceClientOptions) {
    if (!options.url) throw new Error('reference client: url is required');
    if (!options.controllerName) throw new Error('reference client: controllerName is required');
    if (typeof options.handler !== 'function') throw new Error('reference client: handler is required');
    this.pollInterval = positive('pollInterval', options.pollInterval ?? 5_000);
    this.pollLimit = positive('pollLimit', options.pollLimit ?? 100);
    this.initialBackoff = positive('initialBackoff', options.initialBackoff ?? 1_000);
    this.maxBackoff = positive('maxBackoff', options.maxBackoff ?? 30_000);
    this.httpTimeout = positive('httpTimeout', options.httpTimeout ?? 30_000);
    this.base = new URL(options.url);
    this.agent = new Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 10 });
  }

  /** Cursor: the last event-log id processed successfully. */
  get lastEventId(): number {
    return this.cursor;
  }

  /** Replays, then polls until the signal aborts. */
  async run(signal: AbortSignal): Promise<void> {
    if (!(await this.replay(signal))) return;
    this.options.onReplayDone?.();
    await this.pollLoop(signal);
  }

  /** Closes idle keep-alive sockets. */
  close(): void {
    this.agent.destroy();
  }

  private async replay(signal: AbortSignal): Promise<boolean> {
    let backoff = this.initialBackoff;
    while (!signal.aborted) {
      let page: EventsPage;
      try {
        page = await this.fetchEvents(`controller=${encodeURIComponent(this.options.controllerName)}&replay=true`);
      } catch (error) {
        this.report(toError(error), `replay failed: ${toError(error).message}; retrying in ${backoff} ms`);
        if (!(await pause(backoff, signal))) return false;
        backoff = Math.min(backoff * 2, this.maxBackoff);
        continue;
      }
      this.options.onSnapshot?.();
      let failed = 0;
      for (const event of page.events) {
        if (signal.aborted) return false;
        if (!(await this.processEvent(event))) failed += 1;
      }
      if (failed === 0) {
        this.cursor = page.lastEventId;
        return true;
      }
      // The reference client's weakness: one bad resource re-runs the whole replay.
      this.report(new Error(`${failed} replayed event(s) failed`), `replay: ${failed} event(s) failed; replaying again in ${backoff} ms`);
      if (!(await pause(backoff, signal))) return false;
      backoff = Math.min(backoff * 2, this.maxBackoff);
    }
    return false;
  }

  /**
   * Go's time.Ticker: ticks on a fixed grid; one missed tick is buffered (so a poll
   * that overran starts the next one at once), further missed ticks are dropped.
   */
  private async pollLoop(signal: AbortSignal): Promise<void> {
    const origin = performance.now();
    const interval = this.pollInterval;
    // Index of the last tick consumed; ticks are at origin + k × interval.
    let tick = 0;
    for (;;) {
      const now = performance.now();
      const due = origin + (tick + 1) * interval;
      if (due > now) {
        if (!(await pause(due - now, signal))) return;
        tick += 1;
      } else {
        tick = Math.floor((now - origin) / interval); // the buffered tick; older ones were dropped
      }
      if (signal.aborted) return;
      await this.poll(signal);
    }
  }

  private async poll(signal: AbortSignal): Promise<void> {
    const after = this.cursor;
    let page: EventsPage;
    try {
      page = await this.fetchEvents(
        `controller=${encodeURIComponent(this.options.controllerName)}&after=${after}&limit=${this.pollLimit}`,
      );
    } catch (error) {
      this.report(toError(error), `poll after ${after} failed: ${toError(error).message}`);
      return;
    }
    for (const event of page.events) {
      if (signal.aborted) return;
      // Stop at the first failure; the cursor stays, so it is retried next tick and
      // everything behind it waits (head-of-line blocking).
      if (!(await this.processEvent(event))) return;
      this.cursor = event.id;
    }
    this.cursor = Math.max(this.cursor, page.lastEventId);
  }

  private async processEvent(event: ReferenceEvent): Promise<boolean> {
    if (event.resourceType !== 'org' && event.resourceType !== 'project') {
      this.options.onEventDone?.(event, true);
      return true; // unknown kinds (e.g. future folders) are skipped, not fatal
    }
    await this.status('PUT', { resourceType: event.resourceType, resourceId: event.resourceId, status: 'in_progress', message: '' });
    let failure: Error | undefined;
    try {
      await this.options.handler(event);
    } catch (error) {
      failure = toError(error);
    }
    if (failure) {
      this.report(failure, `event ${event.id} ${event.resourceType} ${event.eventType} ${event.resourceId}: ${failure.message}`);
      await this.status('PUT', {
        resourceType: event.resourceType,
        resourceId: event.resourceId,
        status: 'error',
        message: failure.message,
      });
    } else if (event.eventType === 'deleted') {
      await this.status('DELETE', { resourceType: event.resourceType, resourceId: event.resourceId });
    } else {
      await this.status('PUT', { resourceType: event.resourceType, resourceId: event.resourceId, status: 'completed', message: '' });
    }
    this.options.onEventDone?.(event, failure === undefined);
    return failure === undefined;
  }

  /** A status call whose failure is reported, never thrown (PROTOCOL.md). */
  private async status(method: 'PUT' | 'DELETE', fields: Record<string, string>): Promise<void> {
    try {
      const response = await this.send(method, '/v1/status', JSON.stringify({ controller: this.options.controllerName, ...fields }));
      if (response.status !== 200) throw new Error(`HTTP ${response.status} ${response.body.slice(0, 200)}`);
    } catch (error) {
      this.report(toError(error), `${method} /v1/status ${fields['resourceId']}: ${toError(error).message}`);
    }
  }

  private async fetchEvents(query: string): Promise<EventsPage> {
    const response = await this.send('GET', `/v1/events?${query}`);
    if (response.status !== 200) throw new Error(`HTTP ${response.status} ${response.body.slice(0, 200)}`);
    return decodePage(response.body);
  }

  private send(method: string, path: string, body?: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string | number> = {};
      if (body !== undefined) {
        headers['content-type'] = 'application/json';
        headers['content-length'] = Buffer.byteLength(body);
      }
      if (this.options.internalToken) headers['x-internal-token'] = this.options.internalToken;
      const req = request(
        { host: this.base.hostname, port: this.base.port, path, method, headers, agent: this.agent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.setTimeout(this.httpTimeout, () => req.destroy(new Error(`timeout after ${this.httpTimeout} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  private report(error: Error, message: string): void {
    this.options.onError?.(error, message);
  }
}

/** Go's json.Decoder into the page struct: a type mismatch makes the body undecodable. */
function decodePage(body: string): EventsPage {
  const parsed = JSON.parse(body) as { events?: unknown; lastEventId?: unknown };
  if (parsed === null || typeof parsed !== 'object' || !Array.isArray(parsed.events) || typeof parsed.lastEventId !== 'number') {
    throw new Error('undecodable events page');
  }
  for (const event of parsed.events as Array<Record<string, unknown>>) {
    if (
      event === null ||
      typeof event !== 'object' ||
      typeof event['id'] !== 'number' ||
      typeof event['eventType'] !== 'string' ||
      typeof event['resourceType'] !== 'string' ||
      typeof event['resourceId'] !== 'string'
    ) {
      throw new Error('undecodable event in page');
    }
  }
  return parsed as EventsPage;
}

function positive(name: string, value: number): number {
  if (!(Number.isFinite(value) && value > 0)) throw new Error(`reference client: ${name} must be positive, got ${value}`);
  return value;
}

function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

/** Sleeps; false when the signal aborted first. */
async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}
