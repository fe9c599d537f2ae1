import type { Logger } from '@nestjs/common';
import type { ResolvedTenancyOptions } from './tenancy-options.js';

/**
 * Logs a failure with the controller name and hands it to the user's `onError`.
 * A throwing `onError` is logged, never propagated: it must not stop the poller.
 */
export function reportFailure(
  logger: Logger,
  options: Pick<ResolvedTenancyOptions, 'controllerName' | 'onError'>,
  error: Error,
  message: string,
  level: 'error' | 'warn' | 'debug' = 'error',
): void {
  const line = `[${options.controllerName}] ${message}`;
  if (level === 'error') logger.error(line, error.stack);
  else if (level === 'warn') logger.warn(line);
  else logger.debug(line);
  if (!options.onError) return;
  try {
    options.onError(error, message);
  } catch (callbackError) {
    logger.error(`[${options.controllerName}] onError callback threw: ${String(callbackError)}`);
  }
}
