import { httpRoute } from '../../shared/http';
import { metrics } from '../../shared/powertools';
import { ProfilePath, UpdateProfileInput } from '../domain/profile';
import { profiles } from './dependencies';

/** PUT /profiles/{id} — changes a profile, refusing stale writes when `expectedVersion` is given. */
export const handler = httpRoute(
  { body: UpdateProfileInput, pathParameters: ProfilePath },
  async ({ body, pathParameters, principal }) => {
    const profile = await profiles.update(principal!, pathParameters.id, body);
    metrics.addMetric('ProfileUpdated', 'Count', 1);
    return { statusCode: 200, body: profile };
  },
);
