import { requiredEnv } from '../../shared/env';
import { DependencyUnavailableError } from '../../shared/errors';
import { logger, metrics } from '../../shared/powertools';
import { BreakerState, CircuitBreaker, CircuitOpenError } from '../../shared/resilience/circuit-breaker';
import { DependencyError, ServiceClient } from '../../shared/resilience/service-client';
import type { CustomerDirectory } from '../domain/ports';

/**
 * The error code of the users service's own "no such customer" answer
 * (`functions/users/handlers/get-customer.ts`). Only that 404 means the customer has no profile: API
 * Gateway also answers 404 (ROUTE_NOT_FOUND, its MISSING_AUTHENTICATION_TOKEN response) for a path it does
 * not know, e.g. a stale USERS_API_URL, and that is a broken dependency, not a missing customer.
 */
const CUSTOMER_NOT_FOUND = 'CUSTOMER_NOT_FOUND';

/**
 * The customer directory is the users service's IAM-protected `GET /customers/{id}`, called through API
 * Gateway with SigV4 (URL from the registry via USERS_API_URL), with a 1.5 s timeout per attempt, up to 3
 * attempts with jittered backoff, and a circuit breaker (5 consecutive failures open it for 30 s, then one
 * probe). A customer has no profile only when users itself answers 404 CUSTOMER_NOT_FOUND; any other 404
 * (an unknown path at the gateway) counts as users being unavailable. Fallback: when users cannot answer,
 * the order is not placed and the client gets 503 DEPENDENCY_UNAVAILABLE with Retry-After, so nothing is
 * accepted for a customer nobody could check.
 */
export class HttpCustomerDirectory implements CustomerDirectory {
  static fromEnv(): HttpCustomerDirectory {
    const breaker = new CircuitBreaker({
      name: 'users',
      failureThreshold: 5,
      resetTimeoutMs: 30_000,
      onStateChange: (from, to) => {
        logger.warn('Circuit breaker changed state', { dependency: 'users', from, to });
        if (to === BreakerState.OPEN) metrics.addMetric('UsersCircuitOpened', 'Count', 1);
      },
    });
    return new HttpCustomerDirectory(
      new ServiceClient({
        name: 'users',
        baseUrl: requiredEnv('USERS_API_URL'),
        region: requiredEnv('AWS_REGION'),
        timeoutMs: 1500,
        retry: { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 800 },
        breaker,
      }),
    );
  }

  constructor(private readonly client: ServiceClient) {}

  async exists(customerId: string): Promise<boolean> {
    try {
      const response = await this.client.get(`customers/${encodeURIComponent(customerId)}`);
      if (response.status === 200) return true;
      if (response.status === 404 && errorCodeOf(response.body) === CUSTOMER_NOT_FOUND) return false;
      logger.error('Unexpected answer from users', {
        status: response.status,
        code: errorCodeOf(response.body),
      });
      throw new DependencyUnavailableError('users', 5);
    } catch (error) {
      if (error instanceof CircuitOpenError) {
        metrics.addMetric('UsersCallShortCircuited', 'Count', 1);
        throw new DependencyUnavailableError('users', Math.max(1, Math.ceil(error.retryAfterMs / 1000)));
      }
      if (error instanceof DependencyError) {
        logger.error('Users did not answer', { error });
        throw new DependencyUnavailableError('users', 5);
      }
      throw error;
    }
  }
}

/** The `error.code` of an error answer `{ error: { code, message, requestId } }`, if it is one. */
function errorCodeOf(body: unknown): string | undefined {
  const error = (body as { error?: unknown } | undefined)?.error;
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}
