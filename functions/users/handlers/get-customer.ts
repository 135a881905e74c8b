import { httpRoute } from '../../shared/http';
import { logger } from '../../shared/powertools';
import { ProfilePath } from '../domain/profile';
import { profiles } from './dependencies';

/**
 * GET /customers/{id} — internal (IAM-signed callers only, e.g. orders): whether a customer profile exists.
 * Answers 200 `{ id, exists: true }` or 404 CUSTOMER_NOT_FOUND; reveals nothing else about the profile.
 */
export const handler = httpRoute(
  { authenticated: false, pathParameters: ProfilePath },
  async ({ pathParameters, requestId }) => {
    const exists = await profiles.exists(pathParameters.id);
    logger.info('Customer lookup', { requestId, exists });
    if (!exists)
      return {
        statusCode: 404,
        body: {
          error: { code: 'CUSTOMER_NOT_FOUND', message: `No customer ${pathParameters.id}`, requestId },
        },
      };
    return { statusCode: 200, body: { id: pathParameters.id, exists: true } };
  },
);
