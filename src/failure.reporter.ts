import type { Logger } from '@nestjs/common';
import type { ResolvedTenancyOptions } from './tenancy-options.js';

/**
 * Logs a failure with the controller name (and structured fields, which a JSON
 * logger receives as fields) and hands it to the user's `onError`. A throwing
 * `onError` is logged, never propagated: it must not stop the poller.
 */
export function reportFailure(
  logger: Logger,
  options: Pick<ResolvedTenancyOptions, 'controllerName' | 'onError'>,
  error: Error,
  message: string,
  level: 'error' | 'warn' | 'debug' = 'error',
  fields?: Record<string, unknown>,
): void {
  const line = `[${options.controllerName}] ${message}`;
  const extra = fields ? [{ controller: options.controllerName, ...fields, error: error.message }] : [];
  if (level === 'error') logger.error(line, error.stack, ...extra);
  else if (level === 'warn') logger.warn(line, ...extra);
  else logger.debug(line, ...extra);
  if (!options.onError) return;
  try {
    options.onError(error, message);
  } catch (callbackError) {
    logger.error(`[${options.controllerName}] onError callback threw: ${String(callbackError)}`);
  }
}
