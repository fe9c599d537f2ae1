/** A client column of the benchmark; each has its own emulator instance. */
export type Slot = 'library' | 'baseline';

/** One arrangement step: an org, or a project in an existing org. */
export type ArrangeOp = readonly ['org', string] | readonly ['project', string, string];

/** Arguments of the server process's commands (see server.child.ts). */
export interface ServerCommands {
  /** Fresh emulator per slot on a new port; answers the base URLs. */
  reset: { args: { slots: readonly Slot[]; trackPolls?: boolean }; result: Record<string, string> };
  /** The base URL of each slot's emulator. */
  urls: { args: undefined; result: Record<string, string> };
  /** `FakeTenantManager.seed()` on each slot; answers each lastEventId. */
  seed: { args: { slots: readonly Slot[]; orgs: number; projectsPerOrg: number; prefix: string }; result: Record<string, number> };
  /** Creates orgs/projects in order on each slot; answers each lastEventId. */
  arrange: { args: { slots: readonly Slot[]; ops: readonly ArrangeOp[] }; result: Record<string, number> };
  /** The next `count` replays answer `{"events":[],"lastEventId":<lastEventId>}`. */
  emptyReplay: { args: { slots: readonly Slot[]; lastEventId: number; count: number }; result: null };
  /**
   * Creates an org on one slot `offsetMs` after that client's latest incremental poll
   * was answered, and not before `notBefore` (epoch ms). Needs `reset({ trackPolls })`.
   */
  appendAtPhase: {
    args: { slot: Slot; name: string; offsetMs: number; notBefore: number };
    result: { at: number; phaseMs: number };
  };
  /** Every later response on these slots is delayed by `ms` (a network round trip). */
  delay: { args: { slots: readonly Slot[]; ms: number }; result: null };
  /** Request/connection counters and the controller's status rows by status. */
  stats: { args: { slot: Slot; controller: string }; result: ServerStats };
  /** CPU time the server process has used so far. */
  cpu: { args: undefined; result: CpuSample };
}

export interface ServerStats {
  readonly requests: number;
  readonly connections: number;
  readonly statusRows: Record<string, number>;
  /** Status writes (PUT and DELETE /v1/status) this slot's emulator received. */
  readonly statusRequests: number;
  /** This slot's first client request: arrival time and the server process's CPU then. */
  readonly firstRequest: { readonly at: number; readonly cpuMicros: number } | null;
  /** Arrival time of this slot's last status write (epoch ms). */
  readonly lastStatusAt: number | null;
}

export interface CpuSample {
  /** User + system CPU, microseconds. */
  readonly cpuMicros: number;
  /** Epoch milliseconds (sub-millisecond precision). */
  readonly at: number;
}
