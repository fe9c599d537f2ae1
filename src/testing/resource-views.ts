import { ResourceType } from '../tenancy-event.js';
import { deriveStatus, type StatusIndicator } from './tenant-status.js';
import type { OrgRecord, ProjectRecord, RegisteredControllers, TenantStore } from './tenant-store.js';

/** `orgStatus` / `projectStatus` in the public API. */
export interface ResourceStatusDetail {
  readonly statusIndicator: StatusIndicator;
  readonly message: string;
  /** ISO time of the last change: creation, soft delete or a registered controller's row. */
  readonly timeStamp: string;
  /** The resource's UUID. */
  readonly uID: string;
}

/** Body of `GET /v1/orgs/{name}/status`, and the `status` of an org. */
export interface OrgStatusBody {
  readonly orgStatus: ResourceStatusDetail;
}

/** Body of `GET /v1/projects/{name}/status`, and the `status` of a project. */
export interface ProjectStatusBody {
  readonly projectStatus: ResourceStatusDetail;
}

/** An org in the public API. */
export interface OrgView {
  readonly name: string;
  readonly spec: { readonly description: string };
  readonly status: OrgStatusBody;
}

/** A project in the public API. */
export interface ProjectView {
  readonly name: string;
  readonly orgName: string;
  readonly spec: { readonly description: string };
  readonly status: ProjectStatusBody;
}

/** Builds the public API's JSON shapes, with status derived over registered controllers. */
export class ResourceViews {
  constructor(
    private readonly store: TenantStore,
    private readonly controllers: RegisteredControllers,
  ) {}

  /** `{name, spec, status: {orgStatus}}`. */
  org(org: OrgRecord): OrgView {
    return { name: org.name, spec: { description: org.description }, status: this.orgStatus(org) };
  }

  /** `{name, orgName, spec, status: {projectStatus}}`. */
  project(project: ProjectRecord): ProjectView {
    return {
      name: project.name,
      orgName: project.org.name,
      spec: { description: project.description },
      status: this.projectStatus(project),
    };
  }

  /** `{orgStatus}`. */
  orgStatus(org: OrgRecord): OrgStatusBody {
    return { orgStatus: this.detail(ResourceType.Org, this.controllers.org, org) };
  }

  /** `{projectStatus}`. */
  projectStatus(project: ProjectRecord): ProjectStatusBody {
    return { projectStatus: this.detail(ResourceType.Project, this.controllers.project, project) };
  }

  private detail(
    resourceType: ResourceType,
    controllers: readonly string[],
    resource: { id: string; createdAt: number; deletedAt?: number },
  ): ResourceStatusDetail {
    let changedAt = Math.max(resource.createdAt, resource.deletedAt ?? 0);
    const rowOf = (controller: string) => this.store.statusRow(controller, resourceType, resource.id);
    for (const controller of controllers) {
      const row = rowOf(controller);
      if (row !== undefined) changedAt = Math.max(changedAt, Date.parse(row.updatedAt));
    }
    const derived = deriveStatus({ deleted: resource.deletedAt !== undefined, controllers, rowOf });
    return {
      statusIndicator: derived.indicator,
      message: derived.message,
      timeStamp: new Date(changedAt).toISOString(),
      uID: resource.id,
    };
  }
}
