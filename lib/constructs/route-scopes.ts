import type { IPlatform } from './platform';
import type { HttpMethod, ResolvedRoute } from './route';
import { invalid } from './validation';

/**
 * Construct metadata type under which a {@link Microservice} records the scopes its routes require, for tools
 * that read the cloud assembly (the local runtime's stand-in platform and `check`): in `manifest.json`, the
 * stack's metadata at the service's path holds `{ type: ROUTE_SCOPES_METADATA, data: RouteScopes }`.
 */
export const ROUTE_SCOPES_METADATA = 'cdk-microservices:route-scopes';

/** What {@link ROUTE_SCOPES_METADATA} records: the platform a service attaches to and its routes' scopes. */
export interface RouteScopes {
  /** Application name of the platform. */
  readonly appName: string;
  /** Environment name of the platform. */
  readonly envName: string;
  /** The service. */
  readonly serviceName: string;
  /** Every scope name the routes require, sorted, without the resource-server prefix. */
  readonly scopes: string[];
  /** Each route protected by scopes, with the scope names it accepts (a token needs one of them). */
  readonly routes: Array<{ readonly method: HttpMethod; readonly path: string; readonly scopes: string[] }>;
}

/** The record of {@link ROUTE_SCOPES_METADATA} for `routes`. */
export function routeScopesOf(
  serviceName: string,
  platform: IPlatform,
  routes: readonly ResolvedRoute[],
): RouteScopes {
  const protectedRoutes = routes
    .filter((route) => route.access.scopeNames.length > 0)
    .map((route) => ({ method: route.method, path: route.path, scopes: [...route.access.scopeNames] }));
  return {
    appName: platform.appName,
    envName: platform.envName,
    serviceName,
    scopes: [...new Set(protectedRoutes.flatMap((route) => route.scopes))].sort(),
    routes: protectedRoutes,
  };
}

/**
 * One message per scope of `route` that `declared` lacks, naming the route (`where`), the scope and the
 * declared ones.
 */
export function undeclaredScopes(
  serviceName: string,
  platform: IPlatform,
  route: ResolvedRoute,
  where: string,
  declared: readonly string[],
): string[] {
  return route.access.scopeNames
    .filter((scope) => !declared.includes(scope))
    .map((scope) =>
      invalid(
        'Microservice',
        `${where}.access`,
        scope,
        `${route.method} ${route.path} of service "${serviceName}" requires a scope that platform ${platform.appName}/${platform.envName} does not declare (declared: ${declared.join(', ') || 'none'}); add it to the platform's scopes or use a declared one`,
      ),
    );
}
