import { describe, expect, it } from 'vitest';
import { closestName, editDistance } from '../../../src/common/closest-name.js';

describe('editDistance', () => {
  it.each([
    ['', '', 0],
    ['abc', '', 3],
    ['', 'abc', 3],
    ['pollInterval', 'pollInterval', 0],
    ['pollIntervall', 'pollInterval', 1],
    ['maxAtempts', 'maxAttempts', 1],
    ['internalTokne', 'internalToken', 2],
    ['MaxAttempts', 'maxAttempts', 0],
    ['kitten', 'sitting', 3],
  ])('%j → %j is %i', (a, b, distance) => {
    expect(editDistance(a, b)).toBe(distance);
    expect(editDistance(b, a)).toBe(distance);
  });
});

describe('closestName', () => {
  const names = ['pollInterval', 'pollLimit', 'maxAttempts', 'maxBackoff'];

  it('returns the nearest candidate within two edits', () => {
    expect(closestName('pollLimt', names)).toBe('pollLimit');
    expect(closestName('maxAtempts', names)).toBe('maxAttempts');
  });

  it('returns undefined when nothing is within the distance', () => {
    expect(closestName('timeout', names)).toBeUndefined();
    expect(closestName('pollIntvl', names)).toBeUndefined();
    expect(closestName('pollIntvl', names, 3)).toBe('pollInterval');
  });

  it('prefers the nearer candidate, and the first on a tie', () => {
    expect(closestName('ab', ['xx', 'ax', 'ab'])).toBe('ab');
    expect(closestName('ab', ['xb', 'ax'])).toBe('xb');
  });
});
