import { afterEach, describe, expect, it, vi } from 'vitest';
import { equalJitterBackoff, fullJitterBackoff } from '../../../src/common/backoff.js';

const settings = { initialBackoff: 100, maxBackoff: 1_000 };
const fixed = (value: number) => () => value;

afterEach(() => {
  vi.restoreAllMocks();
});

describe('fullJitterBackoff', () => {
  it('returns 0 when random() is 0, at every attempt', () => {
    for (const attempt of [1, 2, 5, 50]) {
      expect(fullJitterBackoff(attempt, settings, fixed(0))).toBe(0);
    }
  });

  it('doubles the ceiling per attempt until the cap (random 0.5 gives half of it)', () => {
    const waits = [1, 2, 3, 4, 5, 6].map((attempt) => fullJitterBackoff(attempt, settings, fixed(0.5)));
    // Ceilings 100, 200, 400, 800, then capped at 1000.
    expect(waits).toEqual([50, 100, 200, 400, 500, 500]);
  });

  it('stays strictly below the ceiling with random 0.999', () => {
    const waits = [1, 2, 3, 4, 5, 10].map((attempt) => fullJitterBackoff(attempt, settings, fixed(0.999)));
    expect(waits).toEqual([99, 199, 399, 799, 999, 999]);
  });

  it('keeps jitter at the cap: the whole range [0, max) is used', () => {
    const attempt = 40;
    expect(fullJitterBackoff(attempt, settings, fixed(0))).toBe(0);
    expect(fullJitterBackoff(attempt, settings, fixed(0.25))).toBe(250);
    expect(fullJitterBackoff(attempt, settings, fixed(0.5))).toBe(500);
    expect(fullJitterBackoff(attempt, settings, fixed(0.999))).toBe(999);
  });

  it('treats attempt 1, 0 and negative attempts alike: the initial ceiling', () => {
    for (const attempt of [1, 0, -1, -100]) {
      expect(fullJitterBackoff(attempt, settings, fixed(0.5))).toBe(50);
      expect(fullJitterBackoff(attempt, settings, fixed(0.999))).toBe(99);
    }
  });

  it('does not overflow for huge attempts (exponent is bounded)', () => {
    const wide = { initialBackoff: 1, maxBackoff: 2_147_483_647 };
    expect(fullJitterBackoff(1_000_000, wide, fixed(0.5))).toBe(1_073_741_823);
    expect(Number.isFinite(fullJitterBackoff(Number.MAX_SAFE_INTEGER, settings, fixed(0.5)))).toBe(true);
    expect(fullJitterBackoff(Number.MAX_SAFE_INTEGER, settings, fixed(0.5))).toBe(500);
  });

  it('never exceeds the cap even when initialBackoff equals it', () => {
    const flat = { initialBackoff: 1_000, maxBackoff: 1_000 };
    expect([1, 2, 3].map((a) => fullJitterBackoff(a, flat, fixed(0.999)))).toEqual([999, 999, 999]);
  });

  it('returns integers within [0, ceiling) for many random values', () => {
    for (let i = 0; i < 200; i += 1) {
      const r = i / 200;
      const wait = fullJitterBackoff(3, settings, fixed(r));
      expect(Number.isInteger(wait)).toBe(true);
      expect(wait).toBeGreaterThanOrEqual(0);
      expect(wait).toBeLessThan(400);
      expect(wait).toBe(Math.floor(r * 400));
    }
  });

  it('uses Math.random by default', () => {
    const random = vi.spyOn(Math, 'random').mockReturnValue(0.5);
    expect(fullJitterBackoff(2, settings)).toBe(100);
    expect(random).toHaveBeenCalledTimes(1);
  });
});

describe('equalJitterBackoff', () => {
  it('waits exactly half the ceiling when random() is 0', () => {
    const waits = [1, 2, 3, 4, 5, 6].map((attempt) => equalJitterBackoff(attempt, settings, fixed(0)));
    expect(waits).toEqual([50, 100, 200, 400, 500, 500]);
  });

  it('doubles per attempt until the cap (random 0.5 gives three quarters)', () => {
    const waits = [1, 2, 3, 4, 5, 6].map((attempt) => equalJitterBackoff(attempt, settings, fixed(0.5)));
    expect(waits).toEqual([75, 150, 300, 600, 750, 750]);
  });

  it('stays strictly below the ceiling with random 0.999', () => {
    const waits = [1, 2, 3, 4, 5, 10].map((attempt) => equalJitterBackoff(attempt, settings, fixed(0.999)));
    expect(waits).toEqual([99, 199, 399, 799, 999, 999]);
  });

  it('keeps jitter at the cap: [max/2, max)', () => {
    const attempt = 60;
    expect(equalJitterBackoff(attempt, settings, fixed(0))).toBe(500);
    expect(equalJitterBackoff(attempt, settings, fixed(0.5))).toBe(750);
    expect(equalJitterBackoff(attempt, settings, fixed(0.999))).toBe(999);
  });

  it('treats attempt 1, 0 and negative attempts alike: the initial ceiling', () => {
    for (const attempt of [1, 0, -1, -100]) {
      expect(equalJitterBackoff(attempt, settings, fixed(0))).toBe(50);
      expect(equalJitterBackoff(attempt, settings, fixed(0.5))).toBe(75);
    }
  });

  it('floors odd ceilings to integers', () => {
    const odd = { initialBackoff: 3, maxBackoff: 1_000 };
    expect(equalJitterBackoff(1, odd, fixed(0))).toBe(1);
    expect(equalJitterBackoff(1, odd, fixed(0.999))).toBe(2);
  });

  it('returns integers within [ceiling/2, ceiling) for many random values', () => {
    for (let i = 0; i < 200; i += 1) {
      const r = i / 200;
      const wait = equalJitterBackoff(4, settings, fixed(r));
      expect(Number.isInteger(wait)).toBe(true);
      expect(wait).toBeGreaterThanOrEqual(400);
      expect(wait).toBeLessThan(800);
    }
  });

  it('uses Math.random by default', () => {
    const random = vi.spyOn(Math, 'random').mockReturnValue(0);
    expect(equalJitterBackoff(3, settings)).toBe(200);
    expect(random).toHaveBeenCalledTimes(1);
  });
});
