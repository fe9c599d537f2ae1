import { IsIn, IsInt, IsISO8601, IsOptional, IsString, IsUUID, Min, validateSync } from 'class-validator';
import { EventType, ResourceType } from '../tenancy-event.js';

// Imported by tenant-manager.wire.ts only for events its fast check does not accept.

/** One event as the Tenant Manager sends it; validated before it becomes a TenancyEvent. */
class WireEventDto {
  @IsInt()
  @Min(0)
  id: number;

  @IsIn(Object.values(EventType))
  eventType: EventType;

  @IsIn(Object.values(ResourceType))
  resourceType: ResourceType;

  @IsUUID()
  resourceId: string;

  @IsString()
  resourceName: string;

  // Project events carry their org; the ordering key falls back to resourceId without it.
  @IsOptional()
  @IsUUID()
  orgId: string | null;

  @IsOptional()
  @IsString()
  orgName: string | null;

  // Reserved for a future hierarchy: accepted in any string form.
  @IsOptional()
  @IsString()
  folderId: string | null;

  @IsISO8601({ strict: true })
  createdAt: string;
}

/** The fields the DTO validates: only these are copied from the wire. */
const WIRE_FIELDS = [
  'id',
  'eventType',
  'resourceType',
  'resourceId',
  'resourceName',
  'orgId',
  'orgName',
  'folderId',
  'createdAt',
] as const satisfies ReadonlyArray<keyof WireEventDto>;

/** `field: reason, reason` per invalid field, in class-validator's words. */
export function wireEventProblems(raw: object): string[] {
  // Field by field, never Object.assign: a `__proto__` or `constructor` key in the
  // JSON would replace the DTO's prototype and hide every rule from class-validator.
  const dto = new WireEventDto();
  const source = raw as Record<string, unknown>;
  for (const field of WIRE_FIELDS) {
    if (Object.hasOwn(source, field)) (dto as unknown as Record<string, unknown>)[field] = source[field];
  }
  return validateSync(dto, { forbidUnknownValues: false }).map(
    (e) => `${e.property}: ${Object.values(e.constraints ?? {}).join(', ') || 'invalid'}`,
  );
}
