import { TenantManagerRequestError } from '../tenancy.errors.js';

/**
 * The wait before retrying a failed request: our own delay, or the server's
 * `Retry-After` (429/503) when that is longer; what the server asks for is capped
 * by `maxBackoff`, so a huge value cannot stall us for hours.
 */
export function retryDelay(own: number, failure: unknown, maxBackoff: number): number {
  const asked = failure instanceof TenantManagerRequestError ? (failure.retryAfter ?? 0) : 0;
  return Math.max(own, Math.min(asked, maxBackoff));
}
