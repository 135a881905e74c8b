/** What an infrastructure reload changed: two LocalSystems compared, as lines to print. */
import { isDeepStrictEqual } from 'node:util';
import type { LocalRoute, LocalSystem, ResolvedResource } from '../model';

/**
 * Types left out of the comparison: their logical ids carry a hash that changes with every change of what
 * they snapshot (a deployment of the API, a version of a function), and the routes and functions say it better.
 */
const SNAPSHOT_TYPES = new Set(['AWS::ApiGateway::Deployment', 'AWS::Lambda::Version', 'AWS::CDK::Metadata']);

/**
 * What changed from `before` to `after` (the LocalSystems of two provisioning runs into the same emulator),
 * one line each, in the order: routes added and removed, routes whose settings changed (see
 * {@link routeChanges}), then resources added, changed (with the names of
 * the properties that changed) and removed. Empty when nothing did. (A table, queue or user pool removed
 * from the assembly stays in the emulator with what it holds; `ProvisionOptions.previous` deletes rules.)
 */
export function systemChanges(before: LocalSystem, after: LocalSystem): string[] {
  const lines: string[] = [];
  const routeName = (route: LocalRoute) => `${route.method} /${route.service}${route.resourcePath}`;
  const beforeRoutes = new Set(before.routes.map(routeName));
  const afterRoutes = new Set(after.routes.map(routeName));
  for (const route of afterRoutes) if (!beforeRoutes.has(route)) lines.push(`+ route ${route}`);
  for (const route of beforeRoutes) if (!afterRoutes.has(route)) lines.push(`- route ${route}`);
  lines.push(...routeChanges(before, after));

  const byId = (system: LocalSystem) =>
    new Map(
      system.resources
        .filter((resource) => !SNAPSHOT_TYPES.has(resource.type))
        .map((resource) => [`${resource.stackName}/${resource.logicalId}`, resource]),
    );
  const old = byId(before);
  const current = byId(after);
  for (const [id, resource] of current) {
    const previous = old.get(id);
    if (!previous) lines.push(`+ ${id} (${resource.type})`);
    else {
      const changed = changedProperties(previous, resource);
      if (changed.length > 0) lines.push(`~ ${id} (${resource.type}): ${changed.join(', ')}`);
    }
  }
  for (const [id, resource] of old) {
    if (!current.has(id)) lines.push(`- ${id} (${resource.type})`);
  }
  return lines;
}

/** What each setting of a {@link LocalRoute} is called in a change line. */
const ROUTE_SETTINGS: Readonly<Record<string, string>> = {
  requestSchema: 'request model',
  validateBody: 'request validator',
  requiredParameters: 'required parameters',
  authorization: 'authorization',
  functionKey: 'function',
  invokedArn: 'integration',
  stage: 'stage',
};

/**
 * The routes in both systems whose settings changed (request model, validator, required parameters,
 * authorization, function, integration, stage), one line each naming them, e.g.
 * `~ route POST /payments/payments (request model)`.
 */
export function routeChanges(before: LocalSystem, after: LocalSystem): string[] {
  const key = (route: LocalRoute) => `${route.method} /${route.service}${route.resourcePath}`;
  const old = new Map(before.routes.map((route) => [key(route), route]));
  const lines: string[] = [];
  for (const route of after.routes) {
    const previous = old.get(key(route));
    if (!previous) continue;
    const was = previous as unknown as Record<string, unknown>;
    const is = route as unknown as Record<string, unknown>;
    const changed = [...new Set([...Object.keys(was), ...Object.keys(is)])]
      .filter((name) => !isDeepStrictEqual(was[name], is[name]))
      .map((name) => ROUTE_SETTINGS[name] ?? name);
    if (changed.length > 0) lines.push(`~ route ${key(route)} (${changed.join(', ')})`);
  }
  return lines;
}

/** Names of the top-level properties that differ (a type change counts as every property). */
function changedProperties(before: ResolvedResource, after: ResolvedResource): string[] {
  if (before.type !== after.type) return ['Type'];
  const names = new Set([...Object.keys(before.properties), ...Object.keys(after.properties)]);
  return [...names]
    .filter((name) => !isDeepStrictEqual(before.properties[name], after.properties[name]))
    .sort();
}
