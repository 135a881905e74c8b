/**
 * API keys of usage plans: a method that requires one (ApiKeyRequired) answers 403 unless `x-api-key` carries an
 * enabled key of a usage plan on the route's stage. Usage plans' throttles and quotas are not emulated.
 */
import type { LocalRoute } from '../model';
import type { IncomingRequest } from './request';
import { headerValue } from './request';
import type { Rejection } from './responses';

/**
 * @param route - the matched route
 * @param request - the request as read
 * @returns the INVALID_API_KEY rejection (403 Forbidden) when the route requires a key the request lacks
 */
export function checkApiKey(route: LocalRoute, request: IncomingRequest): Rejection | undefined {
  if (!route.apiKeys) return undefined;
  const key = headerValue(request.headers, 'x-api-key');
  if (key !== undefined && route.apiKeys.includes(key)) return undefined;
  return {
    types: ['INVALID_API_KEY'],
    message: 'Forbidden',
    status: 403,
    reason: key === undefined ? 'no x-api-key header' : 'x-api-key is no key of a usage plan on this stage',
  };
}
