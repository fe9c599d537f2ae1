import { Inject, Injectable, Logger } from '@nestjs/common';
import { LOG_CONTEXT, TENANCY_RESOLVED_OPTIONS } from '../tenancy.constants.js';
import { describeThrown, onErrorThrew } from '../tenancy.messages.js';
import type { ResolvedTenancyOptions } from '../tenancy-options.js';

/** Structured fields of a log line; rendered as trailing `key=value` text. */
export type LogFields = Readonly<Record<string, unknown>>;

/** How loud a failure is: a person should act on `error`, glance at `warn`. */
export type FailureLevel = 'error' | 'warn' | 'debug' | 'verbose';

/**
 * The one logging path of the module: every line carries the controller name
 * (added here, once) and its fields as one trailing `key=value` text, so Nest's
 * ConsoleLogger prints one line per call, and a JSON logger gets one message.
 * `failure()` also hands the error to the user's `onError`, which can never throw
 * into the caller.
 */
@Injectable()
export class TenancyLogger {
  private readonly nest = new Logger(LOG_CONTEXT);
  private readonly prefix: string;
  private readonly onError: ResolvedTenancyOptions['onError'];

  constructor(@Inject(TENANCY_RESOLVED_OPTIONS) options: Pick<ResolvedTenancyOptions, 'controllerName' | 'onError'>) {
    this.prefix = `[${options.controllerName}] `;
    this.onError = options.onError;
  }

  /** Whether lines of this level are printed: lets a hot path skip building them. */
  enabled(level: 'debug' | 'verbose'): boolean {
    return Logger.isLevelEnabled(level);
  }

  log(message: string, fields?: LogFields): void {
    this.nest.log(this.line(message, fields));
  }

  warn(message: string, fields?: LogFields): void {
    this.nest.warn(this.line(message, fields));
  }

  /** With `cause`, its stack is printed below the line (reserve for what a person must act on). */
  error(message: string, fields?: LogFields, cause?: Error): void {
    const stack = cause?.stack;
    if (stack) this.nest.error(this.line(message, fields), stack);
    else this.nest.error(this.line(message, fields));
  }

  /** Fields may be a function, built only when the level is on (per-event lines). */
  debug(message: string, fields?: LogFields | (() => LogFields)): void {
    if (!Logger.isLevelEnabled('debug')) return;
    this.nest.debug(this.line(message, typeof fields === 'function' ? fields() : fields));
  }

  verbose(message: string, fields?: LogFields | (() => LogFields)): void {
    if (!Logger.isLevelEnabled('verbose')) return;
    this.nest.verbose(this.line(message, typeof fields === 'function' ? fields() : fields));
  }

  /**
   * Logs a failure at `level` and hands it to `onError`. A throwing (or rejecting)
   * `onError` is logged, never propagated: it must not stop the poller.
   */
  failure(error: Error, message: string, level: FailureLevel = 'error', fields?: LogFields): void {
    if (level === 'error') this.error(message, fields, error);
    else if (level === 'warn') this.warn(message, fields);
    else if (level === 'debug') this.debug(message, fields);
    else this.verbose(message, fields);
    if (!this.onError) return;
    try {
      const returned: unknown = this.onError(error, message);
      // An async callback that rejects must not become an unhandled rejection.
      if (returned && typeof (returned as PromiseLike<unknown>).then === 'function') {
        (returned as Promise<unknown>).then(undefined, (rejected: unknown) => this.error(onErrorThrew(describeThrown(rejected))));
      }
    } catch (thrown) {
      this.error(onErrorThrew(describeThrown(thrown)));
    }
  }

  private line(message: string, fields?: LogFields): string {
    const text = fields ? formatFields(fields) : '';
    return text ? `${this.prefix}${message} | ${text}` : `${this.prefix}${message}`;
  }
}

/** `key=value` pairs; strings that need it are JSON-quoted, undefined values left out. */
export function formatFields(fields: LogFields): string {
  // Built in one string, no array of parts: a verbose line is written per event.
  let text = '';
  for (const key of Object.keys(fields)) {
    const value = fields[key];
    if (value === undefined) continue;
    text += text === '' ? `${key}=${formatValue(value)}` : ` ${key}=${formatValue(value)}`;
  }
  return text;
}

function formatValue(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  if (typeof value === 'string') return /^[\w.:/@,+-]+$/.test(value) ? value : JSON.stringify(value);
  if (value instanceof Date) return value.toISOString();
  return describeThrown(value);
}
