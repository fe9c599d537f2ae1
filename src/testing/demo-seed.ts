import type { FakeTenantManager } from './fake-tenant-manager.js';

/** Org created by {@link seedDemo}. */
export const DEMO_ORG = 'demo';

/** Projects {@link seedDemo} creates in {@link DEMO_ORG}, in creation order. */
export const DEMO_PROJECTS: readonly string[] = Object.freeze(['alpha', 'beta', 'gamma']);

/**
 * Org `demo` with projects `alpha`, `beta`, `gamma` (the emulator's `--seed demo`).
 * Skips what already exists, so it is safe to call on a fake that has state.
 */
export function seedDemo(fake: FakeTenantManager): void {
  if (fake.org(DEMO_ORG) === undefined) fake.createOrg(DEMO_ORG, 'Demo org');
  for (const project of DEMO_PROJECTS) {
    if (fake.project(DEMO_ORG, project) === undefined) fake.createProject(DEMO_ORG, project, `Demo project ${project}`);
  }
}
