/** The HTTP clients `--floor` prices (floor.child.ts builds each). */
export const FLOOR_CLIENTS = [
  'nestjs-tenancy transport',
  'node:http as library',
  'node:http tuned',
  'undici Pool request',
  'undici Pool dispatch',
  'undici Pool pipelining 4',
  'undici Client pipelining 8',
] as const;
export type FloorClient = (typeof FLOOR_CLIENTS)[number];

export interface FloorJob {
  readonly url: string;
  readonly client: FloorClient;
  readonly concurrency: number;
  readonly requests: number;
}

export interface FloorResult {
  readonly elapsedMs: number;
  readonly cpuMs: number;
}
