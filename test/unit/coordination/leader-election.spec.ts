import { afterEach, describe, expect, it, vi } from 'vitest';
import { TenancyLogger } from '../../../src/telemetry/tenancy-logger.js';
import { LeaderElection } from '../../../src/coordination/leader-election.js';
import type { TenancyCoordinator } from '../../../src/coordination/tenancy-coordinator.js';
import { waitFor } from '../../support/wait-for.js';

// Logs off: these tests look at leadership, not at lines.
const quiet = new TenancyLogger({ controllerName: 'ctl' });
quiet.log = () => {};
quiet.warn = () => {};
quiet.debug = () => {};
quiet.failure = () => {};

function coordinator(overrides: Partial<TenancyCoordinator>): TenancyCoordinator & { released: number } {
  const c = {
    identity: 'me',
    retryPeriod: 10,
    renewDeadline: 300,
    released: 0,
    acquire: async () => true,
    renew: async () => true,
    release: async () => {
      c.released += 1;
    },
    ...overrides,
  };
  return c;
}

describe('LeaderElection', () => {
  const elections: LeaderElection[] = [];
  afterEach(async () => {
    for (const e of elections.splice(0)) await e.stop(async () => {});
  });
  const make = (c: TenancyCoordinator, events: string[] = []) => {
    const e = new LeaderElection(
      c,
      {
        elected: () => events.push('elected'),
        lost: async (reason) => {
          events.push(`lost: ${reason}`);
        },
      },
      quiet,
    );
    elections.push(e);
    return e;
  };

  it('becomes leader on a successful acquire and releases on stop after draining', async () => {
    const c = coordinator({});
    const events: string[] = [];
    const e = make(c, events);
    e.start();
    await waitFor(() => e.isLeader);
    await e.stop(async () => {
      events.push('drained');
    });
    expect(events).toEqual(['elected', 'drained']);
    expect(c.released).toBe(1);
    expect(e.isLeader).toBe(false);
  });

  it('loses leadership renewDeadline after the last good renewal, even while a renew call hangs', async () => {
    let renewals = 0;
    const c = coordinator({
      renew: () => {
        renewals += 1;
        return renewals < 3 ? Promise.resolve(true) : new Promise<boolean>(() => {});
      },
    });
    const events: string[] = [];
    const e = make(c, events);
    e.start();
    await waitFor(() => events.some((x) => x.startsWith('lost')), { timeout: 3_000 });
    expect(events[0]).toBe('elected');
    expect(events[1]).toBe('lost: no successful renewal for renewDeadline (300 ms)');
    expect(e.isLeader).toBe(false);
  });

  it('a renewal answered false (lease gone or held by another) is an immediate loss, not a transient failure', async () => {
    let renewals = 0;
    const c = coordinator({ renewDeadline: 10_000, renew: async () => ++renewals < 2 });
    const events: string[] = [];
    const e = make(c, events);
    const started = Date.now();
    e.start();
    await waitFor(() => events.some((x) => x.startsWith('lost')), { timeout: 5_000 });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(events).toEqual(['elected', 'lost: the renewal was refused (the lease is gone or held by another replica)']);
    expect(e.isLeader).toBe(false);
  });

  it('measures renewDeadline on a monotonic clock: a wall-clock step back does not stretch the leadership', async () => {
    const realNow = Date.now.bind(Date);
    let renewals = 0;
    const c = coordinator({
      renew: () => {
        renewals += 1;
        // The wall clock steps back a minute while this renewal is out; later ones hang.
        if (renewals === 2) vi.spyOn(Date, 'now').mockImplementation(() => realNow() - 60_000);
        return renewals <= 2 ? Promise.resolve(true) : new Promise<boolean>(() => {});
      },
    });
    const events: string[] = [];
    const e = make(c, events);
    try {
      e.start();
      const started = performance.now();
      while (!events.some((x) => x.startsWith('lost')) && performance.now() - started < 5_000) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(events).toEqual(['elected', 'lost: no successful renewal for renewDeadline (300 ms)']);
    } finally {
      vi.restoreAllMocks();
    }
  });

  it('releases a lease won while stop() was waiting for the acquire call', async () => {
    let grant!: (won: boolean) => void;
    const c = coordinator({ acquire: () => new Promise<boolean>((resolve) => (grant = resolve)) });
    const events: string[] = [];
    const e = make(c, events);
    e.start();
    await waitFor(() => grant !== undefined);
    const stopping = e.stop(async () => {});
    grant(true);
    await stopping;
    expect(c.released).toBe(1);
    expect(events).toEqual([]);
  });

  it('does not hang stop() on a coordinator call that never returns', async () => {
    let renewing = false;
    const c = coordinator({
      renewDeadline: 200,
      renew: () => {
        renewing = true;
        return new Promise<boolean>(() => {});
      },
      release: () => new Promise<void>(() => {}),
    });
    const e = make(c);
    e.start();
    await waitFor(() => renewing);
    const outcome = await Promise.race([
      e.stop(async () => {}).then(() => 'settled'),
      new Promise((resolve) => setTimeout(() => resolve('hung'), 2_000)),
    ]);
    expect(outcome).toBe('settled');
  });

  it('reports a loss the coordinator detects by itself (onLost)', async () => {
    let lose!: () => void;
    const c = coordinator({ onLost: (cb) => (lose = cb) });
    const events: string[] = [];
    const e = make(c, events);
    e.start();
    await waitFor(() => e.isLeader);
    lose();
    await waitFor(() => events.length === 2);
    expect(events[1]).toBe('lost: the coordinator reported the leadership lost');
  });
});

describe('LeaderElection generations', () => {
  it('releases a lease whose acquire returns after stop() stopped waiting, and a restart still gets elected', async () => {
    let grant!: (won: boolean) => void;
    let calls = 0;
    const c = coordinator({
      renewDeadline: 100,
      acquire: () => {
        calls += 1;
        return calls === 1 ? new Promise<boolean>((resolve) => (grant = resolve)) : Promise.resolve(true);
      },
    });
    const events: string[] = [];
    const e = new LeaderElection(
      c,
      { elected: () => events.push('elected'), lost: async () => {} },
      quiet,
    );
    e.start();
    await waitFor(() => grant !== undefined);
    await e.stop(async () => {}); // gives up on the hung acquire after renewDeadline
    grant(true); // the API granted the lease after all
    await waitFor(() => c.released === 1);
    expect(e.isLeader).toBe(false);
    e.start();
    await waitFor(() => events.includes('elected'));
    expect(e.isLeader).toBe(true);
    await e.stop(async () => {});
    expect(c.released).toBe(2);
  });
});
