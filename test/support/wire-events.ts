// Wire events as the Tenant Manager sends them, shared by the decoder specs.

export const ORG_ID = '6f1c1a52-8d0e-4a4b-9a57-2b1f3f0c9e11';
export const PROJECT_ID = '0b0e3f4a-1c2d-4e5f-8a9b-0c1d2e3f4a5b';

export const projectCreated = {
  id: 42,
  eventType: 'created',
  resourceType: 'project',
  resourceId: PROJECT_ID,
  resourceName: 'my-project',
  orgId: ORG_ID,
  orgName: 'my-org',
  folderId: null,
  createdAt: '2026-05-15T10:00:00.123456Z',
};

export const orgDeleted = {
  id: 43,
  eventType: 'deleted',
  resourceType: 'org',
  resourceId: ORG_ID,
  resourceName: 'my-org',
  orgId: null,
  orgName: null,
  folderId: null,
  createdAt: '2026-05-15T10:00:01Z',
};

/** A `GET /v1/events` body of these events. */
export const page = (events: unknown[], lastEventId: unknown = 43) => JSON.stringify({ events, lastEventId });
