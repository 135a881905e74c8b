import { httpRoute } from '../../shared/http';
import { metrics } from '../../shared/powertools';
import { CreateProfileInput } from '../domain/profile';
import { profiles } from './dependencies';

/** POST /profiles — creates the caller's profile. */
export const handler = httpRoute({ body: CreateProfileInput }, async ({ body, principal, basePath }) => {
  const profile = await profiles.create(principal!, body);
  metrics.addMetric('ProfileCreated', 'Count', 1);
  return { statusCode: 201, body: profile, headers: { location: `${basePath}/profiles/${profile.id}` } };
});
