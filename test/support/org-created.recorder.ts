import { Injectable } from '@nestjs/common';
import { OnTenancyEvent, type TenancyEvent } from 'nestjs-tenancy';

/** A handler host that records the name of every org created, in the order handled. */
@Injectable()
export class OrgCreatedRecorder {
  readonly handled: string[] = [];
  @OnTenancyEvent('org', 'created')
  handle(event: TenancyEvent): void {
    this.handled.push(event.resourceName);
  }
}
