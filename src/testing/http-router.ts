import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { FakeMessages } from './fake-tenant-manager.messages.js';
import { errorReply, type HttpReply, jsonReply, MAX_BODY_BYTES, type ParsedBody } from './http-io.js';
import type { InternalApiRoutes } from './internal-api.routes.js';
import type { PublicApiRoutes } from './public-api.routes.js';
import { TenantStoreError, type TenantStoreErrorCode } from './tenant-store.js';

/** A request as the router sees it: already split and with its body read. */
export interface RoutedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string>;
  readonly headers: IncomingHttpHeaders;
  readonly body: ParsedBody;
}

const STORE_ERROR_STATUS: Record<TenantStoreErrorCode, number> = {
  not_found: 404,
  conflict: 409,
  marked_for_delete: 400,
};

/**
 * Maps method + path to a route, enforces the internal token on `/v1/events` and
 * `/v1/status`, the 64 KiB body limit, and turns store refusals into 404/409/400.
 */
export class HttpRouter {
  private readonly token: Buffer | undefined;

  constructor(
    private readonly internal: InternalApiRoutes,
    private readonly publicApi: PublicApiRoutes,
    internalToken: string | undefined,
  ) {
    this.token = internalToken === undefined || internalToken === '' ? undefined : Buffer.from(internalToken);
  }

  /** Answers one request. Never throws: unexpected exceptions become a 500. */
  handle(req: RoutedRequest): HttpReply {
    try {
      return this.route(req);
    } catch (error) {
      if (error instanceof TenantStoreError) return errorReply(STORE_ERROR_STATUS[error.code], error.message);
      return errorReply(500, FakeMessages.internalError(error instanceof Error ? error.message : String(error)));
    }
  }

  private route(req: RoutedRequest): HttpReply {
    const segments = decodeSegments(req.path);
    if (segments === undefined) return errorReply(400, FakeMessages.malformedPath());
    const [root, collection, name, leaf, ...rest] = segments;
    const { method, query, body } = req;

    if (root === 'healthz' && collection === undefined) {
      return method === 'GET' ? jsonReply(200, { status: 'ok' }) : notAllowed(method);
    }
    if (root !== 'v1' || rest.length > 0) return notFound();

    if ((collection === 'events' || collection === 'status') && name === undefined) {
      if (!this.authorized(req.headers['x-internal-token'])) return errorReply(401, FakeMessages.unauthorized());
      if (body.tooLarge) return errorReply(413, FakeMessages.bodyTooLarge(MAX_BODY_BYTES));
      if (collection === 'events') return method === 'GET' ? this.internal.events(query) : notAllowed(method);
      if (method === 'PUT') return this.internal.putStatus(body);
      if (method === 'DELETE') return this.internal.deleteStatus(body);
      return notAllowed(method);
    }
    if (body.tooLarge) return errorReply(413, FakeMessages.bodyTooLarge(MAX_BODY_BYTES));

    if (collection === 'orgs') {
      if (name === undefined) return method === 'GET' ? this.publicApi.listOrgs() : notAllowed(method);
      if (leaf === 'status') return method === 'GET' ? this.publicApi.orgStatus(name) : notAllowed(method);
      if (leaf !== undefined) return notFound();
      if (method === 'GET') return this.publicApi.getOrg(name);
      if (method === 'PUT') return this.publicApi.putOrg(name, query, body);
      if (method === 'DELETE') return this.publicApi.deleteOrg(name);
      return notAllowed(method);
    }
    if (collection === 'projects') {
      if (name === undefined) return method === 'GET' ? this.publicApi.listProjects(query) : notAllowed(method);
      if (leaf === 'status') return method === 'GET' ? this.publicApi.projectStatus(name, query) : notAllowed(method);
      if (leaf !== undefined) return notFound();
      if (method === 'GET') return this.publicApi.getProject(name, query);
      if (method === 'PUT') return this.publicApi.putProject(name, query, body);
      if (method === 'DELETE') return this.publicApi.deleteProject(name, query);
      return notAllowed(method);
    }
    return notFound();
  }

  private authorized(header: string | string[] | undefined): boolean {
    if (this.token === undefined) return true;
    if (typeof header !== 'string') return false;
    const given = Buffer.from(header);
    // Constant-time compare: cheap, and the fake should not model a timing leak.
    return given.length === this.token.length && timingSafeEqual(given, this.token);
  }
}

/** `/v1/orgs/a%20b` → `['v1', 'orgs', 'a b']`; `undefined` on bad percent-encoding. */
function decodeSegments(path: string): string[] | undefined {
  const parts = path.split('/');
  // A path must start with `/`; an empty segment (e.g. `/v1/orgs/`) matches no route.
  if (parts[0] !== '' || parts.slice(1).some((part) => part === '')) return [];
  try {
    return parts.slice(1).map((part) => decodeURIComponent(part));
  } catch {
    return undefined;
  }
}

function notFound(): HttpReply {
  return errorReply(404, FakeMessages.notFound());
}

function notAllowed(method: string): HttpReply {
  return errorReply(405, FakeMessages.methodNotAllowed(method));
}
