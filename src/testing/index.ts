// The `nestjs-tenancy/testing` entry: the Tenant Manager emulator for tests and
// local runs. It may import the root package; the root never imports this.
export {
  type ControllersOption,
  FakeTenantManager,
  type FakeTenantManagerOptions,
} from './fake-tenant-manager.js';
export type { InjectedFault, MatchableRequest, RequestMatcher } from './fault-injector.js';
export type { RecordedRequest } from './request-recorder.js';
export type {
  OrgStatusBody,
  OrgView,
  ProjectStatusBody,
  ProjectView,
  ResourceStatusDetail,
} from './resource-views.js';
export { StatusIndicator } from './tenant-status.js';
export type { CleanupResult, FakeOrg, FakeProject, StatusRow, WireEvent } from './tenant-store.js';
export { DEMO_ORG, DEMO_PROJECTS, seedDemo } from './demo-seed.js';
export {
  type EmulatorOptions,
  type RunningEmulator,
  runEmulator,
} from './emulator.cli.js';
