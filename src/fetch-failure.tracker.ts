import type { Logger } from '@nestjs/common';
import { reportFailure } from './failure.reporter.js';
import type { ResolvedTenancyOptions } from './tenancy-options.js';

const SUMMARY_EVERY_MS = 60_000;

/**
 * Logs a fetch loop's failures without flooding: the first failure of a streak at
 * error level, then a warning summary at most once a minute, and one line when it
 * recovers. `onError` still hears every failure.
 */
export class FetchFailureTracker {
  private streak = 0;
  private streakStarted = 0;
  private lastSummaryAt = 0;

  constructor(
    private readonly what: string,
    private readonly logger: Logger,
    private readonly options: Pick<ResolvedTenancyOptions, 'controllerName' | 'onError'>,
  ) {}

  /** Consecutive failures so far (0 after a success). */
  get failures(): number {
    return this.streak;
  }

  failed(error: Error, message: string): void {
    const now = Date.now();
    this.streak += 1;
    if (this.streak === 1) {
      this.streakStarted = now;
      this.lastSummaryAt = now;
      reportFailure(this.logger, this.options, error, message, 'error', { what: this.what });
      return;
    }
    const summarise = now - this.lastSummaryAt >= SUMMARY_EVERY_MS;
    if (summarise) this.lastSummaryAt = now;
    const line = summarise
      ? `${this.what} failing for ${Math.round((now - this.streakStarted) / 1000)} s (${this.streak} attempts); last error: ${message}`
      : message;
    reportFailure(this.logger, this.options, error, line, summarise ? 'warn' : 'debug', { what: this.what, failures: this.streak });
  }

  succeeded(): void {
    if (this.streak > 0) {
      this.logger.log(
        `[${this.options.controllerName}] ${this.what} recovered after ${this.streak} failure(s) over ${Math.round((Date.now() - this.streakStarted) / 1000)} s`,
        { controller: this.options.controllerName, what: this.what, failures: this.streak },
      );
    }
    this.streak = 0;
  }
}
