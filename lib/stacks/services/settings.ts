import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type { ServiceSettings } from '../../config/api-limits';
import type { EnvironmentConfig } from '../../config/environments';
import type { PartnerPlan } from '../../constructs/partner-access';
import type { RouteProps } from '../../constructs/route';
import type { ServiceDefinition } from '../service-stack';

/**
 * Applies the environment's front door and per-service settings (`domain`, `services.<name>`: stage throttle,
 * per-route throttles and API keys, partners) to the services' definitions. A service or route the configuration
 * names but the system does not define fails with the key and the names that exist.
 */
export function applyServiceSettings(
  config: EnvironmentConfig,
  definitions: ServiceDefinition[],
): ServiceDefinition[] {
  const known = definitions.map((d) => d.serviceName);
  const problems: string[] = [];
  for (const name of Object.keys(config.services ?? {})) {
    if (!known.includes(name)) {
      problems.push(`  services.${name}: no such service; the services are ${known.join(', ')}`);
    }
  }
  const applied = definitions.map((definition) =>
    applyTo(config, definition, config.services?.[definition.serviceName], problems),
  );
  if (problems.length > 0) {
    throw new Error(`Invalid configuration for environment "${config.envName}":\n${problems.join('\n')}`);
  }
  return applied;
}

function applyTo(
  config: EnvironmentConfig,
  definition: ServiceDefinition,
  settings: ServiceSettings | undefined,
  problems: string[],
): ServiceDefinition {
  const service = definition.serviceName;
  const routes = definition.routes ?? [];
  const keyOf = (route: RouteProps): string => `${route.method} ${route.path}`;
  for (const key of Object.keys(settings?.routes ?? {})) {
    if (!routes.some((route) => keyOf(route) === key)) {
      problems.push(
        `  services.${service}.routes["${key}"]: no such route of service "${service}"; its routes are ${routes.map((r) => `"${keyOf(r)}"`).join(', ')}`,
      );
    }
  }
  const partners: PartnerPlan[] | undefined = settings?.partners?.map((partner) => ({
    name: partner.name,
    throttle: partner.throttle,
    quota: partner.quota && {
      limit: partner.quota.limit,
      period: apigateway.Period[partner.quota.period],
    },
  }));
  return {
    ...definition,
    ...(settings?.throttle ? { throttle: settings.throttle } : {}),
    ...(settings?.routes
      ? {
          routes: routes.map((route) => {
            const routeSettings = settings.routes?.[keyOf(route)];
            if (!routeSettings) return route;
            return {
              ...route,
              ...(routeSettings.throttle ? { throttle: routeSettings.throttle } : {}),
              ...(routeSettings.apiKeyRequired !== undefined
                ? { apiKeyRequired: routeSettings.apiKeyRequired }
                : {}),
            };
          }),
        }
      : {}),
    ...(partners && partners.length > 0 ? { partners } : {}),
    // The domain is found by name in the platform's registry entries, not through a stack export.
    ...(config.domain ? { frontDoor: {} } : {}),
  };
}
