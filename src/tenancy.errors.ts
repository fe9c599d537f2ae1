import { describeThrown } from './tenancy.messages.js';

/** Base class of every error this library throws or reports. */
export class TenancyError extends Error {
  override readonly name: string = 'TenancyError';
}

/** Invalid module options, decorator arguments or handler placement. Fails startup. */
export class TenancyConfigurationError extends TenancyError {
  override readonly name = 'TenancyConfigurationError';
}

/**
 * Throw from a handler to say "retrying cannot help": the event is parked at once
 * (its `error` status stays) instead of being retried.
 */
export class TenancyTerminalError extends TenancyError {
  override readonly name = 'TenancyTerminalError';
}

/** A request to the Tenant Manager failed: transport error, non-200 or bad body. */
export class TenantManagerRequestError extends TenancyError {
  override readonly name = 'TenantManagerRequestError';
  constructor(
    message: string,
    /** HTTP status when the server answered, else undefined. */
    readonly status?: number,
    options?: { cause?: unknown; retryAfter?: number },
  ) {
    super(message, options);
    this.retryAfter = options?.retryAfter;
  }

  /**
   * Milliseconds the server asked us to wait (`Retry-After` on 429/503), else
   * undefined. Retry loops wait at least this long, capped by `maxBackoff`.
   */
  readonly retryAfter?: number;
}

/** One or more handlers failed (or timed out) for an event. */
export class TenancyHandlerError extends TenancyError {
  override readonly name = 'TenancyHandlerError';
  constructor(
    message: string,
    /** `Class#method` of every handler that failed. */
    readonly handlers: readonly string[],
    /** True when a failing handler threw {@link TenancyTerminalError}. */
    readonly terminal: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Turns anything thrown into an Error, keeping the original as `cause`. */
export function toError(thrown: unknown): Error {
  try {
    // An Error whose message getter throws is as unusable as a non-Error.
    if (thrown instanceof Error && typeof thrown.message === 'string') return thrown;
  } catch {
    // revoked proxy or throwing getter: described below
  }
  return new TenancyError(`non-Error thrown: ${describeThrown(thrown)}`, { cause: thrown });
}
