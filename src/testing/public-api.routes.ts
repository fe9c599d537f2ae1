import { FakeMessages } from './fake-tenant-manager.messages.js';
import { errorReply, type HttpReply, isJsonObject, jsonReply, type ParsedBody } from './http-io.js';
import type { ResourceViews } from './resource-views.js';
import { type OrgRecord, type TenantStore, TenantStoreError } from './tenant-store.js';

/**
 * The people-facing tenant API (`/v1/orgs…`, `/v1/projects…`). The client library
 * never calls it; it is here so a local emulator can be driven with curl.
 * Store refusals ({@link TenantStoreError}) propagate; the router maps them to 404/409/400.
 */
export class PublicApiRoutes {
  constructor(
    private readonly store: TenantStore,
    private readonly views: ResourceViews,
    private readonly defaultOrg: string | undefined,
  ) {}

  /** `GET /v1/orgs`: active orgs sorted by name. */
  listOrgs(): HttpReply {
    return jsonReply(200, this.store.activeOrgs().map((org) => this.views.org(org)));
  }

  /** `GET /v1/orgs/{name}`: a soft-deleted org is still returned, with its deleting status. */
  getOrg(name: string): HttpReply {
    return jsonReply(200, this.views.org(this.requireOrg(name)));
  }

  /** `GET /v1/orgs/{name}/status`. */
  orgStatus(name: string): HttpReply {
    return jsonReply(200, this.views.orgStatus(this.requireOrg(name)));
  }

  /** `PUT /v1/orgs/{name}[?update_if_exists=false]`, body `{"description"}` optional. */
  putOrg(name: string, query: Record<string, string>, body: ParsedBody): HttpReply {
    const input = readPutInput(query, body);
    if ('reply' in input) return input.reply;
    const { org } = this.store.putOrg(name, input.description, input.updateIfExists);
    return jsonReply(200, this.views.org(org));
  }

  /** `DELETE /v1/orgs/{name}`: soft-deletes its projects, then the org. */
  deleteOrg(name: string): HttpReply {
    return jsonReply(200, this.views.org(this.store.deleteOrg(name)));
  }

  /** `GET /v1/projects[?org=]`: active projects sorted by org, then name. */
  listProjects(query: Record<string, string>): HttpReply {
    const orgName = orgParam(query);
    if (orgName !== undefined) this.requireOrg(orgName);
    return jsonReply(200, this.store.activeProjects(orgName).map((project) => this.views.project(project)));
  }

  /** `GET /v1/projects/{name}[?org=]`. */
  getProject(name: string, query: Record<string, string>): HttpReply {
    return jsonReply(200, this.views.project(this.store.lookupProject(name, orgParam(query))));
  }

  /** `GET /v1/projects/{name}/status[?org=]`. */
  projectStatus(name: string, query: Record<string, string>): HttpReply {
    return jsonReply(200, this.views.projectStatus(this.store.lookupProject(name, orgParam(query))));
  }

  /**
   * `PUT /v1/projects/{name}[?org=]`. Without `?org`: a name that exists in exactly
   * one org addresses that project, in several orgs it is ambiguous (409), in none
   * it is created in the default org (400 when there is none).
   */
  putProject(name: string, query: Record<string, string>, body: ParsedBody): HttpReply {
    const input = readPutInput(query, body);
    if ('reply' in input) return input.reply;
    let orgName = orgParam(query);
    if (orgName === undefined) {
      const found = this.store.projectsNamed(name);
      if (found.length > 0) orgName = this.store.lookupProject(name).org.name;
      else if (this.defaultOrg !== undefined) orgName = this.defaultOrg;
      else return errorReply(400, FakeMessages.orgRequired());
    }
    const { project } = this.store.putProject(orgName, name, input.description, input.updateIfExists);
    return jsonReply(200, this.views.project(project));
  }

  /** `DELETE /v1/projects/{name}[?org=]`. */
  deleteProject(name: string, query: Record<string, string>): HttpReply {
    const project = this.store.deleteProject(this.store.lookupProject(name, orgParam(query)));
    return jsonReply(200, this.views.project(project));
  }

  private requireOrg(name: string): OrgRecord {
    const org = this.store.findOrg(name);
    if (org === undefined) throw new TenantStoreError('not_found', FakeMessages.orgNotFound(name));
    return org;
  }
}

function orgParam(query: Record<string, string>): string | undefined {
  const org = query['org'];
  return org === undefined || org === '' ? undefined : org;
}

function readPutInput(
  query: Record<string, string>,
  body: ParsedBody,
): { description: string | undefined; updateIfExists: boolean } | { reply: HttpReply } {
  const flag = query['update_if_exists'];
  if (flag !== undefined && flag !== '' && flag !== 'true' && flag !== 'false') {
    return { reply: errorReply(400, FakeMessages.invalidUpdateIfExists(flag)) };
  }
  const updateIfExists = flag !== 'false';
  if (body.raw === '') return { description: undefined, updateIfExists };
  if (!isJsonObject(body.json)) return { reply: errorReply(400, FakeMessages.invalidJsonBody()) };
  const description = body.json['description'] ?? undefined;
  if (description !== undefined && typeof description !== 'string') {
    return { reply: errorReply(400, FakeMessages.fieldNotString('description')) };
  }
  return { description, updateIfExists };
}
