import type { TenancyLogger } from '../telemetry/tenancy-logger.js';

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
    private readonly logger: TenancyLogger,
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
      this.logger.failure(error, message, 'warn', { what: this.what });
      return;
    }
    const summarise = now - this.lastSummaryAt >= SUMMARY_EVERY_MS;
    if (summarise) this.lastSummaryAt = now;
    const line = summarise
      ? `${this.what} failing for ${Math.round((now - this.streakStarted) / 1000)} s (${this.streak} attempts); last error: ${message}`
      : message;
    this.logger.failure(error, line, summarise ? 'warn' : 'debug', { what: this.what, failures: this.streak });
  }

  succeeded(): void {
    if (this.streak > 0) {
      this.logger.log(
        `${this.what} recovered after ${this.streak} failure(s) over ${Math.round((Date.now() - this.streakStarted) / 1000)} s`,
        { what: this.what, failures: this.streak },
      );
    }
    this.streak = 0;
  }
}
