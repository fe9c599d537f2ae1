/**
 * Error texts of the fake Tenant Manager, one builder per message, so tests can
 * assert the exact text. The three texts quoted in PROTOCOL.md are kept verbatim.
 */
export const FakeMessages = {
  /** PROTOCOL.md: missing or wrong `X-Internal-Token`. */
  unauthorized: (): string => 'unauthorized',
  /** PROTOCOL.md: `GET /v1/events` without `controller`. */
  controllerRequired: (): string => 'controller query parameter required',
  /** PROTOCOL.md: `PUT`/`DELETE` on a soft-deleted org or project. */
  markedForDelete: (): string => 'Operation not supported. Requested resource is marked for delete.',

  /** `after` is not a non-negative integer. */
  invalidAfter: (value: string): string => `invalid after "${value}": must be a non-negative integer`,
  /** `limit` is not an integer in 1..1000. */
  invalidLimit: (value: string): string => `invalid limit "${value}": must be an integer from 1 to 1000`,
  /** The body is not JSON, or not a JSON object. */
  invalidJsonBody: (): string => 'request body must be a JSON object',
  /** A required body field is absent, null or empty. */
  fieldRequired: (field: string): string => `${field} is required`,
  /** A body field has a non-string value. */
  fieldNotString: (field: string): string => `${field} must be a string`,
  /** `resourceId` is `00000000-0000-0000-0000-000000000000`. */
  nilResourceId: (): string => 'resourceId must not be the nil UUID',
  /** `status` is not one of the three wire values. */
  invalidStatus: (value: string): string =>
    `invalid status "${value}": must be one of in_progress, completed, error`,
  /** The body is larger than the 64 KiB limit. */
  bodyTooLarge: (limit: number): string => `request body larger than ${limit} bytes`,
  /** `update_if_exists` is neither `true` nor `false`. */
  invalidUpdateIfExists: (value: string): string =>
    `invalid update_if_exists "${value}": must be true or false`,

  /** No org with that name (active or soft-deleted). */
  orgNotFound: (name: string): string => `org "${name}" not found`,
  /** Creating an org whose name is taken (also while it is soft-deleted). */
  orgExists: (name: string): string => `org "${name}" already exists`,
  /** No project with that name (in that org, when given). */
  projectNotFound: (name: string, orgName?: string): string =>
    orgName === undefined
      ? `project "${name}" not found`
      : `project "${name}" not found in org "${orgName}"`,
  /** Creating a project whose name is taken in its org. */
  projectExists: (name: string, orgName: string): string =>
    `project "${name}" already exists in org "${orgName}"`,
  /** `?org` omitted and the project name exists in several orgs. */
  projectAmbiguous: (name: string, orgNames: readonly string[]): string =>
    `project name "${name}" is ambiguous (orgs: ${orgNames.join(', ')}): pass ?org=<org>`,
  /** `?org` omitted on project creation and no default org is configured. */
  orgRequired: (): string => 'org query parameter required (no default org configured)',

  /** No route for the path. */
  notFound: (): string => 'not found',
  /** The path exists but not with this method. */
  methodNotAllowed: (method: string): string => `method ${method} not allowed`,
  /** The path has a malformed percent-encoding. */
  malformedPath: (): string => 'malformed path',
  /** Default body of an injected fault. */
  injectedFault: (): string => 'injected fault',
  /** An unexpected exception inside the fake. */
  internalError: (detail: string): string => `internal error: ${detail}`,
  /** `url` read before `start()`. */
  notStarted: (): string => 'FakeTenantManager is not started: call start() first',
  /** `start()` called twice. */
  alreadyStarted: (): string => 'FakeTenantManager is already started',
} as const;
