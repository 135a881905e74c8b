import { httpRoute } from '../../shared/http';

/** GET /health — public liveness check: the API, the function and its configuration are up. */
export const handler = httpRoute({ authenticated: false }, async () => ({
  statusCode: 200,
  body: { status: 'ok', service: process.env.POWERTOOLS_SERVICE_NAME, environment: process.env.ENV_NAME },
}));
