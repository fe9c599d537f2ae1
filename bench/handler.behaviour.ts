import { setTimeout as sleep } from 'node:timers/promises';
import type { HandlerSpec } from './client.api.js';
import { preciseNow } from './clock.js';

/** The part of an event the bench handlers look at (both clients' event types have it). */
export interface HandledEvent {
  readonly resourceName: string;
}

/**
 * What every bench handler does, shared verbatim by the library's `@OnTenancyEvent`
 * methods and the baseline's handler so both columns do the same work: optionally
 * wait, fail for the poison resource, and count/record calls.
 */
export class HandlerBehaviour {
  calls = 0;
  successes = 0;
  failures = 0;
  readonly firstCalls: Record<string, number> = {};
  readonly successLog: Array<readonly [string, number]> = [];
  private readonly thresholds: Array<{ count: number; resolve: () => void }> = [];

  constructor(private readonly spec: HandlerSpec) {}

  async handle(event: HandledEvent): Promise<void> {
    this.calls += 1;
    const name = event.resourceName;
    if (this.spec.recordCalls && this.firstCalls[name] === undefined) this.firstCalls[name] = preciseNow();
    if (this.spec.delayMs > 0) await sleep(this.spec.delayMs);
    if (name === this.spec.poisonName || (this.spec.poisonPrefix !== undefined && name.startsWith(this.spec.poisonPrefix))) {
      this.failures += 1;
      throw new Error(`poison resource ${name} always fails`);
    }
    this.successes += 1;
    if (this.spec.recordSuccesses) this.successLog.push([name, preciseNow()]);
    for (let i = this.thresholds.length - 1; i >= 0; i--) {
      if (this.successes >= this.thresholds[i].count) this.thresholds.splice(i, 1)[0].resolve();
    }
  }

  /** Resolves once `count` handler calls have succeeded. */
  whenSucceeded(count: number): Promise<void> {
    if (this.successes >= count) return Promise.resolve();
    return new Promise((resolve) => this.thresholds.push({ count, resolve }));
  }
}
