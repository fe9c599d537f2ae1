/**
 * Opt-in what-if patches for the library (`--experiment a,b`), applied in the
 * library's client process only, to measure a suggested change before anyone makes
 * it in src/. They patch prototypes of the built modules (the same module instances
 * `nestjs-tenancy` loads). Never on by default; results are labelled with them.
 *
 * None is defined today: the earlier ones are now what the library does (node:http
 * instead of axios, hand-written event checks, events that never wait for their
 * status writes, finished queue slots released at once). Add one here as a name in
 * EXPERIMENTS and a case in applyExperiments.
 */
export const EXPERIMENTS: readonly string[] = [];

export async function applyExperiments(names: readonly string[]): Promise<void> {
  for (const name of names) throw new Error(`experiments: unknown experiment ${name}`);
}
