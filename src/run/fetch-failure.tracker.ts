import type { TenancyLogger } from '../telemetry/tenancy-logger.js';

const SUMMARY_EVERY_MS = 60_000;

/**
 * Logs a fetch loop's failures without flooding. A network blip is expected and
 * retried: the first failure of a streak is a warning without a stack, repeats are
 * debug. A streak that persists for a summary period is an error once, with the
 * cause's stack (someone should look), then a warning summary once a period, and
 * one line when it recovers. `onError` still hears every failure.
 */
export class FetchFailureTracker {
  private streak = 0;
  private streakStarted = 0;
  private lastSummaryAt = 0;
  private escalated = false;

  constructor(
    private readonly what: string,
    private readonly logger: TenancyLogger,
    private readonly now: () => number = Date.now,
    private readonly summaryEveryMs = SUMMARY_EVERY_MS,
  ) {}

  /** Consecutive failures so far (0 after a success). */
  get failures(): number {
    return this.streak;
  }

  failed(error: Error, message: string): void {
    const now = this.now();
    this.streak += 1;
    if (this.streak === 1) {
      this.streakStarted = now;
      this.lastSummaryAt = now;
      this.escalated = false;
      this.logger.failure(error, message, 'warn', { what: this.what });
      return;
    }
    const summarise = now - this.lastSummaryAt >= this.summaryEveryMs;
    if (!summarise) return this.logger.failure(error, message, 'debug', { what: this.what, failures: this.streak });
    this.lastSummaryAt = now;
    const line = `${this.what} failing for ${Math.round((now - this.streakStarted) / 1000)} s (${this.streak} attempts); last error: ${message}`;
    const level = this.escalated ? 'warn' : 'error';
    this.escalated = true;
    this.logger.failure(error, line, level, { what: this.what, failures: this.streak });
  }

  succeeded(): void {
    if (this.streak > 0) {
      this.logger.log(
        `${this.what} recovered after ${this.streak} failure(s) over ${Math.round((this.now() - this.streakStarted) / 1000)} s`,
        { what: this.what, failures: this.streak },
      );
    }
    this.streak = 0;
  }
}
