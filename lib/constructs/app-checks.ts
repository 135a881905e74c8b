import type { EventType } from './event-type';
import type { IPlatform } from './platform';
import type { ResolvedRoute } from './route';
import { undeclaredScopes } from './route-scopes';
import { invalid } from './validation';

/** What {@link checkAgainstApp} needs to know of a service of the app. */
export interface AppServiceView {
  readonly serviceName: string;
  readonly platform: IPlatform;
  readonly publishedEvents: readonly EventType[];
}

/** One service, as {@link checkAgainstApp} checks it: its routes and subscriptions with the label of each. */
export interface CheckedService extends AppServiceView {
  readonly routes: ReadonlyArray<{ readonly route: ResolvedRoute; readonly where: string }>;
  readonly subscriptions: ReadonlyArray<{
    readonly eventTypes: readonly EventType[];
    readonly where: string;
  }>;
}

/** Whether two platforms are the same application and environment (so one app's services attach to both). */
export function sameEnvironment(a: IPlatform, b: IPlatform): boolean {
  return a.appName === b.appName && a.envName === b.envName;
}

/**
 * What only the whole app knows, checked when it synthesizes: the service has a route; when it attaches by name
 * to a platform defined in this app (`platformScopes`: the scopes those platforms declare), its routes' scopes
 * are declared there; when a subscribed event's producer is a service of this app (`services`), that service
 * publishes it. Returns one message per problem.
 */
export function checkAgainstApp(
  service: CheckedService,
  platformScopes: readonly string[] | undefined,
  services: readonly AppServiceView[],
): string[] {
  const { platform, serviceName } = service;
  const errors: string[] = [];
  if (service.routes.length === 0) {
    errors.push(
      invalid(
        'Microservice',
        'routes',
        [],
        `service "${serviceName}" has no route: declare routes or call addRoute`,
      ),
    );
  }
  if (platformScopes) {
    for (const { route, where } of service.routes) {
      errors.push(...undeclaredScopes(serviceName, platform, route, where, platformScopes));
    }
  }
  for (const { eventTypes, where } of service.subscriptions) {
    eventTypes.forEach((event, j) => {
      const producer = services.find(
        (s) => sameEnvironment(s.platform, platform) && s.serviceName === event.producer,
      );
      if (!producer || producer.publishedEvents.some((published) => published.equals(event))) return;
      const theirs = producer.publishedEvents.map((e) => `${e.name} v${e.version}`).join(', ') || 'none';
      errors.push(
        invalid(
          'Microservice',
          `${where}.events[${j}]`,
          `${event} v${event.version}`,
          `service "${serviceName}" subscribes to an event that service "${producer.serviceName}" of this app (${platform.appName}/${platform.envName}) does not publish (its publishes: ${theirs})`,
        ),
      );
    });
  }
  return errors;
}
