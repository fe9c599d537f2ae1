import { ControllerStatus } from '../tenancy-event.js';

/** Values of `statusIndicator` in the public org/project API. */
export const StatusIndicator = {
  Idle: 'STATUS_INDICATION_IDLE',
  InProgress: 'STATUS_INDICATION_IN_PROGRESS',
  Error: 'STATUS_INDICATION_ERROR',
  Deleted: 'STATUS_INDICATION_DELETED',
} as const;
/** One of the four `STATUS_INDICATION_*` strings. */
export type StatusIndicator = (typeof StatusIndicator)[keyof typeof StatusIndicator];

/** The part of a status row that derivation looks at. */
export interface ControllerRowState {
  readonly status: string;
  readonly message: string;
}

/** What {@link deriveStatus} needs to know about one org or project. */
export interface DeriveStatusInput {
  /** True while the resource is soft-deleted (marked for delete). */
  readonly deleted: boolean;
  /** Controllers registered for the resource type, in registration order. */
  readonly controllers: readonly string[];
  /** The row of a registered controller for this resource, if it has one. */
  readonly rowOf: (controller: string) => ControllerRowState | undefined;
}

/** Indicator plus message, as shown in `orgStatus` / `projectStatus`. */
export interface DerivedStatus {
  readonly indicator: StatusIndicator;
  readonly message: string;
}

/**
 * The Tenant Manager's status derivation (PROTOCOL.md, "Status derivation"), pure.
 * Only registered controllers count: rows of others are stored but never looked at.
 */
export function deriveStatus({ deleted, controllers, rowOf }: DeriveStatusInput): DerivedStatus {
  if (controllers.length === 0) {
    return deleted ? status(StatusIndicator.Deleted) : status(StatusIndicator.Idle);
  }
  const rows = controllers.map((controller) => ({ controller, row: rowOf(controller) }));
  const failed = rows.find(({ row }) => row?.status === ControllerStatus.Error);

  if (deleted) {
    // A controller finishes its part of a delete by removing its row, so any row
    // left (even `completed`) means that controller has not cleaned up yet.
    const remaining = rows.filter(({ row }) => row !== undefined).map(({ controller }) => controller);
    if (remaining.length === 0) return status(StatusIndicator.Deleted);
    if (failed) return status(StatusIndicator.Error, failed.row?.message ?? '');
    return status(StatusIndicator.InProgress, `deleting, waiting for: ${remaining.join(', ')}`);
  }

  if (failed) return status(StatusIndicator.Error, failed.row?.message ?? '');
  const pending = rows.filter(({ row }) => row === undefined).map(({ controller }) => controller);
  const running = rows
    .filter(({ row }) => row?.status === ControllerStatus.InProgress)
    .map(({ controller }) => controller);
  const parts: string[] = [];
  if (pending.length > 0) parts.push(`waiting for: ${pending.join(', ')}`);
  if (running.length > 0) parts.push(`in progress: ${running.join(', ')}`);
  return parts.length > 0 ? status(StatusIndicator.InProgress, parts.join('; ')) : status(StatusIndicator.Idle);
}

function status(indicator: StatusIndicator, message = ''): DerivedStatus {
  return { indicator, message };
}
