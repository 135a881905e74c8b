/**
 * The local runtime's API Gateway: composes the parts under `local/gateway/` (HTTP server and limits, routing,
 * Cognito and IAM authorizers, request validation, Lambda proxy integration, gateway responses).
 */
import type { EmulatorEndpoint, Invoke, LocalGatewayResponse, LocalIdentity, LocalRoute } from './model';
import type { WebAclGuard } from './waf';
import { describeError } from './gateway/access-log';
import type { Authorization } from './gateway/authorization';
import { LOCAL_ACCOUNT } from './gateway/authorization';
import { CognitoAuthorizer } from './gateway/cognito';
import { GatewayServer } from './gateway/http-server';
import type { GatewayIam } from './gateway/iam';
import { authorizeIam } from './gateway/iam';
import { invokeIntegration } from './gateway/integration';
import { checkApiKey } from './gateway/api-keys';
import { checkMethodArn } from './gateway/limits';
import { proxyEvent } from './gateway/proxy-event';
import type { IncomingRequest } from './gateway/request';
import { firstSegment } from './gateway/request';
import type { HttpReply, Rejection } from './gateway/responses';
import { GatewayResponses } from './gateway/responses';
import { RouteTable } from './gateway/routing';
import { RequestValidator } from './gateway/validation';

export type { GatewayIam } from './gateway/iam';

/** Options of {@link LocalApiGateway}. */
export interface LocalApiGatewayOptions {
  /** Every route of every service. */
  readonly routes: readonly LocalRoute[];
  /** The gateway responses (error templates) of every service. */
  readonly gatewayResponses: readonly LocalGatewayResponse[];
  /** The user pool and its client; tokens of this client skip the client lookup. */
  readonly identity?: LocalIdentity;
  /** The emulator: serves the pools' JWKS and holds the credentials IAM-signed requests must use. */
  readonly emulator: EmulatorEndpoint;
  /** Runs a route's function. */
  readonly invoke: Invoke;
  /**
   * Port to listen on; 0 picks a free one.
   * @default 3000
   */
  readonly port?: number;
  /**
   * Address to listen on (loopback only).
   * @default '127.0.0.1'
   */
  readonly host?: '127.0.0.1';
  /**
   * Scopes a pre-token-generation trigger would add to an access token with these claims (the emulator
   * does not run Cognito triggers). Called once per token and cached for up to 5 minutes, like API
   * Gateway's authorizer cache.
   */
  readonly extraScopes?: (claims: Record<string, unknown>) => Promise<string[]>;
  /**
   * IAM as AWS enforces it at the gateway: who signs with an access key (SigV4 callers of `AWS_IAM` routes need
   * `execute-api:Invoke` on the method ARN), and whether the route's function lets API Gateway invoke it.
   * @default - only the emulator's credentials sign IAM routes, and they may call every IAM route
   */
  readonly iam?: GatewayIam;
  /**
   * The web ACLs associated with the services' API stages (local/waf.ts), evaluated before routing and
   * authorization; a request they do not allow gets the API's WAF_FILTERED response.
   * @default - no web ACL is evaluated (enforcement off)
   */
  readonly waf?: Pick<WebAclGuard, 'inspect'>;
  /** Receives one access-log line per request and any integration errors. */
  readonly log?: (line: string) => void;
  /**
   * Called with each request answered after its body was read (e.g. by the local alarms: API Count, 5XXError,
   * 4XXError, Latency): the service its path names, the status and the milliseconds it took. Must be cheap.
   * @default - nothing
   */
  readonly onResponse?: (service: string, status: number, latencyMs: number) => void;
}

/** Where a started {@link LocalApiGateway} listens. */
export interface LocalApiGatewayAddress {
  /** e.g. `http://127.0.0.1:3000` (routes are under `/{service}/...`). */
  readonly url: string;
  /** The port bound (the one asked for, or the free one picked for 0). */
  readonly port: number;
}

/**
 * API Gateway (REST API, Lambda proxy integration) on a loopback port for the local runtime: serves every
 * service's routes at `/{service}/{path}` (and `/{service}/{stage}/{path}`), checks Cognito access tokens
 * against the emulator's JWKS and the route's scopes, checks SigV4 signatures of IAM routes against the
 * emulator's credentials, checks the `x-api-key` of routes that require an API key against the usage plans' keys,
 * validates required parameters and JSON bodies, invokes the route's function with
 * an API Gateway proxy event and renders the services' gateway responses for everything it rejects.
 */
export class LocalApiGateway {
  private readonly options: LocalApiGatewayOptions;
  private readonly log: (line: string) => void;
  private readonly routes: RouteTable;
  private readonly responses: GatewayResponses;
  /** Each route's validation (its body model compiled once); none for a model Ajv cannot compile. */
  private readonly validators = new Map<LocalRoute, RequestValidator>();
  private readonly cognito: CognitoAuthorizer;
  private readonly server: GatewayServer;

  /**
   * Compiles the routes and the request models.
   * @param options - routes, responses, emulator, invoker and enforcement
   */
  constructor(options: LocalApiGatewayOptions) {
    this.options = options;
    const log = options.log ?? (() => undefined);
    this.log = log;
    this.routes = new RouteTable(options.routes);
    this.responses = new GatewayResponses(options.gatewayResponses, this.routes.serviceNames);
    for (const route of options.routes) {
      try {
        this.validators.set(route, new RequestValidator(route));
      } catch (error) {
        // API Gateway would refuse to deploy such a model; locally the route serves without body validation.
        log(
          `${route.method} ${route.resourcePath} (${route.service}): request model not validated: ` +
            describeError(error),
        );
        this.validators.set(route, new RequestValidator({ ...route, validateBody: false }));
      }
    }
    this.cognito = new CognitoAuthorizer({
      emulator: options.emulator,
      identity: options.identity,
      extraScopes: options.extraScopes,
      log,
    });
    const observe = options.onResponse;
    this.server = new GatewayServer({
      route: observe ? (request) => this.observed(request, observe) : (request) => this.route(request),
      reject: (service, request, route, rejection) =>
        this.responses.reject(service, request, route, rejection),
      log,
    });
  }

  /** Starts listening; resolves with the base URL once the port is bound. */
  public async start(): Promise<LocalApiGatewayAddress> {
    const { host, port } = await this.server.start(
      this.options.port ?? 3000,
      this.options.host ?? '127.0.0.1',
    );
    return { url: `http://${host}:${port}`, port };
  }

  /** Stops listening and closes every open connection (the emulator's included). */
  public async stop(): Promise<void> {
    await this.server.stop();
    this.cognito.close();
  }

  /** {@link route}, telling `observe` the status and latency of what a known service answered. */
  private async observed(
    request: IncomingRequest,
    observe: NonNullable<LocalApiGatewayOptions['onResponse']>,
  ): Promise<HttpReply> {
    const started = performance.now();
    const service = firstSegment(request.calledPath);
    try {
      const reply = await this.route(request);
      observe(service, reply.status, performance.now() - started);
      return reply;
    } catch (error) {
      observe(service, 500, performance.now() - started);
      throw error;
    }
  }

  /** WAF, routing, authorization, validation and integration of one request, as API Gateway orders them. */
  private async route(request: IncomingRequest): Promise<HttpReply> {
    const service = firstSegment(request.calledPath);
    if (!this.routes.has(service)) return this.responses.unknownService(service, request);
    const reject = (rejection: Rejection, route?: LocalRoute) =>
      this.responses.reject(service, request, route, rejection);
    const blocked = this.options.waf?.inspect(service, request);
    if (blocked) return reject(blocked);
    const match = this.routes.match(service, request.method, request.calledPath.slice(service.length + 1));
    const route = match?.route;
    if (!match || !route) {
      return reject({
        types: ['MISSING_AUTHENTICATION_TOKEN'],
        message: 'Missing Authentication Token',
        status: 403,
        reason: match ? `no ${request.method} method on this resource` : 'no such resource',
      });
    }

    if (route.authorization.type !== 'NONE') {
      const arn =
        `arn:aws:execute-api:${this.options.emulator.region}:${LOCAL_ACCOUNT}:local-${service}/` +
        `${route.stage}/${request.method}${match.path}`;
      const tooLong = checkMethodArn(arn);
      if (tooLong) return reject(tooLong, route);
    }

    const authorization = await this.authorize(route, request);
    if (!authorization.ok) return reject(authorization.rejection, route);

    const keyRefused = checkApiKey(route, request);
    if (keyRefused) return reject(keyRefused, route);

    const invalid = this.validators.get(route)?.validate(request, match.pathParameters);
    if (invalid) return reject(invalid, route);

    const event = proxyEvent(route, request, match, authorization);
    return invokeIntegration(
      { invoke: this.options.invoke, iam: this.options.iam, responses: this.responses, log: this.log },
      route,
      request,
      event,
    );
  }

  private async authorize(route: LocalRoute, request: IncomingRequest): Promise<Authorization> {
    const { authorization } = route;
    switch (authorization.type) {
      case 'NONE':
        return { ok: true };
      case 'AWS_IAM':
        return authorizeIam(route, request, this.options.emulator, this.options.iam);
      case 'COGNITO_USER_POOLS':
        return this.cognito.authorize(authorization.userPoolId, authorization.scopes, request);
      default:
        return {
          ok: false,
          rejection: {
            types: ['AUTHORIZER_CONFIGURATION_ERROR'],
            message: 'Internal server error',
            status: 500,
            reason: `unsupported authorization ${JSON.stringify(authorization)}`,
          },
        };
    }
  }
}
