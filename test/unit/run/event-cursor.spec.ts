import { describe, expect, it } from 'vitest';
import { EventCursor } from '../../../src/run/event-cursor.js';
import { seededRandom as seeded } from '../../support/seeded-random.js';


function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy;
}

describe('EventCursor', () => {
  it('starts at 0/0', () => {
    const cursor = new EventCursor();
    expect(cursor.fetched).toBe(0);
    expect(cursor.completed).toBe(0);
  });

  it('reads 0 as completed until the replay snapshot is handled', () => {
    const cursor = new EventCursor();
    cursor.reset(50);
    expect(cursor.fetched).toBe(50);
    expect(cursor.completed).toBe(0);
    cursor.fetchedThrough(52, [51, 52]);
    cursor.finished(51);
    cursor.finished(52);
    expect(cursor.completed).toBe(0);
    cursor.replayHandled();
    expect(cursor.completed).toBe(52);
  });

  it('reset() puts both positions at the replay lastEventId', () => {
    const cursor = new EventCursor();
    cursor.reset(1234);
    cursor.replayHandled();
    expect(cursor.fetched).toBe(1234);
    expect(cursor.completed).toBe(1234);
  });

  it('reset() drops outstanding ids and may move both positions back', () => {
    const cursor = new EventCursor();
    cursor.reset(10);
    cursor.replayHandled();
    cursor.fetchedThrough(13, [11, 12, 13]);
    expect(cursor.completed).toBe(10);
    cursor.reset(5);
    cursor.replayHandled();
    expect(cursor.fetched).toBe(5);
    expect(cursor.completed).toBe(5);
    // The ids outstanding before the reset no longer hold the watermark.
    cursor.fetchedThrough(8, []);
    expect(cursor.completed).toBe(8);
    cursor.finished(11);
    expect(cursor.completed).toBe(8);
  });

  it('fetchedThrough() without ids moves both positions', () => {
    const cursor = new EventCursor();
    cursor.reset(10);
    cursor.replayHandled();
    cursor.fetchedThrough(20, []);
    expect(cursor.fetched).toBe(20);
    expect(cursor.completed).toBe(20);
  });

  it('fetchedThrough() with ids moves fetched and holds completed below the first id', () => {
    const cursor = new EventCursor();
    cursor.reset(10);
    cursor.replayHandled();
    cursor.fetchedThrough(15, [11, 12, 15]);
    expect(cursor.fetched).toBe(15);
    expect(cursor.completed).toBe(10);
  });

  it('holds completed at the first outstanding id − 1 across a gap in ids', () => {
    const cursor = new EventCursor();
    cursor.reset(10);
    cursor.replayHandled();
    cursor.fetchedThrough(30, [20, 30]);
    expect(cursor.completed).toBe(19);
    cursor.finished(20);
    expect(cursor.completed).toBe(29);
    cursor.finished(30);
    expect(cursor.completed).toBe(30);
  });

  it('never moves fetched backwards', () => {
    const cursor = new EventCursor();
    cursor.reset(50);
    cursor.replayHandled();
    cursor.fetchedThrough(40, []);
    expect(cursor.fetched).toBe(50);
    expect(cursor.completed).toBe(50);
  });

  it('keeps the watermark at the lowest outstanding − 1 when ids finish out of order', () => {
    const cursor = new EventCursor();
    cursor.reset(0);
    cursor.replayHandled();
    cursor.fetchedThrough(5, [1, 2, 3, 4, 5]);
    const watermarks: number[] = [];
    for (const id of [3, 5, 2, 1, 4]) {
      cursor.finished(id);
      watermarks.push(cursor.completed);
    }
    // after 3: 1 outstanding → 0; after 5: → 0; after 2: → 0; after 1: 4 outstanding → 3; after 4: all done → 5.
    expect(watermarks).toEqual([0, 0, 0, 3, 5]);
    expect(cursor.fetched).toBe(5);
  });

  it('reaches fetched (not the last id) once everything finished', () => {
    const cursor = new EventCursor();
    cursor.reset(0);
    cursor.replayHandled();
    // lastEventId beyond the queued ids: the rest were unknown/invalid and skipped.
    cursor.fetchedThrough(9, [2, 4]);
    cursor.finished(4);
    expect(cursor.completed).toBe(1);
    cursor.finished(2);
    expect(cursor.completed).toBe(9);
  });

  it('spans pages: the first page still bounds the watermark', () => {
    const cursor = new EventCursor();
    cursor.reset(0);
    cursor.replayHandled();
    cursor.fetchedThrough(3, [1, 2, 3]);
    cursor.fetchedThrough(6, [4, 5, 6]);
    expect(cursor.fetched).toBe(6);
    for (const id of [4, 5, 6, 2, 3]) cursor.finished(id);
    expect(cursor.completed).toBe(0);
    cursor.finished(1);
    expect(cursor.completed).toBe(6);
  });

  it('ignores unknown ids and repeated finishes', () => {
    const cursor = new EventCursor();
    cursor.reset(100);
    cursor.replayHandled();
    cursor.fetchedThrough(103, [101, 102, 103]);
    cursor.finished(999);
    cursor.finished(100);
    cursor.finished(0);
    cursor.finished(-1);
    expect(cursor.completed).toBe(100);
    cursor.finished(101);
    cursor.finished(101);
    expect(cursor.completed).toBe(101);
    cursor.finished(103);
    cursor.finished(103);
    expect(cursor.completed).toBe(101);
    cursor.finished(102);
    expect(cursor.completed).toBe(103);
  });

  it('never lowers the watermark', () => {
    const cursor = new EventCursor();
    cursor.reset(0);
    cursor.replayHandled();
    cursor.fetchedThrough(3, []);
    expect(cursor.completed).toBe(3);
    // A page whose ids are not above the watermark cannot pull it back.
    cursor.fetchedThrough(5, [2, 5]);
    expect(cursor.completed).toBe(3);
    cursor.finished(2);
    expect(cursor.completed).toBe(4);
  });

  it('handles 5000 ids finished in random order: monotonic, exact, ends at fetched', () => {
    const random = seeded(20260515);
    const cursor = new EventCursor();
    cursor.reset(1_000);
    cursor.replayHandled();
    const pages: number[][] = [];
    // 10 pages of 500 ids each, with gaps (every 7th id skipped, as pruned/unknown).
    let next = 1_001;
    for (let p = 0; p < 10; p += 1) {
      const ids: number[] = [];
      while (ids.length < 500) {
        if (next % 7 !== 0) ids.push(next);
        next += 1;
      }
      pages.push(ids);
    }
    const lastEventId = next + 3;
    for (const [index, ids] of pages.entries()) {
      cursor.fetchedThrough(index === pages.length - 1 ? lastEventId : ids[ids.length - 1], ids);
    }
    expect(cursor.fetched).toBe(lastEventId);
    // 1001 is a multiple of 7, so the first queued id is 1002.
    expect(pages[0][0]).toBe(1_002);
    expect(cursor.completed).toBe(1_001);

    const all = pages.flat();
    expect(all).toHaveLength(5_000);
    const outstanding = new Set(all);
    const sortedIds = [...all].sort((a, b) => a - b);
    let lowestIndex = 0;
    let previous = cursor.completed;
    let checks = 0;
    for (const id of shuffled(all, random)) {
      cursor.finished(id);
      outstanding.delete(id);
      while (lowestIndex < sortedIds.length && !outstanding.has(sortedIds[lowestIndex])) lowestIndex += 1;
      const expected = lowestIndex < sortedIds.length ? sortedIds[lowestIndex] - 1 : lastEventId;
      expect(cursor.completed).toBe(Math.max(1_001, expected));
      expect(cursor.completed).toBeGreaterThanOrEqual(previous);
      previous = cursor.completed;
      checks += 1;
    }
    expect(checks).toBe(5_000);
    expect(cursor.completed).toBe(cursor.fetched);
    expect(cursor.completed).toBe(lastEventId);
  });

  it('handles 5000 ids finished almost in order (compaction path), interleaved with new pages', () => {
    const cursor = new EventCursor();
    cursor.reset(0);
    cursor.replayHandled();
    let nextId = 1;
    let finishedUpTo = 0;
    for (let round = 0; round < 50; round += 1) {
      const ids = Array.from({ length: 100 }, (_, i) => nextId + i);
      nextId += 100;
      cursor.fetchedThrough(nextId - 1, ids);
      // Finish all but the last 10 of what is outstanding, in order.
      const until = nextId - 11;
      for (let id = finishedUpTo + 1; id <= until; id += 1) cursor.finished(id);
      finishedUpTo = until;
      expect(cursor.completed).toBe(until);
      expect(cursor.fetched).toBe(nextId - 1);
    }
    for (let id = finishedUpTo + 1; id < nextId; id += 1) cursor.finished(id);
    expect(cursor.completed).toBe(5_000);
    expect(cursor.fetched).toBe(5_000);
  });
});
