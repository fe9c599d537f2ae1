import { Module } from '@nestjs/common';
import { ProvisioningService } from './provisioning.service.js';
import { TenantsController } from './tenants.controller.js';
import { WorkspaceStore } from './workspace.store.js';

/** The controller's job: one workspace per org and project, and `GET /tenants` to see them. */
@Module({
  controllers: [TenantsController],
  providers: [WorkspaceStore, ProvisioningService],
})
export class ProvisioningModule {}
