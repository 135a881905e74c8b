import type { Duration } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import { HttpMethod } from '../../functions/shared/http-method';
import type { ServiceFunctionOverrides } from './service-function';
import type { ProvisionedConcurrencyScaling } from './provisioned-scaling';
import { requireProvisionedAgreement, validateProvisionedScaling } from './provisioned-scaling';
import { ServiceRegistry } from './service-registry';
import { fail, requireIntegerInRange, requireMatch } from './validation';

// The route model of a microservice: what a route is, who may call it, what it may touch, and the checks that
// make a set of routes one API Gateway accepts.

export { HttpMethod };

/** What a function may do with its service's table (see {@link ServiceTableGrants}). */
export enum AccessMode {
  /** No table access. */
  NONE = 'NONE',
  /** Read items and query indexes. */
  READ = 'READ',
  /** Read and write items. */
  READ_WRITE = 'READ_WRITE',
}

/** Who may call a route. */
export class RouteAccess {
  /** No token needed. Use only for health checks and similar. */
  public static readonly PUBLIC = new RouteAccess([], false);

  /**
   * Other services only: requests signed with SigV4 by an IAM principal allowed `execute-api:Invoke` on the
   * route (see {@link ServiceCall} and {@link IMicroservice.grantInvoke}).
   */
  public static readonly IAM = new RouteAccess([], true);

  /** A Cognito access token carrying at least one of these scopes (names without the resource-server prefix). */
  public static scopes(...scopeNames: string[]): RouteAccess {
    if (scopeNames.length === 0) {
      fail('RouteAccess', 'scopes', scopeNames, 'name at least one scope, or use RouteAccess.PUBLIC');
    }
    return new RouteAccess(scopeNames, false);
  }

  private constructor(
    /** Scope names a token must carry one of (empty for PUBLIC and IAM). */
    public readonly scopeNames: readonly string[],
    /** True for {@link RouteAccess.IAM}. */
    public readonly isIam: boolean,
  ) {}

  /** True for {@link RouteAccess.PUBLIC}. */
  public get isPublic(): boolean {
    return this.scopeNames.length === 0 && !this.isIam;
  }
}

/**
 * A synchronous call from one service's functions to routes of another service, found through the
 * registry: the caller gets the callee's API URL in `{SERVICE}_API_URL` and `execute-api:Invoke` on the
 * matching routes (which use {@link RouteAccess.IAM}), through {@link Microservice.fromRegistry}.
 */
export class ServiceCall {
  /** Calls to `method path` of `service`; the last segment of `path` may be `*`, e.g. `/customers/*`. */
  public static to(service: string, method: HttpMethod, path: string): ServiceCall {
    ServiceRegistry.validateServiceName('ServiceCall', service);
    requireMatch(
      'ServiceCall',
      'path',
      path,
      /^(\/[A-Za-z0-9._-]+)*(\/\*)?$/,
      'start with / and use literal segments, optionally ending in /*',
    );
    return new ServiceCall(service, method, path);
  }

  private constructor(
    /** The called service. */
    public readonly service: string,
    /** The called method. */
    public readonly method: HttpMethod,
    /** The called path (may end in `/*`). */
    public readonly path: string,
  ) {}

  /** The environment variable holding the callee's API URL, e.g. `USERS_API_URL`. */
  public get urlVariable(): string {
    return `${this.service.toUpperCase().replace(/-/g, '_')}_API_URL`;
  }
}

/** Request rate limits (token bucket). */
export interface ThrottleSettings {
  /** Steady-state requests per second. */
  readonly rateLimit: number;
  /** Maximum burst of requests. */
  readonly burstLimit: number;
}

/** One HTTP route of a microservice, served by its own function. */
export interface RouteProps {
  /** HTTP method. */
  readonly method: HttpMethod;
  /** Resource path such as `/profiles/{id}`: segments of letters, digits, `.`, `_`, `-`, or `{param}`. */
  readonly path: string;
  /** Handler file (TypeScript) of the function serving the route. */
  readonly entry: string;
  /** Who may call it. */
  readonly access: RouteAccess;
  /**
   * Exported handler name.
   * @default 'handler'
   */
  readonly handler?: string;
  /**
   * Access the function gets to the service's table.
   * @default AccessMode.NONE
   */
  readonly tableAccess?: AccessMode;
  /**
   * JSON Schema (draft 4) the request body must satisfy; API Gateway rejects others with 400.
   * @default - body not validated at the gateway
   */
  readonly requestSchema?: apigateway.JsonSchema;
  /**
   * Per-route throttling, on top of the stage's.
   * @default - the stage throttle applies
   */
  readonly throttle?: ThrottleSettings;
  /**
   * Whether callers must send an API key (`x-api-key` header) of a usage plan on the stage: mark the routes
   * partner clients call (see {@link MicroserviceProps.partners}). API Gateway then requires a key from every
   * caller of the route, whatever its `access`, and applies the key's plan (throttle, quota) on top of it.
   * @default false
   */
  readonly apiKeyRequired?: boolean;
  /**
   * Function memory in MB.
   * @default - the service's `memorySize`
   */
  readonly memorySize?: number;
  /**
   * Function timeout, at most 29 seconds (API Gateway's integration limit).
   * @default - the service's `timeout`
   */
  readonly timeout?: Duration;
  /**
   * Concurrency reserved for the route's function: a bulkhead that both guarantees it this many
   * executions and caps it there, so one hot or slow route cannot take the account's whole pool.
   * @default - no reservation (shares the account pool)
   */
  readonly reservedConcurrency?: number;
  /**
   * Initialized execution environments kept on the route's `live` alias for bursts without cold starts.
   * @default - none
   */
  readonly provisionedConcurrency?: number;
  /**
   * Marks the route latency-critical: provisioned concurrency on its `live` alias that auto scaling keeps
   * between `minCapacity` and `maxCapacity` at `utilizationTarget` (see {@link ProvisionedConcurrencyScaling}).
   * A `provisionedConcurrency` beside it is the starting value and must lie within the range.
   * @default - none (on-demand scaling, or the fixed `provisionedConcurrency`)
   */
  readonly provisionedScaling?: ProvisionedConcurrencyScaling;
  /**
   * Construct id and registry key of the route's function; keep it stable.
   * @default - derived from method and path, e.g. `GET /profiles/{id}` → `get-profiles-id`
   */
  readonly id?: string;
  /**
   * Extra environment variables for the function.
   * @default - none
   */
  readonly environment?: Record<string, string>;
  /**
   * Query-string parameters the gateway requires (a request without one gets 400).
   * @default - none required
   */
  readonly requiredQueryParameters?: string[];
  /**
   * Routes of other services this route's function calls synchronously.
   * @default - none
   */
  readonly calls?: ServiceCall[];
  /**
   * Lambda function properties for this route's function, merged over the service's `functionProps` (see
   * {@link ServiceFunctionOverrides}: tracing, JSON logs, the Node.js runtime and the bundle cannot be overridden).
   * @default - the service's `functionProps`
   */
  readonly functionProps?: ServiceFunctionOverrides;
}

/** A route whose id is resolved and whose props were checked. */
export interface ResolvedRoute extends RouteProps {
  /** The route's construct id and registry key. */
  readonly id: string;
}

const PATH = /^(\/([A-Za-z0-9._-]+|\{[A-Za-z][A-Za-z0-9_]*\}))+$/;
/** Ids of routes and subscriptions: construct ids and registry keys. */
export const ROUTE_ID = /^[a-z][a-z0-9-]{0,62}$/;
/** API Gateway REST integrations time out after 29 seconds. */
const MAX_ROUTE_TIMEOUT_SECONDS = 29;
/** Scope names as Cognito accepts them. */
const SCOPE_NAME = /^[\x21\x23-\x2E\x30-\x5B\x5D-\x7E]+$/;

/**
 * The routes of one service, checked one at a time as they are added, so that what API Gateway would only
 * refuse at deploy time fails synth naming the prop: a method and path declared twice, sibling path variables
 * with different names, greedy `{proxy+}` variables, timeouts over 29 seconds, ids used twice.
 */
export class RouteSet {
  private readonly resolved: ResolvedRoute[] = [];
  /** The variable path part under each parent path, as API Gateway allows one per level. */
  private readonly variables = new Map<string, { name: string; where: string; path: string }>();

  constructor(
    private readonly serviceName: string,
    /** The service's default function timeout, which a route without its own inherits. */
    private readonly defaultTimeout?: Duration,
  ) {}

  /** The routes added so far. */
  public get routes(): readonly ResolvedRoute[] {
    return this.resolved;
  }

  /**
   * Checks `route` against the others and adds it. `where` names it in errors, e.g. `routes[2]`.
   * `takenIds` are ids used by something else of the service (its subscriptions).
   */
  public add(route: RouteProps, where: string, takenIds: ReadonlySet<string> = new Set()): ResolvedRoute {
    const service = this.serviceName;
    if (/\{[^}]*\+\}/.test(route.path)) {
      fail(
        'Microservice',
        `${where}.path`,
        route.path,
        'greedy path variables such as {proxy+} are not supported: declare each route, served by its own function',
      );
    }
    requireMatch(
      'Microservice',
      `${where}.path`,
      route.path,
      PATH,
      'start with / and use segments of letters, digits, . _ - or {param}',
    );
    if (!Object.values(HttpMethod).includes(route.method)) {
      fail(
        'Microservice',
        `${where}.method`,
        route.method,
        `use one of ${Object.values(HttpMethod).join(', ')}`,
      );
    }
    const twin = this.resolved.find((r) => r.method === route.method && r.path === route.path);
    if (twin) {
      fail(
        'Microservice',
        where,
        `${route.method} ${route.path}`,
        `is declared twice in service "${service}" (also route "${twin.id}"); API Gateway allows one method per path`,
      );
    }
    this.checkVariables(route.path, where);
    const id = route.id ?? routeId(route.method, route.path);
    requireFreeFunctionId(`${where}.id`, id, takenIds.has(id) || this.resolved.some((r) => r.id === id));
    for (const scope of route.access.scopeNames) {
      requireMatch(
        'Microservice',
        `${where}.access scope`,
        scope,
        SCOPE_NAME,
        'printable ASCII without spaces, quotes, / or \\',
      );
    }
    const timeout = route.timeout ?? this.defaultTimeout;
    if (timeout && timeout.toSeconds() > MAX_ROUTE_TIMEOUT_SECONDS) {
      fail(
        'Microservice',
        route.timeout ? `${where}.timeout` : 'timeout',
        `${timeout.toSeconds()}s`,
        `API Gateway integrations time out after ${MAX_ROUTE_TIMEOUT_SECONDS} seconds`,
      );
    }
    requireIntegerInRange('Microservice', `${where}.memorySize`, route.memorySize, 128, 10240);
    requireIntegerInRange(
      'Microservice',
      `${where}.reservedConcurrency`,
      route.reservedConcurrency,
      0,
      100000,
    );
    requireIntegerInRange(
      'Microservice',
      `${where}.provisionedConcurrency`,
      route.provisionedConcurrency,
      1,
      100000,
    );
    if (route.throttle) validateThrottle('Microservice', `${where}.throttle`, route.throttle);
    if (route.provisionedScaling) {
      validateProvisionedScaling('Microservice', `${where}.provisionedScaling`, route.provisionedScaling);
      requireProvisionedAgreement(
        'Microservice',
        `${where}.provisionedConcurrency`,
        route.provisionedConcurrency,
        `${where}.provisionedScaling`,
        route.provisionedScaling,
      );
    }
    const resolved = { ...route, id };
    this.resolved.push(resolved);
    return resolved;
  }

  /** API Gateway allows one variable path part per level: `{id}` and `{paymentId}` cannot be siblings. */
  private checkVariables(routePath: string, where: string): void {
    const segments = routePath.split('/').slice(1);
    segments.forEach((segment, depth) => {
      if (!segment.startsWith('{')) return;
      const parent = `/${segments.slice(0, depth).join('/')}`;
      const name = segment.slice(1, -1);
      const sibling = this.variables.get(parent);
      if (!sibling) {
        this.variables.set(parent, { name, where, path: routePath });
      } else if (sibling.name !== name) {
        fail(
          'Microservice',
          `${where}.path`,
          routePath,
          `service "${this.serviceName}": its path parameter {${name}} is a sibling of {${sibling.name}} in ${sibling.where}.path "${sibling.path}"; API Gateway allows one variable path part per level (the deployment fails with "A sibling ({${sibling.name}}) of this resource already has a variable path part"), so give both the same name`,
        );
      }
    });
  }
}

/** Fails unless `throttle` is a positive rate and a whole burst of at least 1. */
export function validateThrottle(construct: string, prop: string, throttle: ThrottleSettings): void {
  if (!(throttle.rateLimit > 0))
    fail(construct, `${prop}.rateLimit`, throttle.rateLimit, 'must be greater than 0');
  if (!Number.isInteger(throttle.burstLimit) || throttle.burstLimit < 1) {
    fail(construct, `${prop}.burstLimit`, throttle.burstLimit, 'must be a whole number of at least 1');
  }
}

/** `GET /profiles/{id}` → `get-profiles-id`. */
export function routeId(method: HttpMethod, routePath: string): string {
  const words = routePath
    .split('/')
    .filter(Boolean)
    .map((s) =>
      s
        .replace(/[{}]/g, '')
        .replace(/[^A-Za-z0-9]+/g, '-')
        .toLowerCase(),
    );
  return [method.toLowerCase(), ...words].join('-');
}

/**
 * Checks the id of a service's function (a route's or a subscription's, prop `prop`): the {@link ROUTE_ID}
 * pattern, and not `taken` by another route or subscription of the service.
 */
export function requireFreeFunctionId(prop: string, id: string, taken: boolean): void {
  requireMatch(
    'Microservice',
    prop,
    id,
    ROUTE_ID,
    'use a lowercase letter then lowercase letters, digits or hyphens',
  );
  if (taken) fail('Microservice', prop, id, 'is used by another route or subscription');
}
