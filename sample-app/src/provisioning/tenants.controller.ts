import { Controller, Get } from '@nestjs/common';
import { type OrgWorkspace, WorkspaceStore } from './workspace.store.js';

/** Body of `GET /tenants`. */
export interface TenantsResponse {
  readonly orgs: OrgWorkspace[];
}

/** What this controller has provisioned, read from disk so it survives restarts. */
@Controller('tenants')
export class TenantsController {
  constructor(private readonly workspaces: WorkspaceStore) {}

  @Get()
  async list(): Promise<TenantsResponse> {
    return { orgs: await this.workspaces.list() };
  }
}
