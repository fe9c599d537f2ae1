import { ControllerStatus } from '../tenancy-event.js';
import { FakeMessages } from './fake-tenant-manager.messages.js';
import { EMPTY_OK, errorReply, type HttpReply, isJsonObject, jsonReply, type ParsedBody } from './http-io.js';
import type { TenantStore } from './tenant-store.js';

const NIL_UUID = '00000000-0000-0000-0000-000000000000';
const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;
const STATUS_VALUES: ReadonlySet<string> = new Set(Object.values(ControllerStatus));
const DIGITS = /^\d+$/;

/**
 * The controller-facing endpoints: `GET /v1/events` (replay and incremental),
 * `PUT /v1/status`, `DELETE /v1/status`.
 */
export class InternalApiRoutes {
  constructor(private readonly store: TenantStore) {}

  /** `GET /v1/events?controller=&replay=true` or `?controller=&after=&limit=`. */
  events(query: Record<string, string>): HttpReply {
    // Go's Query().Get() cannot tell absent from empty; both are "missing".
    if (!query['controller']) return errorReply(400, FakeMessages.controllerRequired());
    // Only the literal `true` asks for a replay; anything else is an incremental read.
    if (query['replay'] === 'true') return jsonReply(200, this.store.replay());

    const afterText = query['after'] ?? '';
    const after = afterText === '' ? 0 : parseNonNegative(afterText);
    if (after === undefined) return errorReply(400, FakeMessages.invalidAfter(afterText));
    const limitText = query['limit'] ?? '';
    const limit = limitText === '' ? DEFAULT_LIMIT : parseNonNegative(limitText);
    if (limit === undefined || limit < 1 || limit > MAX_LIMIT) {
      return errorReply(400, FakeMessages.invalidLimit(limitText));
    }
    return jsonReply(200, this.store.eventsAfter(after, limit));
  }

  /** `PUT /v1/status`: upsert; `200` with an empty body. */
  putStatus(body: ParsedBody): HttpReply {
    const fields = readFields(body, ['controller', 'resourceType', 'resourceId', 'status']);
    if (!fields.ok) return fields.reply;
    const { controller, resourceType, resourceId, status } = fields.values;
    if (!STATUS_VALUES.has(status!)) return errorReply(400, FakeMessages.invalidStatus(status!));
    const message = fields.object['message'] ?? '';
    if (typeof message !== 'string') return errorReply(400, FakeMessages.fieldNotString('message'));
    this.store.putStatus(controller!, resourceType!, resourceId!, status as ControllerStatus, message);
    return EMPTY_OK;
  }

  /** `DELETE /v1/status` (JSON body): remove the row; an absent row is fine. */
  deleteStatus(body: ParsedBody): HttpReply {
    const fields = readFields(body, ['controller', 'resourceType', 'resourceId']);
    if (!fields.ok) return fields.reply;
    const { controller, resourceType, resourceId } = fields.values;
    this.store.deleteStatus(controller!, resourceType!, resourceId!);
    return EMPTY_OK;
  }
}

/**
 * Required non-empty string fields of a status body, or the 400 reply. The nil UUID
 * counts as missing: it is what a client's zero-value resource id serialises to.
 */
function readFields(body: ParsedBody, names: readonly string[]): FieldsResult {
  if (!isJsonObject(body.json)) return fail(FakeMessages.invalidJsonBody());
  const object = body.json;
  const values: Record<string, string> = {};
  for (const name of names) {
    const value = object[name];
    if (value === undefined || value === null || value === '') return fail(FakeMessages.fieldRequired(name));
    if (typeof value !== 'string') return fail(FakeMessages.fieldNotString(name));
    values[name] = value;
  }
  if (values['resourceId'] === NIL_UUID) return fail(FakeMessages.nilResourceId());
  return { ok: true, object, values };
}

type FieldsResult =
  | { ok: true; object: Record<string, unknown>; values: Record<string, string> }
  | { ok: false; reply: HttpReply };

function fail(message: string): FieldsResult {
  return { ok: false, reply: errorReply(400, message) };
}

function parseNonNegative(text: string): number | undefined {
  if (!DIGITS.test(text)) return undefined;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : undefined;
}
