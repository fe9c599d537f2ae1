import { Logger } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkOutcome } from '../../../src/dispatch/keyed-work-queue.js';
import { makeRun, startRun } from './run-harness.js';
import { ScriptedTenantManager } from './scripted-tenant-manager.js';

const EVENTS = 80_000;

/** Replays EVENTS orgs through a run whose every attempt ends with `outcome`; resolves to the ms it took. */
async function replayAll(outcome: WorkOutcome): Promise<{ ms: number; parked: number }> {
  const tm = new ScriptedTenantManager();
  for (let i = 0; i < EVENTS; i += 1) tm.createOrg(`org-${i}`);
  const run = makeRun(tm, () => outcome, { maxQueuedEvents: EVENTS * 2, concurrency: 8 });
  const started = performance.now();
  await startRun(run);
  await run.whenIdle();
  const ms = performance.now() - started;
  const parked = run.queue.parkedCount;
  await run.drain();
  return { ms, parked };
}

describe('parked events (complexity)', () => {
  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(['log', 'error', 'warn', 'debug', 'verbose', 'fatal']));

  it('parked events cost O(1) each: 80,000 parks finish within a small multiple of 80,000 successes', async () => {
    const done = await replayAll('done');
    const parked = await replayAll('park');
    expect(parked.parked).toBe(EVENTS);
    // Linear work: the same order as successes (quadratic bookkeeping took minutes).
    // Generous: 5× plus a fixed allowance, so a busy machine does not fail it.
    expect(parked.ms).toBeLessThan(5 * done.ms + 2_000);
  }, 120_000);
});
