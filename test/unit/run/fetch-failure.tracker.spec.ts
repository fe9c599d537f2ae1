import { describe, expect, it } from 'vitest';
import { FetchFailureTracker } from '../../../src/run/fetch-failure.tracker.js';
import type { FailureLevel, LogFields, TenancyLogger } from '../../../src/telemetry/tenancy-logger.js';

/** Records what the tracker asks the logger for, with a clock the test moves. */
function recording() {
  const lines: Array<{ level: FailureLevel | 'log'; message: string; fields?: LogFields }> = [];
  const logger = {
    failure: (_error: Error, message: string, level: FailureLevel = 'error', fields?: LogFields) =>
      lines.push({ level, message, fields }),
    log: (message: string, fields?: LogFields) => lines.push({ level: 'log', message, fields }),
  } as unknown as TenancyLogger;
  let now = 1_000_000;
  const tracker = new FetchFailureTracker('poll', logger, () => now, 60_000);
  return { lines, tracker, advance: (ms: number) => (now += ms) };
}

describe('FetchFailureTracker: log levels of a failure streak', () => {
  it('a blip is one warning (no stack), repeats are debug, and recovery is one line', () => {
    const { lines, tracker, advance } = recording();
    tracker.failed(new Error('ECONNRESET'), 'poll failed: ECONNRESET');
    advance(5_000);
    tracker.failed(new Error('ECONNRESET'), 'poll failed: ECONNRESET');
    tracker.succeeded();
    expect(lines.map((l) => l.level)).toEqual(['warn', 'debug', 'log']);
    expect(lines[2].message).toBe('poll recovered after 2 failure(s) over 5 s');
  });

  it('a streak that persists is an error once (with the cause), then a warning summary per period', () => {
    const { lines, tracker, advance } = recording();
    tracker.failed(new Error('down'), 'poll failed: down');
    for (let i = 0; i < 30; i += 1) {
      advance(5_000);
      tracker.failed(new Error('down'), 'poll failed: down');
    }
    const loud = lines.filter((l) => l.level !== 'debug');
    expect(loud.map((l) => l.level)).toEqual(['warn', 'error', 'warn']);
    expect(loud[1].message).toBe('poll failing for 60 s (13 attempts); last error: poll failed: down');
    expect(loud[2].fields).toMatchObject({ what: 'poll', failures: 25 });
  });

  it('a new streak after a recovery starts quiet again', () => {
    const { lines, tracker, advance } = recording();
    tracker.failed(new Error('down'), 'a');
    advance(61_000);
    tracker.failed(new Error('down'), 'b');
    tracker.succeeded();
    tracker.failed(new Error('down'), 'c');
    advance(61_000);
    tracker.failed(new Error('down'), 'd');
    expect(lines.map((l) => l.level)).toEqual(['warn', 'error', 'log', 'warn', 'error']);
  });
});
