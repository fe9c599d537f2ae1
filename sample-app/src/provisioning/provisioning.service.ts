import { Injectable, Logger } from '@nestjs/common';
import { OnTenancyEvent, type TenancyEvent, type TenancyEventContext } from 'nestjs-tenancy';
import { WorkspaceStore } from './workspace.store.js';

/** What this process has done since it started; a replay after a restart adds nothing to `created`. */
export interface ProvisioningCounters {
  created: number;
  alreadyPresent: number;
  removed: number;
  alreadyAbsent: number;
}

/**
 * The tenant controller itself: one workspace directory per org, one per project.
 *
 * Every handler is idempotent, because a restart replays the whole current state
 * (replayed events all have id 0, so ids cannot be used to skip them): creating a
 * workspace that exists keeps it as it is, deleting a missing one is a no-op.
 * Throwing fails the event: the library reports status `error` and retries it.
 */
@Injectable()
export class ProvisioningService {
  private readonly logger = new Logger('Provisioning');
  readonly counters: ProvisioningCounters = { created: 0, alreadyPresent: 0, removed: 0, alreadyAbsent: 0 };

  constructor(private readonly workspaces: WorkspaceStore) {}

  @OnTenancyEvent('org', 'created')
  async orgCreated(event: TenancyEvent, ctx: TenancyEventContext): Promise<void> {
    const { created, manifest } = await this.workspaces.ensureOrg(
      { id: event.resourceId, name: event.resourceName },
      ctx.signal,
    );
    this.report(ctx, `org "${event.resourceName}"`, created ? 'created' : 'alreadyPresent', manifest.provisionedAt);
  }

  @OnTenancyEvent('project', 'created')
  async projectCreated(event: TenancyEvent, ctx: TenancyEventContext): Promise<void> {
    const org = owningOrg(event);
    const { created, manifest } = await this.workspaces.ensureProject(
      { id: event.resourceId, name: event.resourceName, orgId: org.id, orgName: org.name },
      ctx.signal,
    );
    this.report(
      ctx,
      `project "${org.name}/${event.resourceName}"`,
      created ? 'created' : 'alreadyPresent',
      manifest.provisionedAt,
    );
  }

  // Deleting an org first delivers one `deleted` per project, then the org's.
  @OnTenancyEvent('project', 'deleted')
  async projectDeleted(event: TenancyEvent, ctx: TenancyEventContext): Promise<void> {
    const org = owningOrg(event);
    const removed = await this.workspaces.removeProject(org.id, event.resourceId, ctx.signal);
    this.report(ctx, `project "${org.name}/${event.resourceName}"`, removed ? 'removed' : 'alreadyAbsent');
  }

  @OnTenancyEvent('org', 'deleted')
  async orgDeleted(event: TenancyEvent, ctx: TenancyEventContext): Promise<void> {
    const removed = await this.workspaces.removeOrg(event.resourceId, ctx.signal);
    this.report(ctx, `org "${event.resourceName}"`, removed ? 'removed' : 'alreadyAbsent');
  }

  private report(
    ctx: TenancyEventContext,
    what: string,
    outcome: keyof ProvisioningCounters,
    provisionedAt?: string,
  ): void {
    this.counters[outcome] += 1;
    const text = {
      created: 'new workspace provisioned',
      alreadyPresent: `workspace already present (provisioned ${provisionedAt}), nothing to do`,
      removed: 'workspace removed',
      alreadyAbsent: 'workspace already absent, nothing to do',
    }[outcome];
    const source = ctx.replay ? 'replay' : 'live';
    this.logger.log(`${what}: ${text} [${source}${ctx.attempt > 1 ? `, attempt ${ctx.attempt}` : ''}]`);
  }
}

/** A project event always names its org (PROTOCOL.md); without one there is nowhere to put it. */
function owningOrg(event: TenancyEvent): { id: string; name: string } {
  if (event.orgId === null || event.orgName === null) throw new Error(`${event.toString()} has no org`);
  return { id: event.orgId, name: event.orgName };
}
