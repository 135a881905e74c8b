import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { DataProtection, removalPolicyFor } from './data-protection';
import type { EventContract } from '../../functions/shared/events/contract';
import { eventTypesOf } from './event-contracts';
import { EventType } from './event-type';
import { EventSubscription } from './event-subscription';
import type { IPlatform } from './platform';
import { Platform } from './platform';
import { RegistryEntries, ServiceRegistry } from './service-registry';
import type { LogLevel } from './service-function';
import { FunctionBundler } from './function-bundler';
import { ServiceFunction } from './service-function';
import { TransactionalOutbox } from './transactional-outbox';
import { OutboxAttribute } from '../../functions/shared/events/outbox-format';
import { fail, invalid, nagResourceName, requireIntegerInRange, requireMatch } from './validation';
import * as iam from 'aws-cdk-lib/aws-iam';

/** HTTP methods a route can use. */
export enum HttpMethod {
  GET = 'GET',
  POST = 'POST',
  PUT = 'PUT',
  PATCH = 'PATCH',
  DELETE = 'DELETE',
}

/** What a route's function may do with the service's table. */
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
   * route (see {@link ServiceCall}).
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
 * matching routes (which use {@link RouteAccess.IAM}).
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

/** An asynchronous consumer of a microservice (see {@link EventSubscription}). */
export interface SubscriptionDefinition {
  /** Construct id and name of the consumer, e.g. `reserve-stock`; keep it stable. */
  readonly id: string;
  /**
   * Contracts of the events delivered to it, e.g. `[OrderPlaced, OrderCancelled]` imported from the
   * producers' contracts (`cdk-microservices/contracts` for the reference system's). The rule matches each
   * contract's producer and type. When the producing service is in the same app, synth fails unless it
   * lists the contract in its `publishes`.
   */
  readonly events: EventContract[];
  /** Handler file of the consumer. */
  readonly entry: string;
  /**
   * Access the consumer gets to the service's table.
   * @default AccessMode.READ_WRITE
   */
  readonly tableAccess?: AccessMode;
  /**
   * Messages per invocation.
   * @default 10
   */
  readonly batchSize?: number;
  /**
   * Maximum concurrent invocations (bulkhead), 2-1000.
   * @default 5
   */
  readonly maxConcurrency?: number;
  /**
   * Receives before a message is parked in the dead-letter queue.
   * @default 5
   */
  readonly maxReceiveCount?: number;
  /**
   * Consumer timeout.
   * @default Duration.seconds(30)
   */
  readonly timeout?: Duration;
  /**
   * Consumer memory in MB.
   * @default 256
   */
  readonly memorySize?: number;
}

/** Throughput of a microservice's on-demand table. */
export interface TableThroughput {
  /**
   * Read units per second the table serves at once, without ramping up (DynamoDB warm throughput).
   * @default - what DynamoDB has provisioned for the table so far
   */
  readonly warmReadUnitsPerSecond?: number;
  /**
   * Write units per second the table serves at once, without ramping up (DynamoDB warm throughput).
   * @default - what DynamoDB has provisioned for the table so far
   */
  readonly warmWriteUnitsPerSecond?: number;
  /**
   * Most read request units per second the table may consume.
   * @default - no ceiling
   */
  readonly maxReadRequestUnits?: number;
  /**
   * Most write request units per second the table may consume.
   * @default - no ceiling
   */
  readonly maxWriteRequestUnits?: number;
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
}

/** Properties of {@link Microservice}. */
export interface MicroserviceProps {
  /** Service name: lowercase, 2-31 characters. Names the API, registry entries and metrics dimension. */
  readonly serviceName: string;
  /** The platform to attach to (a {@link Platform} or a {@link PlatformReference}). */
  readonly platform: IPlatform;
  /** Partition key of the service's table. */
  readonly partitionKey: dynamodb.Attribute;
  /**
   * Sort key of the service's table.
   * @default - no sort key
   */
  readonly sortKey?: dynamodb.Attribute;
  /**
   * Global secondary indexes of the table.
   * @default - none
   */
  readonly globalSecondaryIndexes?: dynamodb.GlobalSecondaryIndexProps[];
  /**
   * Attribute holding each item's expiry time (epoch seconds).
   * @default - items do not expire
   */
  readonly timeToLiveAttribute?: string;
  /** The routes; each gets its own function. */
  readonly routes: RouteProps[];
  /**
   * Contracts of the events the service publishes through its transactional outbox, e.g.
   * `[OrderPlaced, OrderCancelled]` (defined with `defineContract`). Each contract's `producer` must be this
   * service's `serviceName`. Turns on the table stream, outbox TTL and a {@link TransactionalOutbox}.
   * @default - publishes nothing
   */
  readonly publishes?: EventContract[];
  /**
   * Asynchronous consumers, each an {@link EventSubscription}.
   * @default - none
   */
  readonly subscriptions?: SubscriptionDefinition[];
  /**
   * Whether the table, key and logs outlive the stack (RETAIN also turns on deletion protection).
   * @default DataProtection.RETAIN
   */
  readonly dataProtection?: DataProtection;
  /**
   * Customer-managed key for the table.
   * @default - a new key owned by the service, with rotation
   */
  readonly tableEncryptionKey?: kms.IKey;
  /**
   * Stage-wide throttling.
   * @default { rateLimit: 100, burstLimit: 200 }
   */
  readonly throttle?: ThrottleSettings;
  /**
   * Throughput settings of the on-demand table: pre-warmed capacity for a known launch or peak, and
   * ceilings that cap cost (requests above them are throttled).
   * @default - on-demand with no warm throughput and no ceilings
   */
  readonly tableThroughput?: TableThroughput;
  /**
   * Default memory of the route functions in MB.
   * @default 256
   */
  readonly memorySize?: number;
  /**
   * Default timeout of the route functions.
   * @default Duration.seconds(10)
   */
  readonly timeout?: Duration;
  /**
   * Log level of the functions.
   * @default LogLevel.INFO
   */
  readonly logLevel?: LogLevel;
  /**
   * Retention of function and access logs.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * API stage name (the first path segment of the URL).
   * @default 'v1'
   */
  readonly stageName?: string;
}

const PATH = /^(\/([A-Za-z0-9._-]+|\{[A-Za-z][A-Za-z0-9_]*\}))+$/;
const ROUTE_ID = /^[a-z][a-z0-9-]{0,62}$/;
/** API Gateway REST integrations time out after 29 seconds. */
const MAX_ROUTE_TIMEOUT_SECONDS = 29;

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

/** Registry keys a microservice publishes under `/{app}/{env}/{service}/`. */
export enum ServiceRegistryKey {
  API_URL = 'api-url',
  API_ID = 'api-id',
  TABLE_NAME = 'table-name',
  TABLE_ARN = 'table-arn',
}

/**
 * One service of the platform: its own DynamoDB table (on-demand, point-in-time recovery, customer-managed
 * KMS key, deletion protection when retained), its own REST API (Cognito authorizer with per-route scopes,
 * request validation, stage and per-route throttling, JSON access logs, X-Ray, WAF, error responses with
 * stable codes) and one {@link ServiceFunction} per route with least-privilege table grants. It publishes
 * its API URL, table and function names into the service registry.
 *
 * What API Gateway would only refuse at deploy time fails synth, naming the prop and value: sibling path
 * parameters with different names (`/payments/{id}` next to `/payments/{paymentId}/refunds`), a method and
 * path declared twice, greedy `{proxy+}` variables. A route scope must be declared by the platform when it
 * is known: a {@link Platform} passed as `platform`, or one of the same app and environment names elsewhere
 * in the app; a subscription to a contract whose producer is a service of the app must be published by it.
 * For a platform known only by name, the scopes the routes use are recorded as {@link ROUTE_SCOPES_METADATA}.
 */
export class Microservice extends Construct {
  /** The service name (Powertools service, registry and API names). */
  public readonly serviceName: string;
  /** The service's table. */
  public readonly table: dynamodb.Table;
  /** Key encrypting the table. */
  public readonly encryptionKey: kms.IKey;
  /** The service's REST API. */
  public readonly api: apigateway.RestApi;
  /** Access log group of the API stage. */
  public readonly accessLogGroup: logs.LogGroup;
  /** Cognito authorizer (present when any route is protected). */
  public readonly authorizer?: apigateway.CognitoUserPoolsAuthorizer;
  /** Route functions by route id. */
  public readonly functions: Record<string, ServiceFunction> = {};
  /** Registry entries written by the service. */
  public readonly registry: RegistryEntries;
  /** The outbox publisher (present when the service publishes events). */
  public readonly outbox?: TransactionalOutbox;
  /** Asynchronous consumers by id. */
  public readonly subscriptions: Record<string, EventSubscription> = {};
  /** The event types the service publishes (from the contracts in `publishes`). */
  public readonly publishedEvents: readonly EventType[];
  /** EventBridge source of the service's events: `{app}.{service}`. */
  public readonly eventSource: string;

  private readonly props: MicroserviceProps;
  private readonly routes: readonly ResolvedRoute[];

  /**
   * Every handler file a service declares (routes, then subscriptions). Apps that create several services
   * can announce them all to {@link FunctionBundler.prepare} first, so the whole app bundles in one build.
   */
  public static entriesOf(props: Pick<MicroserviceProps, 'routes' | 'subscriptions'>): string[] {
    return [...props.routes.map((r) => r.entry), ...(props.subscriptions ?? []).map((s) => s.entry)];
  }

  constructor(scope: Construct, id: string, props: MicroserviceProps) {
    super(scope, id);
    this.props = props;
    ServiceRegistry.validateServiceName('Microservice', props.serviceName);
    const routes = validateRoutes(props);
    this.routes = routes;
    // All of this service's handlers are bundled in the one esbuild build its first function triggers.
    FunctionBundler.of(this).prepare(Microservice.entriesOf(props));
    const throttle = props.throttle ?? { rateLimit: 100, burstLimit: 200 };
    if (props.stageName !== undefined) {
      requireMatch(
        'Microservice',
        'stageName',
        props.stageName,
        /^[A-Za-z0-9_]{1,128}$/,
        'letters, digits and underscores only',
      );
    }
    validateThrottle('throttle', throttle);
    this.serviceName = props.serviceName;
    const { platform } = props;
    const dataProtection = props.dataProtection ?? DataProtection.RETAIN;
    const removalPolicy = removalPolicyFor(dataProtection);
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;

    // --- Data: database per service ---------------------------------------------------------------
    this.encryptionKey =
      props.tableEncryptionKey ??
      new kms.Key(this, 'TableKey', {
        description: `${platform.appName} ${platform.envName} ${props.serviceName} table key`,
        enableKeyRotation: true,
        removalPolicy,
      });
    this.publishedEvents = eventTypesOf('Microservice', 'publishes', props.publishes ?? []);
    this.publishedEvents.forEach((event, i) => {
      if (event.producer !== props.serviceName) {
        fail(
          'Microservice',
          `publishes[${i}].producer`,
          event.producer,
          `the ${event.name} contract is produced by "${event.producer}"; service "${props.serviceName}" may publish only contracts whose producer is "${props.serviceName}"`,
        );
      }
    });
    const publishes = [...new Set(this.publishedEvents.map((event) => event.name))];
    (props.subscriptions ?? []).forEach((subscription, i) =>
      eventTypesOf('Microservice', `subscriptions[${i}].events`, subscription.events ?? []),
    );
    if (props.platform.declaredScopes) {
      const [problem] = undeclaredScopes(props, routes, props.platform.declaredScopes);
      if (problem) throw new Error(problem);
    }
    this.node.addMetadata(ROUTE_SCOPES_METADATA, routeScopes(props, routes));
    // What only the whole app knows (a platform or a producing service defined elsewhere in it) is checked
    // when the app synthesizes.
    this.node.addValidation({ validate: () => this.validateAgainstApp() });
    if (
      publishes.length > 0 &&
      props.timeToLiveAttribute &&
      props.timeToLiveAttribute !== OutboxAttribute.EXPIRES_AT
    ) {
      fail(
        'Microservice',
        'timeToLiveAttribute',
        props.timeToLiveAttribute,
        `publishing services expire outbox items with "${OutboxAttribute.EXPIRES_AT}"`,
      );
    }
    this.eventSource = EventType.sourceOf(platform.appName, props.serviceName);
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: props.partitionKey,
      sortKey: props.sortKey,
      stream: publishes.length > 0 ? dynamodb.StreamViewType.NEW_IMAGE : undefined,
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      maxReadRequestUnits: props.tableThroughput?.maxReadRequestUnits,
      maxWriteRequestUnits: props.tableThroughput?.maxWriteRequestUnits,
      warmThroughput: warmThroughputOf(props.tableThroughput),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.encryptionKey,
      deletionProtection: dataProtection === DataProtection.RETAIN,
      timeToLiveAttribute: publishes.length > 0 ? OutboxAttribute.EXPIRES_AT : props.timeToLiveAttribute,
      removalPolicy,
    });
    const indexes = props.globalSecondaryIndexes ?? [];
    for (const index of indexes) this.table.addGlobalSecondaryIndex(index);

    // --- API ----------------------------------------------------------------------------------------
    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', { retention: logRetention, removalPolicy });
    const methodOptions: Record<string, apigateway.MethodDeploymentOptions> = {};
    for (const route of routes) {
      if (route.throttle) {
        methodOptions[`${route.path}/${route.method}`] = {
          throttlingRateLimit: route.throttle.rateLimit,
          throttlingBurstLimit: route.throttle.burstLimit,
        };
      }
    }
    this.api = new apigateway.RestApi(this, 'Api', {
      restApiName: `${platform.appName}-${platform.envName}-${props.serviceName}`,
      description: `${props.serviceName} service API (${platform.appName} ${platform.envName})`,
      endpointConfiguration: { types: [apigateway.EndpointType.REGIONAL] },
      cloudWatchRole: false,
      deployOptions: {
        stageName: props.stageName ?? 'v1',
        tracingEnabled: true,
        metricsEnabled: true,
        loggingLevel: apigateway.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        throttlingRateLimit: throttle.rateLimit,
        throttlingBurstLimit: throttle.burstLimit,
        accessLogDestination: new apigateway.LogGroupLogDestination(this.accessLogGroup),
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
        methodOptions,
      },
    });
    addErrorResponses(this.api);
    const validator = this.api.addRequestValidator('RequestValidator', {
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    if (routes.some((r) => !r.access.isPublic && !r.access.isIam)) {
      this.authorizer = new apigateway.CognitoUserPoolsAuthorizer(this, 'Authorizer', {
        cognitoUserPools: [platform.userPool],
        identitySource: apigateway.IdentitySource.header('Authorization'),
        resultsCacheTtl: Duration.minutes(5),
      });
    }
    new wafv2.CfnWebACLAssociation(this, 'WebAclAssociation', {
      resourceArn: this.api.deploymentStage.stageArn,
      webAclArn: platform.webAclArn,
    });

    // --- Functions, one per route --------------------------------------------------------------------
    for (const route of routes) {
      const fn = new ServiceFunction(this, route.id, {
        entry: route.entry,
        handler: route.handler,
        serviceName: props.serviceName,
        metricsNamespace: platform.metricsNamespace,
        description: `${props.serviceName}: ${route.method} ${route.path}`,
        memorySize: route.memorySize ?? props.memorySize,
        timeout: route.timeout ?? props.timeout,
        reservedConcurrentExecutions: route.reservedConcurrency,
        provisionedConcurrency: route.provisionedConcurrency,
        logLevel: props.logLevel,
        logRetention,
        dataProtection,
        environment: {
          ...(route.environment ?? {}),
          ...this.callEnvironment(route.calls ?? []),
          ...this.serviceEnvironment(props),
        },
      });
      this.functions[route.id] = fn;
      this.grantCalls(fn, route.calls ?? []);
      grantTableAccess(
        this.table,
        fn,
        route.tableAccess ?? AccessMode.NONE,
        indexes.map((index) => index.indexName),
      );

      const resource = this.api.root.resourceForPath(route.path);
      const pathParameters = route.path.match(/\{[^}]+\}/g) ?? [];
      const method = resource.addMethod(
        route.method,
        new apigateway.LambdaIntegration(fn.liveAlias, { allowTestInvoke: false }),
        {
          operationName: route.id,
          requestValidator: validator,
          requestParameters: Object.fromEntries([
            ...pathParameters.map((p) => [`method.request.path.${p.slice(1, -1)}`, true] as const),
            ...(route.requiredQueryParameters ?? []).map(
              (q) => [`method.request.querystring.${q}`, true] as const,
            ),
          ]),
          requestModels: route.requestSchema
            ? {
                'application/json': this.api.addModel(`${modelName(route.id)}Model`, {
                  contentType: 'application/json',
                  modelName: `${modelName(route.id)}Request`,
                  schema: route.requestSchema,
                }),
              }
            : undefined,
          ...authorizationOf(route.access, this.authorizer, platform),
        },
      );
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
    }

    // --- Events ------------------------------------------------------------------------------------
    if (publishes.length > 0) {
      this.outbox = new TransactionalOutbox(this, 'Outbox', {
        table: this.table,
        eventBus: platform.eventBus,
        source: this.eventSource,
        eventTypes: publishes,
        encryptionKey: this.encryptionKey,
        alarmTopic: platform.alarmTopic,
        alarmActions: platform.alarmActions,
        dataProtection,
        logRetention,
      });
    }
    const subscriptionIds = new Set<string>();
    for (const subscription of props.subscriptions ?? []) {
      requireMatch(
        'Microservice',
        'subscriptions[].id',
        subscription.id,
        ROUTE_ID,
        'use a lowercase letter then lowercase letters, digits or hyphens',
      );
      if (subscriptionIds.has(subscription.id) || this.functions[subscription.id]) {
        fail(
          'Microservice',
          'subscriptions[].id',
          subscription.id,
          'is used by another route or subscription',
        );
      }
      subscriptionIds.add(subscription.id);
      const consumer = new EventSubscription(this, subscription.id, {
        serviceName: props.serviceName,
        appName: platform.appName,
        metricsNamespace: platform.metricsNamespace,
        eventBus: platform.eventBus,
        events: subscription.events,
        entry: subscription.entry,
        encryptionKey: this.encryptionKey,
        timeout: subscription.timeout,
        memorySize: subscription.memorySize,
        batchSize: subscription.batchSize,
        maxConcurrency: subscription.maxConcurrency,
        maxReceiveCount: subscription.maxReceiveCount,
        alarmTopic: platform.alarmTopic,
        alarmActions: platform.alarmActions,
        environment: this.serviceEnvironment(props),
        logLevel: props.logLevel,
        logRetention,
        dataProtection,
      });
      grantTableAccess(
        this.table,
        consumer.consumer,
        subscription.tableAccess ?? AccessMode.READ_WRITE,
        indexes.map((index) => index.indexName),
      );
      this.subscriptions[subscription.id] = consumer;
    }

    // --- Registry ----------------------------------------------------------------------------------
    this.registry = new RegistryEntries(this, 'Registry', {
      appName: platform.appName,
      envName: platform.envName,
      serviceName: props.serviceName,
      description: `${props.serviceName} service (${Stack.of(this).stackName})`,
      namespace: platform.namespace,
      entries: {
        [ServiceRegistryKey.API_URL]: this.api.url,
        [ServiceRegistryKey.API_ID]: this.api.restApiId,
        [ServiceRegistryKey.TABLE_NAME]: this.table.tableName,
        [ServiceRegistryKey.TABLE_ARN]: this.table.tableArn,
      },
      parameterOnlyEntries: Object.fromEntries([
        ...Object.entries(this.functions).map(([routeId, fn]) => [
          `function/${routeId}`,
          fn.function.functionName,
        ]),
        ...Object.entries(this.subscriptions).map(([subId, sub]) => [
          `function/${subId}`,
          sub.consumer.function.functionName,
        ]),
      ]),
    });
  }

  /** Environment every function of the service gets: where its table is and how its events are published. */
  private serviceEnvironment(props: MicroserviceProps): Record<string, string> {
    return {
      APP_NAME: props.platform.appName,
      ENV_NAME: props.platform.envName,
      TABLE_NAME: this.table.tableName,
      TABLE_PARTITION_KEY: props.partitionKey.name,
      ...(props.sortKey ? { TABLE_SORT_KEY: props.sortKey.name } : {}),
      EVENT_SOURCE: this.eventSource,
    };
  }

  /** `{SERVICE}_API_URL` for every called service, read from the registry at deploy time. */
  private callEnvironment(calls: ServiceCall[]): Record<string, string> {
    const { platform } = this.props;
    return Object.fromEntries(
      calls.map((call) => [
        call.urlVariable,
        ServiceRegistry.lookup(
          this,
          platform.appName,
          platform.envName,
          call.service,
          ServiceRegistryKey.API_URL,
        ),
      ]),
    );
  }

  /** `execute-api:Invoke` on exactly the called routes of the other services' APIs. */
  private grantCalls(fn: ServiceFunction, calls: ServiceCall[]): void {
    const { platform } = this.props;
    for (const call of calls) {
      const apiId = ServiceRegistry.lookup(
        this,
        platform.appName,
        platform.envName,
        call.service,
        ServiceRegistryKey.API_ID,
      );
      const invokeArn = Stack.of(this).formatArn({
        service: 'execute-api',
        resource: apiId,
        resourceName: `*/${call.method}${call.path}`,
      });
      fn.role.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: ['execute-api:Invoke'], resources: [invokeArn] }),
      );
      // A concrete method ARN the call matches (any stage; path parameters filled in).
      fn.declareAccess(
        ['execute-api:Invoke'],
        [
          Stack.of(this).formatArn({
            service: 'execute-api',
            resource: apiId,
            resourceName: `stage/${call.method}${call.path.replace(/\{[^}]+\}|\*/g, 'x')}`,
          }),
        ],
      );
      Validations.of(fn.role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${nagResourceName(this, invokeArn)}]`,
        reason: `May invoke only ${call.method} ${call.path} of the ${call.service} API (found in the registry), on any stage; a trailing * stands for the path parameter.`,
      });
    }
  }

  /** The API's invoke URL (stage included, trailing slash). */
  public get url(): string {
    return this.api.url;
  }

  /**
   * Checks against the rest of the app, at synth: when the service attaches by name to a platform that is a
   * {@link Platform} of this app (same app and environment names), its routes' scopes must be declared
   * there; when a subscribed event's producer is a service of this app, that service must publish it.
   */
  private validateAgainstApp(): string[] {
    const { platform } = this.props;
    const sameEnvironment = (other: IPlatform) =>
      other.appName === platform.appName && other.envName === platform.envName;
    const constructs = this.node.root.node.findAll();
    const errors: string[] = [];
    if (!platform.declaredScopes) {
      const platforms = constructs.filter((c): c is Platform => c instanceof Platform && sameEnvironment(c));
      if (platforms.length > 0) {
        const declared = [...new Set(platforms.flatMap((p) => p.declaredScopes))];
        errors.push(...undeclaredScopes(this.props, this.routes, declared));
      }
    }
    const services = constructs.filter(
      (c): c is Microservice => c instanceof Microservice && sameEnvironment(c.props.platform),
    );
    (this.props.subscriptions ?? []).forEach((subscription, i) => {
      eventTypesOf('Microservice', `subscriptions[${i}].events`, subscription.events).forEach((event, j) => {
        const producer = services.find((s) => s.serviceName === event.producer);
        if (!producer || producer.publishedEvents.some((published) => published.equals(event))) return;
        errors.push(
          invalid(
            'Microservice',
            `subscriptions[${i}].events[${j}]`,
            `${event} v${event.version}`,
            `service "${this.serviceName}" subscribes to an event that service "${producer.serviceName}" of this app (${platform.appName}/${platform.envName}) does not publish (its publishes: ${producer.publishedEvents.map((e) => `${e.name} v${e.version}`).join(', ') || 'none'})`,
          ),
        );
      });
    });
    return errors;
  }
}

/** One message per route scope that `declared` lacks, naming the route, the scope and the declared ones. */
function undeclaredScopes(
  props: MicroserviceProps,
  routes: readonly ResolvedRoute[],
  declared: readonly string[],
): string[] {
  const { platform } = props;
  return routes.flatMap((route, i) =>
    route.access.scopeNames
      .filter((scope) => !declared.includes(scope))
      .map((scope) =>
        invalid(
          'Microservice',
          `routes[${i}].access`,
          scope,
          `${route.method} ${route.path} of service "${props.serviceName}" requires a scope that platform ${platform.appName}/${platform.envName} does not declare (declared: ${declared.join(', ') || 'none'}); add it to the platform's scopes or use a declared one`,
        ),
      ),
  );
}

/** The record of {@link ROUTE_SCOPES_METADATA}. */
function routeScopes(props: MicroserviceProps, routes: readonly ResolvedRoute[]): RouteScopes {
  const protectedRoutes = routes
    .filter((route) => route.access.scopeNames.length > 0)
    .map((route) => ({ method: route.method, path: route.path, scopes: [...route.access.scopeNames] }));
  return {
    appName: props.platform.appName,
    envName: props.platform.envName,
    serviceName: props.serviceName,
    scopes: [...new Set(protectedRoutes.flatMap((route) => route.scopes))].sort(),
    routes: protectedRoutes,
  };
}

/** A route with its id resolved. */
interface ResolvedRoute extends RouteProps {
  /** The route's construct id and registry key. */
  readonly id: string;
}

/** DynamoDB's warm-throughput setting, after checking every figure is a whole number of units. */
function warmThroughputOf(throughput: TableThroughput | undefined): dynamodb.WarmThroughput | undefined {
  if (!throughput) return undefined;
  for (const key of [
    'warmReadUnitsPerSecond',
    'warmWriteUnitsPerSecond',
    'maxReadRequestUnits',
    'maxWriteRequestUnits',
  ] as const) {
    requireIntegerInRange('Microservice', `tableThroughput.${key}`, throughput[key], 1, 40_000_000);
  }
  const { warmReadUnitsPerSecond: read, warmWriteUnitsPerSecond: write } = throughput;
  if (read === undefined && write === undefined) return undefined;
  return { readUnitsPerSecond: read, writeUnitsPerSecond: write };
}

function validateRoutes(props: MicroserviceProps): ResolvedRoute[] {
  if (!props.routes || props.routes.length === 0)
    fail('Microservice', 'routes', props.routes, 'declare at least one route');
  const seen = new Map<string, number>();
  const ids = new Set<string>();
  // The variable path part under each parent path, as API Gateway allows one per level.
  const variables = new Map<string, { name: string; index: number; path: string }>();
  return props.routes.map((route, i) => {
    const where = `routes[${i}]`;
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
    const key = `${route.method} ${route.path}`;
    if (seen.has(key)) {
      fail(
        'Microservice',
        `${where}`,
        key,
        `is declared twice in service "${props.serviceName}" (also routes[${seen.get(key)}]); API Gateway allows one method per path`,
      );
    }
    seen.set(key, i);
    const segments = route.path.split('/').slice(1);
    segments.forEach((segment, depth) => {
      if (!segment.startsWith('{')) return;
      const parent = `/${segments.slice(0, depth).join('/')}`;
      const name = segment.slice(1, -1);
      const sibling = variables.get(parent);
      if (!sibling) {
        variables.set(parent, { name, index: i, path: route.path });
      } else if (sibling.name !== name) {
        fail(
          'Microservice',
          `${where}.path`,
          route.path,
          `service "${props.serviceName}": its path parameter {${name}} is a sibling of {${sibling.name}} in routes[${sibling.index}].path "${sibling.path}"; API Gateway allows one variable path part per level (the deployment fails with "A sibling ({${sibling.name}}) of this resource already has a variable path part"), so give both the same name`,
        );
      }
    });
    const id = route.id ?? routeId(route.method, route.path);
    requireMatch(
      'Microservice',
      `${where}.id`,
      id,
      ROUTE_ID,
      'use a lowercase letter then lowercase letters, digits or hyphens',
    );
    if (ids.has(id)) fail('Microservice', `${where}.id`, id, 'is used by another route');
    ids.add(id);
    for (const scope of route.access.scopeNames) {
      requireMatch(
        'Microservice',
        `${where}.access scope`,
        scope,
        /^[\x21\x23-\x2E\x30-\x5B\x5D-\x7E]+$/,
        'printable ASCII without spaces, quotes, / or \\',
      );
    }
    const timeout = route.timeout ?? props.timeout;
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
    if (route.throttle) validateThrottle(`${where}.throttle`, route.throttle);
    return { ...route, id };
  });
}

function validateThrottle(prop: string, throttle: ThrottleSettings): void {
  if (!(throttle.rateLimit > 0))
    fail('Microservice', `${prop}.rateLimit`, throttle.rateLimit, 'must be greater than 0');
  if (!Number.isInteger(throttle.burstLimit) || throttle.burstLimit < 1) {
    fail('Microservice', `${prop}.burstLimit`, throttle.burstLimit, 'must be a whole number of at least 1');
  }
}

/** `GET /profiles/{id}` → `get-profiles-id`. */
function routeId(method: HttpMethod, path: string): string {
  const words = path
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

function modelName(id: string): string {
  return id
    .split('-')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
}

/** DynamoDB actions per access mode: items and queries only, never Scan, table management or streams. */
const READ_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:ConditionCheckItem',
];
const WRITE_ACTIONS = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
];

function grantTableAccess(
  table: dynamodb.Table,
  fn: ServiceFunction,
  mode: AccessMode,
  indexNames: readonly string[],
): void {
  if (mode === AccessMode.NONE) return;
  const hasIndexes = indexNames.length > 0;
  const write = mode === AccessMode.READ_WRITE;
  // table.grant covers the table and, when it has indexes, table-arn/index/*.
  table.grant(fn, ...READ_ACTIONS, ...(write ? WRITE_ACTIONS : []));
  fn.declareAccess(
    write
      ? [
          'dynamodb:GetItem',
          'dynamodb:Query',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
          'dynamodb:DeleteItem',
          'dynamodb:ConditionCheckItem',
        ]
      : ['dynamodb:GetItem', 'dynamodb:Query'],
    [table.tableArn],
  );
  if (hasIndexes) {
    fn.declareAccess(
      ['dynamodb:Query'],
      indexNames.map((name) => `${table.tableArn}/index/${name}`),
    );
  }
  if (table.encryptionKey) {
    if (write) table.encryptionKey.grantEncryptDecrypt(fn);
    else table.encryptionKey.grantDecrypt(fn);
  }
  if (write) {
    const reason =
      'Writes to the table encrypted with the service key: kms:GenerateDataKey* and kms:ReEncrypt* are the action families DynamoDB needs, on that one key only.';
    Validations.of(fn.role).acknowledge(
      { id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]', reason },
      { id: 'AwsSolutions-IAM5[Action::kms:ReEncrypt*]', reason },
    );
  }
  if (hasIndexes) {
    Validations.of(fn.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagResourceName(table, table.tableArn)}/index/*]`,
      reason: "Query access to the service table's own global secondary indexes (table-arn/index/*).",
    });
  }
}

/** API Gateway authorization settings of a route. */
function authorizationOf(
  access: RouteAccess,
  authorizer: apigateway.IAuthorizer | undefined,
  platform: IPlatform,
): Pick<apigateway.MethodOptions, 'authorizationType' | 'authorizer' | 'authorizationScopes'> {
  if (access.isPublic) return { authorizationType: apigateway.AuthorizationType.NONE };
  if (access.isIam) return { authorizationType: apigateway.AuthorizationType.IAM };
  // Read only here: a platform attached by name adds a registry parameter for what a service reads.
  const { resourceServerIdentifier } = platform;
  return {
    authorizationType: apigateway.AuthorizationType.COGNITO,
    authorizer,
    authorizationScopes: access.scopeNames.map((scope) => `${resourceServerIdentifier}/${scope}`),
  };
}

/** Error bodies from the gateway itself use the same `{ error: { code, message } }` shape as the handlers. */
function addErrorResponses(api: apigateway.RestApi): void {
  const responses: Array<[string, apigateway.ResponseType, string, string]> = [
    ['Unauthorized', apigateway.ResponseType.UNAUTHORIZED, '401', 'UNAUTHORIZED'],
    ['AccessDenied', apigateway.ResponseType.ACCESS_DENIED, '403', 'FORBIDDEN'],
    ['MissingToken', apigateway.ResponseType.MISSING_AUTHENTICATION_TOKEN, '404', 'ROUTE_NOT_FOUND'],
    ['BadBody', apigateway.ResponseType.BAD_REQUEST_BODY, '400', 'VALIDATION_FAILED'],
    ['BadParameters', apigateway.ResponseType.BAD_REQUEST_PARAMETERS, '400', 'VALIDATION_FAILED'],
    ['Throttled', apigateway.ResponseType.THROTTLED, '429', 'THROTTLED'],
    ['WafBlocked', apigateway.ResponseType.WAF_FILTERED, '403', 'REQUEST_BLOCKED'],
    ['TooLarge', apigateway.ResponseType.REQUEST_TOO_LARGE, '413', 'PAYLOAD_TOO_LARGE'],
    ['ExpiredToken', apigateway.ResponseType.EXPIRED_TOKEN, '401', 'TOKEN_EXPIRED'],
    ['UnsupportedMediaType', apigateway.ResponseType.UNSUPPORTED_MEDIA_TYPE, '415', 'UNSUPPORTED_MEDIA_TYPE'],
    ['QuotaExceeded', apigateway.ResponseType.QUOTA_EXCEEDED, '429', 'QUOTA_EXCEEDED'],
    ['InvalidSignature', apigateway.ResponseType.INVALID_SIGNATURE, '403', 'INVALID_SIGNATURE'],
    ['Default4xx', apigateway.ResponseType.DEFAULT_4XX, '400', 'BAD_REQUEST'],
    ['Default5xx', apigateway.ResponseType.DEFAULT_5XX, '502', 'UPSTREAM_ERROR'],
  ];
  for (const [id, type, statusCode, code] of responses) {
    api.addGatewayResponse(id, {
      type,
      statusCode:
        type === apigateway.ResponseType.DEFAULT_4XX || type === apigateway.ResponseType.DEFAULT_5XX
          ? undefined
          : statusCode,
      responseHeaders: { 'Content-Type': "'application/json'" },
      templates: {
        'application/json': `{"error":{"code":"${code}","message":$context.error.messageString,"requestId":"$context.requestId"}}`,
      },
    });
  }
}
