import type { RemovalPolicy } from 'aws-cdk-lib';
import { Duration, Stack } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { checkAgainstApp, sameEnvironment } from './app-checks';
import { DataProtection, removalPolicyFor } from './data-protection';
import type { DeploymentOptions } from './deployment';
import { eventTypesOf, publishedEventsOf } from './event-contracts';
import { EventSubscription } from './event-subscription';
import { EventType } from './event-type';
import { FRONT_DOOR_URL_KEY, mapOnFrontDoor } from './front-door';
import { FunctionBundler } from './function-bundler';
import type { IMicroservice, MicroserviceReferenceProps } from './microservice-reference';
import { MicroserviceReference, ServiceRegistryKey } from './microservice-reference';
import type { MicroserviceProps, SubscriptionOptions } from './microservice-props';
import type { PartnerPlan } from './partner-access';
import { PartnerAccess } from './partner-access';
import type { IPlatform } from './platform';
import { Platform } from './platform';
import type { HttpMethod, RouteProps, ServiceCall } from './route';
import { AccessMode, requireFreeFunctionId, RouteSet, validateThrottle } from './route';
import type { RouteScopes } from './route-scopes';
import { ROUTE_SCOPES_METADATA, routeScopesOf, undeclaredScopes } from './route-scopes';
import { ServiceApi } from './service-api';
import { CONFIG_VARIABLES } from '../../functions/shared/config';
import { configurationMaxAge, ServiceConfiguration } from './service-configuration';
import { ServiceFunction } from './service-function';
import { ServiceSecrets } from './service-secrets';
import { RegistryEntries, ServiceRegistry } from './service-registry';
import type { ServiceTableGrants } from './service-table';
import { serviceData } from './service-table';
import { TransactionalOutbox } from './transactional-outbox';
import { ServiceMonitoring } from './monitoring/service-monitoring';
import { fail, invalid } from './validation';
import { grantServiceCall } from './service-call-grant';

export * from './microservice-props';
export * from './microservice-reference';
export { AccessMode, HttpMethod, RouteAccess, RouteSet, ServiceCall } from './route';
export type { ResolvedRoute, RouteProps, ThrottleSettings } from './route';
export { ROUTE_SCOPES_METADATA } from './route-scopes';
export type { RouteScopes } from './route-scopes';

/**
 * One service of the platform, composed of its own {@link ServiceTable} (or an existing table), its own
 * {@link ServiceApi} with one {@link ServiceFunction} per route, its {@link EventSubscription}s, a
 * {@link TransactionalOutbox} when it publishes, a WAF association and its registry entries. Routes and
 * subscriptions come from the props or are added with {@link addRoute} and {@link addSubscription}.
 *
 * What API Gateway would only refuse at deploy time fails synth naming the prop and value (see {@link RouteSet}).
 * A route scope must be declared by the platform when it is known: a {@link Platform} passed as `platform`, or
 * one of the same app and environment names elsewhere in the app; a subscription to a contract whose producer is
 * a service of the app must be published by it. For a platform known only by name, the scopes the routes use are
 * recorded as {@link ROUTE_SCOPES_METADATA}.
 */
export class Microservice extends Construct implements IMicroservice {
  /** A service of the platform found by name in the registry, e.g. to call its routes from another stack. */
  public static fromRegistry(scope: Construct, id: string, props: MicroserviceReferenceProps): IMicroservice {
    return new MicroserviceReference(scope, id, props);
  }

  /**
   * Every handler file a service declares (routes, then subscriptions). Apps that create several services
   * can announce them all to {@link FunctionBundler.prepare} first, so the whole app bundles in one build.
   */
  public static entriesOf(props: Pick<MicroserviceProps, 'routes' | 'subscriptions'>): string[] {
    return [...(props.routes ?? []).map((r) => r.entry), ...(props.subscriptions ?? []).map((s) => s.entry)];
  }

  public readonly serviceName: string;
  /** The platform the service attaches to. */
  public readonly platform: IPlatform;
  public readonly eventSource: string;
  /** The service's table: a {@link ServiceTable}, or the table given as `table`. */
  public readonly table: dynamodb.ITable;
  /** Least-privilege grants on the table (items and queries, never Scan) for principals outside the service. */
  public readonly tableGrants: ServiceTableGrants;
  /** Key encrypting the table, queues and outbox. */
  public readonly encryptionKey: kms.IKey;
  /** The service's REST API. */
  public readonly api: ServiceApi;
  /** Access log group of the API stage. */
  public readonly accessLogGroup: logs.LogGroup;
  /** Route functions by route id. */
  public readonly functions: Record<string, ServiceFunction> = {};
  /** Asynchronous consumers by id. */
  public readonly subscriptions: Record<string, EventSubscription> = {};
  /** Registry entries written by the service. */
  public readonly registry: RegistryEntries;
  /** The outbox publisher (present when the service publishes events). */
  public readonly outbox?: TransactionalOutbox;
  /** The event types the service publishes (from the contracts in `publishes`). */
  public readonly publishedEvents: readonly EventType[];
  /** Feature flags and settings in AppConfig (present with `configuration.featureFlags` or `settings`). */
  public readonly configuration?: ServiceConfiguration;
  /** Secrets in Secrets Manager (present with `configuration.secrets`). */
  public readonly secrets?: ServiceSecrets;
  /** The stage's base path mapping on the front door (present with `frontDoor`). */
  public readonly frontDoorMapping?: apigateway.CfnBasePathMapping;
  /** The service's URL behind the front door, e.g. `https://api.example.com/orders/` (present with `frontDoor`). */
  public readonly frontDoorUrl?: string;
  /** Dashboard, alarms, SLOs and saved log queries (absent with `monitoring.enabled: false`). */
  public readonly monitoring?: ServiceMonitoring;

  private readonly props: MicroserviceProps;
  private readonly routeSet: RouteSet;
  private readonly routeLabels = new Map<string, string>();
  private readonly subscriptionLabels = new Map<string, string>();
  private readonly scopeRecord: RouteScopes;
  private cognitoAuthorizer?: apigateway.CognitoUserPoolsAuthorizer;
  private partnerAccess?: PartnerAccess;

  constructor(scope: Construct, id: string, props: MicroserviceProps) {
    super(scope, id);
    ServiceRegistry.validateServiceName('Microservice', props.serviceName);
    if (props.routes && props.routes.length === 0) {
      fail(
        'Microservice',
        'routes',
        props.routes,
        'declare at least one route (or omit routes and use addRoute)',
      );
    }
    validateThrottle('Microservice', 'throttle', props.throttle ?? { rateLimit: 100, burstLimit: 200 });
    this.props = props;
    this.serviceName = props.serviceName;
    this.platform = props.platform;
    const { platform } = props;
    this.routeSet = new RouteSet(props.serviceName, props.timeout);
    // All of this service's handlers are bundled in the one esbuild build its first function triggers.
    FunctionBundler.of(this).prepare(Microservice.entriesOf(props));
    const dataProtection = props.dataProtection ?? DataProtection.RETAIN;
    const removalPolicy = removalPolicyFor(dataProtection);
    this.eventSource = EventType.sourceOf(platform.appName, props.serviceName);
    this.publishedEvents = publishedEventsOf(props.serviceName, props.publishes ?? []);
    const publishes = [...new Set(this.publishedEvents.map((event) => event.name))];
    this.scopeRecord = routeScopesOf(props.serviceName, platform, []);
    this.node.addMetadata(ROUTE_SCOPES_METADATA, this.scopeRecord);
    // What only the whole app knows (a platform or a producing service defined elsewhere in it) is checked
    // when the app synthesizes.
    this.node.addValidation({ validate: () => this.validateAgainstApp() });

    // --- Data: database per service ---------------------------------------------------------------
    ({
      key: this.encryptionKey,
      table: this.table,
      grants: this.tableGrants,
    } = serviceData(this, props, publishes.length > 0));
    ({ configuration: this.configuration, secrets: this.secrets } = this.runtimeConfiguration(removalPolicy));

    // --- API ----------------------------------------------------------------------------------------
    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy,
    });
    this.api = new ServiceApi(this, 'Api', {
      restApiName: `${platform.appName}-${platform.envName}-${props.serviceName}`,
      description: `${props.serviceName} service API (${platform.appName} ${platform.envName})`,
      accessLogGroup: this.accessLogGroup,
      stageName: props.stageName,
      throttle: props.throttle,
      restApiProps: props.restApiProps,
    });
    new wafv2.CfnWebACLAssociation(this, 'WebAclAssociation', {
      resourceArn: this.api.deploymentStage.stageArn,
      webAclArn: platform.webAclArn,
    });
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
    });
    if (props.frontDoor) {
      const { mapping, url } = mapOnFrontDoor(this, 'FrontDoorMapping', {
        appName: platform.appName,
        envName: platform.envName,
        serviceName: props.serviceName,
        api: this.api,
        options: props.frontDoor,
      });
      this.frontDoorMapping = mapping;
      this.frontDoorUrl = url;
      this.registry.addParameterOnlyEntry(FRONT_DOOR_URL_KEY, url);
    }
    if (props.monitoring?.enabled ?? true) {
      this.monitoring = new ServiceMonitoring(this, 'Monitoring', {
        ...props.monitoring,
        serviceName: props.serviceName,
        platform,
        api: this.api,
        table: this.table,
        accessLogGroup: this.accessLogGroup,
      });
    }
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
        logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      });
      this.monitoring?.addOutbox(this.outbox);
    }
    (props.routes ?? []).forEach((route, i) => this.addRouteAs(route, `routes[${i}]`));
    (props.subscriptions ?? []).forEach(({ id: subscriptionId, ...options }, i) =>
      this.addSubscriptionAs(subscriptionId, options, `subscriptions[${i}]`),
    );
    (props.partners ?? []).forEach((partner, i) => this.addPartnerAs(partner, `partners[${i}]`));
  }

  /** Adds a route served by its own function; returns the function. */
  public addRoute(route: RouteProps): ServiceFunction {
    return this.addRouteAs(route, `addRoute(${route.method} ${route.path})`);
  }

  /** Adds an asynchronous consumer of the events in `options.events`; returns it. */
  public addSubscription(id: string, options: SubscriptionOptions): EventSubscription {
    return this.addSubscriptionAs(id, options, `addSubscription(${id})`);
  }

  /**
   * Adds a partner client: an API key and a usage plan (throttle, quota) on the API's stage, for the routes marked
   * `apiKeyRequired`; returns the plan.
   */
  public addPartner(partner: PartnerPlan): apigateway.UsagePlan {
    return this.addPartnerAs(partner, `addPartner(${partner.name})`);
  }

  /** Usage plans and API keys of the partner clients (present once a partner exists). */
  public get partners(): PartnerAccess | undefined {
    return this.partnerAccess;
  }

  public get apiUrl(): string {
    return this.api.url;
  }

  public get apiId(): string {
    return this.api.restApiId;
  }

  /** Cognito authorizer (present once a scope-protected route exists). */
  public get authorizer(): apigateway.CognitoUserPoolsAuthorizer | undefined {
    return this.cognitoAuthorizer;
  }

  public routeArn(method: HttpMethod, path: string, stage?: string): string {
    return this.api.routeArn(method, path, stage);
  }

  public grantInvoke(grantee: iam.IGrantable, method: HttpMethod, path: string): iam.Grant {
    return this.api.grantInvoke(grantee, method, path);
  }

  private addRouteAs(props: RouteProps, where: string): ServiceFunction {
    const { platform } = this.props;
    const route = this.routeSet.add(props, where, new Set(Object.keys(this.subscriptions)));
    this.routeLabels.set(route.id, where);
    if (platform.declaredScopes) {
      const [problem] = undeclaredScopes(this.serviceName, platform, route, where, platform.declaredScopes);
      if (problem) throw new Error(problem);
    }
    Object.assign(this.scopeRecord, routeScopesOf(this.serviceName, platform, this.routeSet.routes));
    FunctionBundler.of(this).prepare([route.entry]);
    const fn = new ServiceFunction(this, route.id, {
      ...this.functionDefaults(),
      entry: route.entry,
      handler: route.handler,
      description: `${this.serviceName}: ${route.method} ${route.path}`,
      memorySize: route.memorySize ?? this.props.memorySize,
      timeout: route.timeout ?? this.props.timeout,
      reservedConcurrentExecutions: route.reservedConcurrency,
      provisionedConcurrency: route.provisionedConcurrency,
      provisionedScaling: route.provisionedScaling,
      deployment: this.deploymentOptions(),
      functionProps: { ...this.props.functionProps, ...route.functionProps },
      environment: {
        ...(route.environment ?? {}),
        ...Object.fromEntries(
          (route.calls ?? []).map((call) => [call.urlVariable, this.callee(call).apiUrl]),
        ),
        ...this.serviceEnvironment(),
        ...this.configurationEnvironment(route.id),
      },
    });
    this.functions[route.id] = fn;
    this.monitoring?.addFunction(route.id, fn);
    this.grantConfiguration(fn, route.id);
    for (const call of route.calls ?? []) grantServiceCall(fn, this.callee(call), call);
    this.tableGrants.access(fn, route.tableAccess ?? AccessMode.NONE);
    const scoped = !route.access.isPublic && !route.access.isIam;
    this.api.addRoute(route, fn.liveAlias, {
      authorizer: scoped ? this.cognitoAuthorizerOf(platform) : undefined,
      resourceServerIdentifier: scoped ? platform.resourceServerIdentifier : undefined,
    });
    this.registry.addParameterOnlyEntry(`function/${route.id}`, fn.function.functionName);
    return fn;
  }

  private addSubscriptionAs(id: string, options: SubscriptionOptions, where: string): EventSubscription {
    const { platform } = this.props;
    requireFreeFunctionId(`${where}.id`, id, Boolean(this.subscriptions[id] || this.functions[id]));
    eventTypesOf('Microservice', `${where}.events`, options.events ?? []);
    this.subscriptionLabels.set(id, where);
    FunctionBundler.of(this).prepare([options.entry]);
    const { tableAccess, environment, ...subscription } = options;
    const consumer = new EventSubscription(this, id, {
      ...this.functionDefaults(),
      ...subscription,
      appName: platform.appName,
      eventBus: platform.eventBus,
      encryptionKey: this.encryptionKey,
      alarmTopic: platform.alarmTopic,
      alarmActions: platform.alarmActions,
      environment: {
        ...(environment ?? {}),
        ...this.serviceEnvironment(),
        ...this.configurationEnvironment(id),
      },
      functionProps: { ...this.props.functionProps, ...subscription.functionProps },
      deployment: this.deploymentOptions(),
    });
    this.tableGrants.access(consumer.consumer, tableAccess ?? AccessMode.READ_WRITE);
    this.grantConfiguration(consumer.consumer, id);
    this.subscriptions[id] = consumer;
    this.monitoring?.addSubscription(id, consumer);
    this.registry.addParameterOnlyEntry(`function/${id}`, consumer.consumer.function.functionName);
    return consumer;
  }

  private addPartnerAs(partner: PartnerPlan, where: string): apigateway.UsagePlan {
    if (!this.partnerAccess) {
      const { appName, envName } = this.platform;
      this.partnerAccess = new PartnerAccess(this, 'Partners', {
        api: this.api,
        namePrefix: `${appName}-${envName}-${this.serviceName}`,
        registry: this.registry,
      });
      // A usage plan applies only to methods that require an API key: without one, the partners' limits and
      // quotas would silently never apply.
      this.node.addValidation({
        validate: () =>
          this.routeSet.routes.some((route) => route.apiKeyRequired)
            ? []
            : [
                invalid(
                  'Microservice',
                  'partners',
                  Object.keys(this.partnerAccess?.usagePlans ?? {}),
                  `no route of service "${this.serviceName}" has apiKeyRequired: true, so no usage plan would ever apply; mark the routes partners call`,
                ),
              ],
      });
    }
    return this.partnerAccess.addPartner(partner, where);
  }

  /** What every function of the service shares: its name, metrics namespace, logging and data protection. */
  /** The service's `deployment`, its alarms notifying the platform's destinations unless it names others. */
  private deploymentOptions(): DeploymentOptions | undefined {
    const { deployment, platform } = this.props;
    return deployment && { alarmActions: platform.alarmActions, ...deployment };
  }

  private functionDefaults() {
    const { props } = this;
    return {
      serviceName: props.serviceName,
      metricsNamespace: props.platform.metricsNamespace,
      logLevel: props.logLevel,
      logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      dataProtection: props.dataProtection ?? DataProtection.RETAIN,
    };
  }

  /** Environment every function of the service gets: where its table is and how its events are published. */
  private serviceEnvironment(): Record<string, string> {
    const { props } = this;
    return {
      APP_NAME: props.platform.appName,
      ENV_NAME: props.platform.envName,
      TABLE_NAME: this.table.tableName,
      TABLE_PARTITION_KEY: props.partitionKey.name,
      ...(props.sortKey ? { TABLE_SORT_KEY: props.sortKey.name } : {}),
      EVENT_SOURCE: this.eventSource,
    };
  }

  /** The service's AppConfig flags and settings and its secrets, from `configuration` (each when declared). */
  private runtimeConfiguration(removalPolicy: RemovalPolicy): {
    configuration?: ServiceConfiguration;
    secrets?: ServiceSecrets;
  } {
    const { platform, configuration: options } = this.props;
    if (!options) return {};
    const hasProfiles =
      Object.keys(options.featureFlags ?? {}).length > 0 || Object.keys(options.settings ?? {}).length > 0;
    const configuration = hasProfiles
      ? new ServiceConfiguration(this, 'Configuration', {
          applicationName: `${platform.appName}-${platform.envName}-${this.serviceName}`,
          environmentName: platform.envName,
          featureFlags: options.featureFlags,
          settings: options.settings,
          deploymentStrategy: options.deploymentStrategy,
          maxAge: options.maxAge,
        })
      : undefined;
    const secrets =
      options.secrets && options.secrets.length > 0
        ? new ServiceSecrets(this, 'Secrets', {
            serviceName: this.serviceName,
            appName: platform.appName,
            envName: platform.envName,
            secrets: options.secrets,
            encryptionKey: this.encryptionKey,
            removalPolicy,
          })
        : undefined;
    if (secrets) {
      this.node.addValidation({
        validate: () =>
          secrets.unknownReaders(
            new Set([...Object.keys(this.functions), ...Object.keys(this.subscriptions)]),
          ),
      });
    }
    return { configuration, secrets };
  }

  /** Identifiers (never values) of the configuration and of the secrets function `functionId` reads. */
  private configurationEnvironment(functionId: string): Record<string, string> {
    if (!this.configuration && !this.secrets) return {};
    return {
      ...(this.configuration?.environmentVariables() ?? {}),
      ...(this.secrets?.environmentFor(functionId) ?? {}),
      [CONFIG_VARIABLES.MAX_AGE]: String(configurationMaxAge(this.props.configuration?.maxAge).toSeconds()),
    };
  }

  /** Read access to the configuration profiles and to the secrets `functionId` reads. */
  private grantConfiguration(fn: ServiceFunction, functionId: string): void {
    this.configuration?.grantRead(fn.function);
    this.secrets?.grantReadTo(fn.function, functionId);
  }

  /** The called service, found in the registry (one reference per service). */
  private callee(call: ServiceCall): IMicroservice {
    const id = `Calls-${call.service}`;
    const { appName, envName } = this.props.platform;
    return (
      (this.node.tryFindChild(id) as IMicroservice | undefined) ??
      Microservice.fromRegistry(this, id, { appName, envName, serviceName: call.service })
    );
  }

  private cognitoAuthorizerOf(platform: IPlatform): apigateway.CognitoUserPoolsAuthorizer {
    this.cognitoAuthorizer ??= new apigateway.CognitoUserPoolsAuthorizer(this, 'Authorizer', {
      cognitoUserPools: [platform.userPool],
      identitySource: apigateway.IdentitySource.header('Authorization'),
      resultsCacheTtl: Duration.minutes(5),
    });
    return this.cognitoAuthorizer;
  }

  /** Checks against the rest of the app, at synth (see {@link checkAgainstApp}). */
  private validateAgainstApp(): string[] {
    const { platform } = this;
    const constructs = this.node.root.node.findAll();
    const platforms = constructs.filter(
      (c): c is Platform => c instanceof Platform && sameEnvironment(c, platform),
    );
    const platformScopes =
      platform.declaredScopes || platforms.length === 0
        ? undefined
        : [...new Set(platforms.flatMap((p) => p.declaredScopes))];
    return checkAgainstApp(
      {
        serviceName: this.serviceName,
        platform,
        publishedEvents: this.publishedEvents,
        routes: this.routeSet.routes.map((route) => ({ route, where: this.routeLabels.get(route.id)! })),
        subscriptions: Object.entries(this.subscriptions).map(([id, consumer]) => ({
          eventTypes: consumer.eventTypes,
          where: this.subscriptionLabels.get(id)!,
        })),
      },
      platformScopes,
      constructs.filter((c): c is Microservice => c instanceof Microservice),
    );
  }
}
