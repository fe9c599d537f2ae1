import { FakeMessages } from './fake-tenant-manager.messages.js';
import { errorReply, type HttpReply } from './http-io.js';

/** What a {@link RequestMatcher} function is shown of a request. */
export interface MatchableRequest {
  /** Upper-case, e.g. `PUT`. */
  readonly method: string;
  /** Pathname without the query, e.g. `/v1/status`. */
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  /** Parsed JSON body, raw text when not JSON, `undefined` when empty. */
  readonly body: unknown;
}

/**
 * Which requests a fault or delay applies to: method and/or exact pathname (an
 * omitted field matches anything), or a predicate.
 */
export type RequestMatcher =
  | { readonly method?: string; readonly path?: string }
  | ((req: MatchableRequest) => boolean);

/** The response to inject instead of handling the request. */
export interface InjectedFault {
  /** Response status; default 500. */
  readonly status?: number;
  /**
   * Raw response body, sent as-is with `content-type: application/json`; default
   * `{"error":"injected fault"}`. With `status: 200` this injects a malformed body.
   */
  readonly body?: string;
  /** Destroy the connection without answering (a transport error for the client). */
  readonly destroy?: boolean;
  /** Only requests matching this; default: every request. */
  readonly match?: RequestMatcher;
}

/** What to do with a request instead of handling it. */
export type FaultAction = { readonly destroy: true } | { readonly destroy: false; readonly reply: HttpReply };

interface CountedRule<T> {
  readonly value: T;
  readonly match: RequestMatcher | undefined;
  remaining: number;
}

/**
 * Scripted failures for resilience tests: the next N matching requests fail,
 * a random share fails (chaos), or matching responses are delayed. Rules are
 * consumed in the order they were added.
 */
export class FaultInjector {
  private faults: CountedRule<InjectedFault>[] = [];
  private delays: CountedRule<number>[] = [];
  private chaos: { rate: number; fault: InjectedFault; random: () => number } | undefined;

  /** The next `count` matching requests get `fault` instead of being handled. */
  failNext(count: number, fault: InjectedFault = {}): void {
    assertCount(count);
    if (count > 0) this.faults.push({ value: fault, match: fault.match, remaining: count });
  }

  /** Each matching request fails with probability `rate` (0..1); `0` turns chaos off. */
  failRandomly(rate: number, fault: InjectedFault = {}, random: () => number = Math.random): void {
    if (!(rate >= 0 && rate <= 1)) throw new RangeError(`rate must be between 0 and 1, got ${rate}`);
    this.chaos = rate === 0 ? undefined : { rate, fault, random };
  }

  /** Delays the next `count` matching responses by `ms`. */
  delay(ms: number, match?: RequestMatcher, count = Infinity): void {
    if (!(ms >= 0 && Number.isFinite(ms))) throw new RangeError(`delay must be a finite number >= 0, got ${ms}`);
    assertCount(count);
    if (count > 0 && ms > 0) this.delays.push({ value: ms, match, remaining: count });
  }

  /** Forgets every pending fault, chaos setting and delay. */
  clear(): void {
    this.faults = [];
    this.delays = [];
    this.chaos = undefined;
  }

  /** The delay for this request (0 for none), consuming one use of the rule. */
  takeDelay(req: MatchableRequest): number {
    const rule = take(this.delays, req);
    if (rule === undefined) return 0;
    if (rule.remaining === 0) this.delays = this.delays.filter((other) => other !== rule);
    return rule.value;
  }

  /** The fault for this request, if any, consuming one use of a `failNext` rule. */
  takeFault(req: MatchableRequest): FaultAction | undefined {
    const rule = take(this.faults, req);
    if (rule !== undefined) {
      if (rule.remaining === 0) this.faults = this.faults.filter((other) => other !== rule);
      return toAction(rule.value);
    }
    const { chaos } = this;
    if (chaos !== undefined && matches(chaos.fault.match, req) && chaos.random() < chaos.rate) {
      return toAction(chaos.fault);
    }
    return undefined;
  }
}

function take<T>(rules: CountedRule<T>[], req: MatchableRequest): CountedRule<T> | undefined {
  const rule = rules.find((candidate) => candidate.remaining > 0 && matches(candidate.match, req));
  if (rule !== undefined) rule.remaining--;
  return rule;
}

function matches(match: RequestMatcher | undefined, req: MatchableRequest): boolean {
  if (match === undefined) return true;
  if (typeof match === 'function') return match(req);
  if (match.method !== undefined && match.method.toUpperCase() !== req.method) return false;
  return match.path === undefined || match.path === req.path;
}

function toAction(fault: InjectedFault): FaultAction {
  if (fault.destroy === true) return { destroy: true };
  const status = fault.status ?? 500;
  const reply = fault.body === undefined ? errorReply(status, FakeMessages.injectedFault()) : { status, body: fault.body };
  return { destroy: false, reply };
}

function assertCount(count: number): void {
  if (!(count === Infinity || (Number.isInteger(count) && count >= 0))) {
    throw new RangeError(`count must be a non-negative integer or Infinity, got ${count}`);
  }
}
