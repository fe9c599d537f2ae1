/** Why a request was cancelled. */
export type CancelReason = 'timeout' | 'aborted';

/**
 * One request's cancel handle, issued by {@link RequestDeadlines}: cancelled when
 * `httpTimeout` passes (connect, headers and body alike) or the caller's signal
 * aborts (its deadlines listen to that signal, once for all its calls). A transport
 * says how to stop its request with {@link onCancel} and then rejects. Cheaper than
 * an AbortController, a timer and a listener per request; transports that need an
 * `AbortSignal` (axios) get one from {@link signal}.
 */
export class TransportCall {
  cancelled: CancelReason | undefined;
  private stop?: (reason: Error) => void;
  private controller?: AbortController;

  constructor(
    /** `performance.now()` time after which the request has timed out. */
    readonly expiresAt = Number.POSITIVE_INFINITY,
    /** The caller's signal, if any. */
    readonly caller?: AbortSignal,
  ) {
    if (caller?.aborted) this.cancelled = 'aborted';
  }

  /** Registers how to stop the request; runs at once when already cancelled. */
  onCancel(stop: (reason: Error) => void): void {
    if (this.cancelled) stop(cancelError(this.cancelled));
    else this.stop = stop;
  }

  /** An abort signal following this call, made on first use only. */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.cancelled) this.controller.abort(cancelError(this.cancelled));
    }
    return this.controller.signal;
  }

  cancel(reason: CancelReason): void {
    if (this.cancelled) return;
    this.cancelled = reason;
    const error = cancelError(reason);
    const stop = this.stop;
    this.stop = undefined;
    stop?.(error);
    this.controller?.abort(error);
  }

  /** The request is over: its stop callback is not needed any more. */
  release(): void {
    this.stop = undefined;
  }
}

function cancelError(reason: CancelReason): Error {
  return new Error(reason === 'timeout' ? 'request deadline passed' : 'request aborted');
}

/**
 * The deadlines of one client's requests, kept with one timer: every request gets
 * the same timeout, so requests expire in the order they started, and the timer
 * only ever waits for the oldest one.
 */
export class RequestDeadlines {
  // Insertion order is expiry order.
  private readonly live = new Set<TransportCall>();
  private timer?: NodeJS.Timeout;
  // One abort listener per caller signal while calls of it are live (the status writer
  // passes one signal to every write): not an add and a remove per request.
  private readonly watched = new Map<AbortSignal, WatchedSignal>();

  constructor(private readonly timeoutMs: number) {}

  start(caller?: AbortSignal): TransportCall {
    const call = new TransportCall(performance.now() + this.timeoutMs, caller);
    this.live.add(call);
    if (caller !== undefined && !call.cancelled) this.watch(caller);
    if (this.timer === undefined) this.arm(call.expiresAt);
    return call;
  }

  finish(call: TransportCall): void {
    call.release();
    if (!this.live.delete(call)) return;
    if (call.caller !== undefined) this.unwatch(call.caller);
    if (this.live.size === 0 && this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  private watch(signal: AbortSignal): void {
    let watched = this.watched.get(signal);
    if (watched === undefined) {
      watched = new WatchedSignal(this, signal);
      this.watched.set(signal, watched);
      signal.addEventListener('abort', watched, { once: true });
    }
    watched.calls += 1;
  }

  private unwatch(signal: AbortSignal): void {
    const watched = this.watched.get(signal);
    if (watched === undefined) return;
    watched.calls -= 1;
    if (watched.calls > 0) return;
    this.watched.delete(signal);
    signal.removeEventListener('abort', watched);
  }

  /** `signal` aborted: cancels every live call it was passed to. */
  aborted(signal: AbortSignal): void {
    this.watched.delete(signal);
    for (const call of this.live) if (call.caller === signal) call.cancel('aborted');
  }

  private arm(at: number): void {
    // A cancel callback that starts a request re-arms during a sweep: one timer only.
    clearTimeout(this.timer);
    // +1: timers may fire a fraction of a millisecond early.
    this.timer = setTimeout(this.sweep, Math.max(0, at - performance.now()) + 1);
  }

  private readonly sweep = (): void => {
    this.timer = undefined;
    const now = performance.now();
    for (const call of this.live) {
      if (call.expiresAt > now) return this.arm(call.expiresAt);
      this.live.delete(call);
      // Out of `live` now, so its finish() will not do this.
      if (call.caller !== undefined) this.unwatch(call.caller);
      call.cancel('timeout');
    }
  };
}

/** A caller signal the deadlines listen to, and how many live calls it was passed to. */
class WatchedSignal {
  calls = 0;

  constructor(
    private readonly deadlines: RequestDeadlines,
    private readonly signal: AbortSignal,
  ) {}

  /** EventListener object: the abort reaches the deadlines without a closure. */
  handleEvent(): void {
    this.deadlines.aborted(this.signal);
  }
}
