import { types } from 'node:util';
import { describeThrown, isErrorLike } from './tenancy.messages.js';

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

/**
 * Turns anything thrown into an Error that is safe to read again and again: an
 * Error whose `message` (and `stack`) are plain strings is returned as it is;
 * anything else (non-Errors, proxies, Errors with getters that throw or change)
 * is wrapped in a {@link TenancyError} with a description, the original as `cause`.
 */
export function toError(thrown: unknown): Error {
  if (isReadableError(thrown)) return thrown;
  const description = describeThrown(thrown);
  return new TenancyError(isErrorLike(thrown) ? description : `non-Error thrown: ${description}`, { cause: thrown });
}

function isReadableError(value: unknown): value is Error {
  try {
    if (!(value instanceof Error) || types.isProxy(value)) return false;
    return dataType(value, 'message') === 'string' && ['string', 'absent'].includes(dataType(value, 'stack'));
  } catch {
    return false;
  }
}

/** The type of a property found as a data property on the prototype chain; 'accessor' for a getter. */
function dataType(object: object, key: string): string {
  for (let current: object | null = object; current !== null; current = Object.getPrototypeOf(current) as object | null) {
    const descriptor = Object.getOwnPropertyDescriptor(current, key);
    if (descriptor) return 'value' in descriptor ? typeof descriptor.value : 'accessor';
  }
  return 'absent';
}
