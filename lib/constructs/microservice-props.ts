import type { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { EventContract } from '../../functions/shared/events/contract';
import type { DataProtection } from './data-protection';
import type { DeploymentOptions } from './deployment';
import type { EventSubscriptionProps } from './event-subscription';
import type { ServiceFrontDoorOptions } from './front-door';
import type { PartnerPlan } from './partner-access';
import type { ServiceMonitoringOptions } from './monitoring/service-monitoring';
import type { IPlatform } from './platform';
import type { AccessMode, RouteProps, ThrottleSettings } from './route';
import type { ServiceApiOverrides } from './service-api';
import type { ServiceConfigurationOptions } from './service-configuration';
import type { LogLevel, ServiceFunctionOverrides } from './service-function';
import type { ServiceTableOverrides, TableThroughput } from './service-table';

/**
 * An asynchronous consumer added with {@link Microservice.addSubscription}: the {@link EventSubscriptionProps}
 * except what the service supplies (its name, the platform's bus and alarms, its key, log settings and data
 * protection), plus the consumer's access to the service's table.
 */
export interface SubscriptionOptions extends Omit<
  EventSubscriptionProps,
  | 'serviceName'
  | 'appName'
  | 'metricsNamespace'
  | 'eventBus'
  | 'encryptionKey'
  | 'alarmTopic'
  | 'alarmActions'
  | 'logLevel'
  | 'logRetention'
  | 'dataProtection'
  | 'deployment'
> {
  /**
   * Access the consumer gets to the service's table.
   * @default AccessMode.READ_WRITE
   */
  readonly tableAccess?: AccessMode;
}

/** An asynchronous consumer declared in {@link MicroserviceProps.subscriptions}. */
export interface SubscriptionDefinition extends SubscriptionOptions {
  /** Construct id and name of the consumer, e.g. `reserve-stock`; keep it stable. */
  readonly id: string;
}

/** Properties of {@link Microservice}. */
export interface MicroserviceProps {
  /** Service name: lowercase, 2-31 characters. Names the API, registry entries and metrics dimension. */
  readonly serviceName: string;
  /** The platform to attach to (a {@link Platform} or a {@link PlatformReference}). */
  readonly platform: IPlatform;
  /** Partition key of the service's table (of `table`, when given). */
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
  /**
   * An existing table to use instead of creating one (e.g. a table that predates the service, or one defined
   * in a data stack). The service grants on it as on its own; its encryption, backups and retention are its
   * owner's. Cannot be combined with `globalSecondaryIndexes`, `timeToLiveAttribute`, `tableThroughput` or
   * `tableProps`; a publishing service needs the table's stream (`tableStreamArn`) with new images.
   * @default - a new {@link ServiceTable}
   */
  readonly table?: dynamodb.ITable;
  /**
   * DynamoDB properties merged over the table's defaults; encryption with the service key, point-in-time
   * recovery, deletion protection of a retained table and a publisher's stream cannot be switched off (see
   * {@link ServiceTableOverrides}).
   * @default - none
   */
  readonly tableProps?: ServiceTableOverrides;
  /**
   * The routes; each gets its own function. More can be added with {@link Microservice.addRoute}; a service
   * with no route at all fails synth.
   * @default - none here (add them with addRoute)
   */
  readonly routes?: RouteProps[];
  /**
   * REST API properties merged over the API's defaults; tracing, access logs, no body logging, per-route
   * authorization and TLS 1.2 cannot be switched off (see {@link ServiceApiOverrides}).
   * @default - none
   */
  readonly restApiProps?: ServiceApiOverrides;
  /**
   * Lambda properties for every function of the service (routes and subscriptions); a route's or
   * subscription's own `functionProps` are merged over these. Tracing, JSON logs, the Node.js runtime and the
   * bundle cannot be overridden (see {@link ServiceFunctionOverrides}).
   * @default - none
   */
  readonly functionProps?: ServiceFunctionOverrides;
  /**
   * Contracts of the events the service publishes through its transactional outbox, e.g.
   * `[OrderPlaced, OrderCancelled]` (defined with `defineContract`). Each contract's `producer` must be this
   * service's `serviceName`. Turns on the table stream, outbox TTL and a {@link TransactionalOutbox}.
   * @default - publishes nothing
   */
  readonly publishes?: EventContract[];
  /**
   * Asynchronous consumers, each an {@link EventSubscription}. More can be added with
   * {@link Microservice.addSubscription}.
   * @default - none
   */
  readonly subscriptions?: SubscriptionDefinition[];
  /**
   * Whether the table, key and logs outlive the stack (RETAIN also turns on deletion protection).
   * @default DataProtection.RETAIN
   */
  readonly dataProtection?: DataProtection;
  /**
   * Customer-managed key for the table, its queues and outbox.
   * @default - the key of `table` when given and encrypted with one, else a new key owned by the service, with
   * rotation
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
  /**
   * Runtime configuration of the service: feature flags and settings (AWS AppConfig) and secrets (AWS Secrets
   * Manager). Each function gets identifiers in its environment (never a value) and read access, and reads the
   * values with `featureFlag`, `setting` and `secret` of `cdk-microservices/kit/config`, cached.
   * @default - no feature flags, settings or secrets
   */
  readonly configuration?: ServiceConfigurationOptions;
  /**
   * Maps the API's stage on the platform's custom domain (see {@link FrontDoor}) under a base path, so clients
   * call `https://api.example.com/{serviceName}/...`; pass `{}` to use the platform's front door found in the
   * registry and the service name as base path.
   * @default - no custom domain mapping (clients use the `execute-api` URL)
   */
  readonly frontDoor?: ServiceFrontDoorOptions;
  /**
   * Partner clients, each with its own API key and a usage plan (throttle, quota) on the API's stage. The plans
   * apply to the routes marked `apiKeyRequired`; at least one route must be. More can be added with
   * {@link Microservice.addPartner}.
   * @default - no usage plans or API keys
   */
  readonly partners?: PartnerPlan[];
  /**
   * Safe rollouts of every function of the service (routes and subscriptions): each `live` alias moves to a
   * new version through CodeDeploy (canary by default) and rolls back when that function's error or p99
   * duration alarm fires (see {@link SafeDeployment}). The alarms notify the platform's alarm destinations
   * unless `alarmActions` says otherwise.
   * @default - no CodeDeploy: aliases move to new versions at once
   */
  readonly deployment?: DeploymentOptions;
  /**
   * Monitoring: a dashboard, alarms to the platform's destinations, availability and latency SLOs with burn-rate
   * alarms, and saved Logs Insights queries (see {@link ServiceMonitoring}); on unless `enabled: false`, every
   * threshold tunable.
   * @default - on, with the defaults of {@link ServiceMonitoringOptions}
   */
  readonly monitoring?: ServiceMonitoringOptions;
}
