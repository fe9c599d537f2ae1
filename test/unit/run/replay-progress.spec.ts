import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ReplayProgress } from '../../../src/run/replay-progress.js';
import type { TenancyLogger } from '../../../src/telemetry/tenancy-logger.js';

/** Collects the lines a progress logs. */
function recordingLogger(): { logger: TenancyLogger; lines: string[] } {
  const lines: string[] = [];
  const logger = { log: (message: string) => lines.push(message) } as unknown as TenancyLogger;
  return { logger, lines };
}

describe('ReplayProgress', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2026-01-01T00:00:00Z'));
  });
  afterEach(() => vi.useRealTimers());

  it('logs no progress for a replay shorter than 5 s, only the final "replay handled" line', () => {
    const { logger, lines } = recordingLogger();
    const progress = new ReplayProgress(100, 'replay', logger, () => {});
    for (let i = 0; i < 100; i += 1) {
      vi.advanceTimersByTime(40); // 4 s in all
      progress.handledOne();
    }
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^replay handled: 100 event\(s\) in 4\.00 s$/);
  });

  it('logs progress with rate and ETA once a replay runs longer than 5 s', () => {
    const { logger, lines } = recordingLogger();
    const progress = new ReplayProgress(100, 'replay', logger, () => {});
    for (let i = 0; i < 100; i += 1) {
      vi.advanceTimersByTime(100); // 10 s in all
      progress.handledOne();
    }
    const progressLines = lines.filter((l) => l.startsWith('replay progress:'));
    expect(progressLines.length).toBeGreaterThanOrEqual(5);
    expect(progressLines[0]).toMatch(/^replay progress: 50\/100 handled \(50%\), 10 events\/s, ETA 5 s$/);
    expect(lines[lines.length - 1]).toBe('replay handled: 100 event(s) in 10.00 s');
  });

  it('is a dead end once its run is over: no line, no completion', () => {
    const { logger, lines } = recordingLogger();
    let live = true;
    const done = vi.fn();
    const progress = new ReplayProgress(2, 'replay', logger, done, () => live);
    progress.handledOne();
    live = false;
    progress.handledOne();
    expect(lines).toEqual([]);
    expect(done).not.toHaveBeenCalled();
    expect(progress.snapshot()).toMatchObject({ handled: 1, finishedAt: null });
  });
});
