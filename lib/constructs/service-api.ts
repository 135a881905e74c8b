import { Lazy, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { addGatewayErrorResponses } from './gateway-responses';
import { mergeOverrides, requireNoConflict } from './overrides';
import { grantRouteInvoke } from './service-call-grant';
import type { HttpMethod, ResolvedRoute, RouteAccess, ThrottleSettings } from './route';
import { fail, requireMatch } from './validation';

/**
 * REST API properties a service may set over the {@link ServiceApi} defaults. X-Ray tracing, JSON access logs to
 * the service's log group, no request/response body logging, per-route authorization and TLS 1.2 on a custom
 * domain cannot be switched off: an override that tries fails synth naming the prop. The account's CloudWatch
 * role (see {@link ApiGatewayAccount}) and the deployment stay the construct's.
 */
export type ServiceApiOverrides = Partial<
  Omit<apigateway.RestApiProps, 'cloudWatchRole' | 'cloudWatchRoleRemovalPolicy' | 'deploy'>
>;

/** Properties of {@link ServiceApi}. */
export interface ServiceApiProps {
  /** Name of the REST API. */
  readonly restApiName: string;
  /** Description of the REST API. */
  readonly description: string;
  /** Where the stage writes its JSON access log. */
  readonly accessLogGroup: logs.ILogGroup;
  /**
   * Stage name (the first path segment of the URL).
   * @default 'v1'
   */
  readonly stageName?: string;
  /**
   * Stage-wide throttling.
   * @default { rateLimit: 100, burstLimit: 200 }
   */
  readonly throttle?: ThrottleSettings;
  /**
   * REST API properties merged over these defaults, with the must-haves applied last.
   * @default - none
   */
  readonly restApiProps?: ServiceApiOverrides;
}

/** How {@link ServiceApi.addRoute} authorizes a route. */
export interface RouteAuthorization {
  /**
   * The Cognito authorizer of scope-protected routes.
   * @default - none (the route must be PUBLIC or IAM)
   */
  readonly authorizer?: apigateway.IAuthorizer;
  /**
   * Prefix of the route's scopes on the wire: the resource server identifier (`{identifier}/{scope}`).
   * @default - none (the route must be PUBLIC or IAM)
   */
  readonly resourceServerIdentifier?: string;
}

/** The stage-wide throttle when a service sets none. */
export const DEFAULT_THROTTLE: ThrottleSettings = { rateLimit: 100, burstLimit: 200 };

/**
 * A service's REST API: regional, X-Ray tracing, metrics, JSON access logs, stage throttling with per-route
 * limits, request validation (bodies against JSON Schema models, required parameters) and gateway errors in the
 * handlers' `{ "error": { "code", "message" } }` shape. Routes are added one at a time with {@link addRoute}.
 */
export class ServiceApi extends apigateway.RestApi {
  /** Validates bodies and parameters of every route. */
  public readonly requestValidator: apigateway.RequestValidator;
  private readonly routeThrottles: apigateway.CfnStage.MethodSettingProperty[] = [];

  constructor(scope: Construct, id: string, props: ServiceApiProps) {
    super(scope, id, consolidate(props));
    addGatewayErrorResponses(this);
    this.requestValidator = this.addRequestValidator('RequestValidator', {
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    // Per-route throttles are stage method settings; routes added after the stage exist are rendered lazily.
    const stage = this.deploymentStage.node.defaultChild as apigateway.CfnStage;
    const rendered = (stage.methodSettings ?? []) as apigateway.CfnStage.MethodSettingProperty[];
    stage.methodSettings = Lazy.any({
      produce: () => {
        const all = [...rendered, ...this.routeThrottles];
        return all.length > 0 ? all : undefined;
      },
    });
  }

  /** Adds `route`, served by `handler` (usually the route function's `live` alias). */
  public addRoute(
    route: ResolvedRoute,
    handler: lambda.IFunction,
    authorization: RouteAuthorization = {},
  ): apigateway.Method {
    const resource = this.root.resourceForPath(route.path);
    const pathParameters = route.path.match(/\{[^}]+\}/g) ?? [];
    const model = modelName(route.id);
    const method = resource.addMethod(
      route.method,
      new apigateway.LambdaIntegration(handler, { allowTestInvoke: false }),
      {
        operationName: route.id,
        requestValidator: this.requestValidator,
        requestParameters: Object.fromEntries([
          ...pathParameters.map((p) => [`method.request.path.${p.slice(1, -1)}`, true] as const),
          ...(route.requiredQueryParameters ?? []).map(
            (q) => [`method.request.querystring.${q}`, true] as const,
          ),
        ]),
        requestModels: route.requestSchema
          ? {
              'application/json': this.addModel(`${model}Model`, {
                contentType: 'application/json',
                modelName: `${model}Request`,
                schema: route.requestSchema,
              }),
            }
          : undefined,
        ...authorizationOf(route, authorization),
        ...(route.apiKeyRequired ? { apiKeyRequired: true } : {}),
      },
    );
    if (route.throttle) {
      this.routeThrottles.push({
        httpMethod: route.method,
        resourcePath: `/~1${route.path.slice(1).split('/').join('~1')}`,
        dataTraceEnabled: false,
        throttlingBurstLimit: route.throttle.burstLimit,
        throttlingRateLimit: route.throttle.rateLimit,
      });
    }
    if (route.access.isIam) {
      Validations.of(method).acknowledge({
        id: 'AwsSolutions-COG4',
        reason: `${route.method} ${route.path} is RouteAccess.IAM: only SigV4-signed callers granted execute-api:Invoke on it (other services) may call it; it is not for end users.`,
      });
    }
    if (route.access.isPublic) {
      const reason = `${route.method} ${route.path} is declared RouteAccess.PUBLIC (health check): it returns no data and is rate limited by the stage throttle and WAF.`;
      Validations.of(method).acknowledge(
        { id: 'AwsSolutions-APIG4', reason },
        { id: 'AwsSolutions-COG4', reason },
      );
    }
    return method;
  }

  /**
   * The ARN of `method path` on `stage` (any stage by default), for `execute-api:Invoke`; path parameters and a
   * trailing `*` match any value.
   */
  public routeArn(method: HttpMethod, path: string, stage = '*'): string {
    return this.arnForExecuteApi(method, path.replace(/\{[^}]+\}/g, '*'), stage);
  }

  /** Allows `grantee` to call `method path` of this API (a route with {@link RouteAccess.IAM}), on any stage. */
  public grantInvoke(grantee: iam.IGrantable, method: HttpMethod, path: string): iam.Grant {
    return grantRouteInvoke(grantee, this.routeArn(method, path), { api: this.restApiName, method, path });
  }
}

/** API Gateway authorization settings of a route. */
function authorizationOf(
  route: { readonly access: RouteAccess; readonly method: string; readonly path: string },
  { authorizer, resourceServerIdentifier }: RouteAuthorization,
): Pick<apigateway.MethodOptions, 'authorizationType' | 'authorizer' | 'authorizationScopes'> {
  const { access } = route;
  if (access.isPublic) return { authorizationType: apigateway.AuthorizationType.NONE };
  if (access.isIam) return { authorizationType: apigateway.AuthorizationType.IAM };
  if (!authorizer || resourceServerIdentifier === undefined) {
    fail(
      'ServiceApi',
      'addRoute authorization',
      `${route.method} ${route.path}`,
      'a scope-protected route needs the Cognito authorizer and resource server identifier',
    );
  }
  return {
    authorizationType: apigateway.AuthorizationType.COGNITO,
    authorizer,
    authorizationScopes: access.scopeNames.map((scope) => `${resourceServerIdentifier}/${scope}`),
  };
}

/** The REST API's properties: defaults, then the typed props, then `restApiProps`, then the must-haves. */
function consolidate(props: ServiceApiProps): apigateway.RestApiProps {
  const construct = 'Microservice';
  const overrides = props.restApiProps ?? {};
  const deployOverrides = overrides.deployOptions ?? {};
  if (props.stageName !== undefined) {
    requireMatch(
      construct,
      'stageName',
      props.stageName,
      /^[A-Za-z0-9_]{1,128}$/,
      'letters, digits and underscores only',
    );
  }
  requireNoConflict(
    construct,
    'stageName',
    props.stageName,
    'restApiProps.deployOptions.stageName',
    deployOverrides.stageName,
  );
  requireNoConflict(
    construct,
    'throttle.rateLimit',
    props.throttle?.rateLimit,
    'restApiProps.deployOptions.throttlingRateLimit',
    deployOverrides.throttlingRateLimit,
  );
  requireNoConflict(
    construct,
    'throttle.burstLimit',
    props.throttle?.burstLimit,
    'restApiProps.deployOptions.throttlingBurstLimit',
    deployOverrides.throttlingBurstLimit,
  );
  const throttle = props.throttle ?? DEFAULT_THROTTLE;
  for (const [path, options] of Object.entries(deployOverrides.methodOptions ?? {})) {
    if (options.dataTraceEnabled) {
      fail(
        construct,
        `restApiProps.deployOptions.methodOptions["${path}"].dataTraceEnabled`,
        true,
        'request and response bodies are never logged: they hold personal data and tokens',
      );
    }
  }
  const authorization = overrides.defaultMethodOptions;
  if (
    authorization?.authorizationType !== undefined ||
    authorization?.authorizer ||
    authorization?.authorizationScopes
  ) {
    fail(
      construct,
      'restApiProps.defaultMethodOptions',
      'authorization settings',
      "each route's access (RouteAccess) decides its authorization",
    );
  }
  const accessLogDestination = new apigateway.LogGroupLogDestination(props.accessLogGroup);
  const deployOptions = mergeOverrides<apigateway.StageOptions>(
    construct,
    'restApiProps.deployOptions',
    {
      stageName: props.stageName ?? 'v1',
      metricsEnabled: true,
      loggingLevel: apigateway.MethodLoggingLevel.ERROR,
      throttlingRateLimit: throttle.rateLimit,
      throttlingBurstLimit: throttle.burstLimit,
      accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields({
        caller: true,
        httpMethod: true,
        ip: true,
        protocol: true,
        requestTime: true,
        resourcePath: true,
        responseLength: true,
        status: true,
        user: true,
      }),
    },
    deployOverrides,
    {
      tracingEnabled: { value: true, why: 'every service API is traced with X-Ray' },
      dataTraceEnabled: {
        value: false,
        why: 'request and response bodies are never logged: they hold personal data and tokens',
      },
      accessLogDestination: {
        value: accessLogDestination,
        why: "access logs go to the service's access log group (its retention and removal follow the service)",
      },
    },
  );
  const merged = mergeOverrides<apigateway.RestApiProps>(
    construct,
    'restApiProps',
    {
      restApiName: props.restApiName,
      description: props.description,
      endpointConfiguration: { types: [apigateway.EndpointType.REGIONAL] },
    },
    { ...overrides, deployOptions: undefined },
    {},
  );
  if (merged.domainName?.securityPolicy === apigateway.SecurityPolicy.TLS_1_0) {
    fail(
      construct,
      'restApiProps.domainName.securityPolicy',
      'TLS_1_0',
      'clients connect with TLS 1.2 or later',
    );
  }
  return {
    ...merged,
    domainName: merged.domainName
      ? {
          ...merged.domainName,
          securityPolicy: merged.domainName.securityPolicy ?? apigateway.SecurityPolicy.TLS_1_2,
        }
      : undefined,
    cloudWatchRole: false,
    deployOptions,
  };
}

/** `get-profiles-id` → `GetProfilesId` (the route's request model name). */
function modelName(id: string): string {
  return id
    .split('-')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
}
