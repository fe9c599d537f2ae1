export { TenancyModule } from './tenancy.module.js';
export type {
  HttpServiceLike,
  TenancyErrorCallback,
  TenancyMetricsOptions,
  TenancyModuleOptions,
  TenancyTransportOption,
} from './tenancy-options.js';
export {
  OnTenancyEvent,
  type EventTypeFilter,
  type ResourceTypeFilter,
} from './decorators/on-tenancy-event.decorator.js';
export {
  ControllerStatus,
  EventType,
  ResourceType,
  TenancyEvent,
  type TenancyEventContext,
  type TenancyEventInit,
} from './tenancy-event.js';
export { TenancyPoller } from './tenancy.poller.js';
export type {
  ReplayProgressSnapshot,
  TenancyCounters,
  TenancyEventIssue,
  TenancyPollerPhase,
  TenancyStatus,
} from './tenancy-status.js';
export {
  TenancyConfigurationError,
  TenancyError,
  TenancyHandlerError,
  TenancyTerminalError,
  TenantManagerRequestError,
} from './tenancy.errors.js';
export type {
  KubernetesLeaseOptions,
  TenancyCoordinationOptions,
  TenancyCoordinator,
} from './coordination/tenancy-coordinator.js';
