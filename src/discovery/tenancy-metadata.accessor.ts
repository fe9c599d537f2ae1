import { Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { TenancySubscription } from '../decorators/on-tenancy-event.decorator.js';
import { TENANCY_EVENT_METADATA } from '../tenancy.constants.js';

/** The only reader of `@OnTenancyEvent` metadata. */
@Injectable()
export class TenancyMetadataAccessor {
  constructor(private readonly reflector: Reflector) {}

  /** Distinct subscriptions of a method, in decorator order; empty when undecorated. */
  getSubscriptions(method: Function): TenancySubscription[] {
    const found = this.reflector.get<TenancySubscription[] | undefined>(TENANCY_EVENT_METADATA, method) ?? [];
    const seen = new Set<string>();
    return found.filter((s) => {
      const id = `${s.resourceType}/${s.eventType}`;
      if (seen.has(id)) return false;
      seen.add(id);
      return true;
    });
  }
}
