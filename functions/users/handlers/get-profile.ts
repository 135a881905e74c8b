import { httpRoute } from '../../shared/http';
import { ProfilePath } from '../domain/profile';
import { profiles } from './dependencies';

/** GET /profiles/{id} — the caller's own profile (`me` or their id), or any profile for admins. */
export const handler = httpRoute({ pathParameters: ProfilePath }, async ({ pathParameters, principal }) => {
  const profile = await profiles.get(principal!, pathParameters.id);
  return { statusCode: 200, body: profile };
});
