import { Duration } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { DefaultDashboardFactory, MonitoringFacade } from 'cdk-monitoring-constructs';
import { Construct } from 'constructs';
import type { EventSubscription } from '../event-subscription';
import type { IPlatform } from '../platform';
import type { ServiceFunction } from '../service-function';
import type { TransactionalOutbox } from '../transactional-outbox';
import { fail, requireIntegerInRange } from '../validation';
import { PlatformAlarmDestinations } from './alarm-destinations';
import type { AlarmTiming } from './alarm-timing';
import { alarmTiming } from './alarm-timing';
import { withoutTags } from './dashboard-tags';
import { monitorApi } from './api-gateway';
import { monitorTable } from './dynamodb';
import { EventRuleMonitoring } from './eventbridge';
import { monitorFunction } from './lambda';
import { LogQueries } from './logs-insights';
import { PipeMonitoring } from './pipes';
import { ServiceLevelObjective, SRE_WORKBOOK_PAGE_WINDOWS } from './slo';
import { monitorQueue } from './sqs';

/** The service level objectives of a service's API (see {@link ServiceLevelObjective}). */
export interface ServiceLevelObjectiveOptions {
  /**
   * Whether the service has SLOs and burn-rate alarms.
   * @default true
   */
  readonly enabled?: boolean;
  /**
   * Availability objective: the percentage of API requests answered without a 5xx (`1 - 5XXError / Count`).
   * @default 99.9
   */
  readonly availabilityObjective?: number;
  /**
   * Latency objective: the percentage of API requests answered within `latencyThreshold` (API Gateway `Latency`,
   * measured by the percentile-rank statistic `PR(:threshold)`, so it counts requests, not a percentile of a
   * percentile).
   * @default 99
   */
  readonly latencyObjective?: number;
  /**
   * The latency a request must stay within to count as good for the latency SLO.
   * @default Duration.seconds(1)
   */
  readonly latencyThreshold?: Duration;
}

/**
 * Monitoring of a {@link Microservice}: on by default, every threshold tunable. Alarms breach when a metric is
 * *above* the threshold for `alarmTiming.datapointsToAlarm` out of `alarmTiming.evaluationPeriods` periods.
 */
export interface ServiceMonitoringOptions {
  /**
   * Whether the service gets a dashboard, alarms, SLOs and saved log queries.
   * @default true
   */
  readonly enabled?: boolean;
  /**
   * Period and "M out of N" datapoints of the threshold alarms (functions, API, table).
   * @default - 3 of 5 one-minute periods
   */
  readonly alarmTiming?: AlarmTiming;
  /**
   * Errors per period of one function (Lambda `Errors`, Sum) above which a period breaches.
   * @default 0
   */
  readonly maxFunctionErrors?: number;
  /**
   * Throttled invocations per period of one function (Lambda `Throttles`, Sum) above which a period breaches.
   * @default 0
   */
  readonly maxFunctionThrottles?: number;
  /**
   * p99 duration of a function, in percent of its timeout, above which a period breaches.
   * @default 80
   */
  readonly functionDurationP99PercentOfTimeout?: number;
  /**
   * Share of API requests answered with a 5xx, in percent, above which a period breaches.
   * @default 1
   */
  readonly maxApiServerErrorPercent?: number;
  /**
   * p99 latency of the API above which a period breaches.
   * @default Duration.seconds(2)
   */
  readonly maxApiLatencyP99?: Duration;
  /**
   * Throttled read (and, separately, write) events per period of the table above which a period breaches.
   * @default 0
   */
  readonly maxTableThrottledRequests?: number;
  /**
   * DynamoDB system errors per period of the table above which a period breaches.
   * @default 0
   */
  readonly maxTableSystemErrors?: number;
  /**
   * Failed invocations of a subscription's bus rule per 5 minutes above which its alarm fires (one datapoint).
   * @default 0
   */
  readonly maxRuleFailedInvocations?: number;
  /**
   * The availability and latency SLOs and their burn-rate alarms.
   * @default - availability 99.9%, latency 99% within 1 s, SRE workbook paging windows
   */
  readonly slo?: ServiceLevelObjectiveOptions;
}

/** Properties of {@link ServiceMonitoring}. */
export interface ServiceMonitoringProps extends ServiceMonitoringOptions {
  /** The service's name: its dashboard is `{app}-{env}-{service}`, and every alarm name starts with it. */
  readonly serviceName: string;
  /** The platform: application and environment names, and the destinations every alarm notifies. */
  readonly platform: IPlatform;
  /** The service's REST API (its `deploymentStage` is monitored). */
  readonly api: apigateway.RestApi;
  /** The service's table. */
  readonly table: dynamodb.ITable;
  /**
   * The API's access log group, added to the saved log queries.
   * @default - none
   */
  readonly accessLogGroup?: logs.ILogGroup;
}

const SERVICE = 'ServiceMonitoring';
/** The SLOs every monitored service has. */
const SLO_NAMES = ['availability', 'latency'];

/**
 * Dashboard, alarms, SLOs and saved log queries of one service, built with cdk-monitoring-constructs'
 * `MonitoringFacade` (one detail dashboard named `{app}-{env}-{service}`; alarm names start with that prefix).
 *
 * - API (`ApiGatewayMonitoring`, see {@link monitorApi}): golden signals; alarms on the 5xx rate and p99 latency.
 * - SLOs ({@link ServiceLevelObjective}, written here: the library has no burn rates): availability and latency,
 *   each with the SRE workbook's 1 h/5 min (14.4) and 6 h/30 min (6) composite burn-rate alarms.
 * - Table (`DynamoTableMonitoring`, {@link monitorTable}): alarms on throttled events and system errors.
 * - Each function (`LambdaFunctionMonitoring`, {@link monitorFunction}): alarms on errors, throttles and p99
 *   duration; {@link functionAlarms} returns them (e.g. for a deployment's automatic rollback).
 * - Each subscription: its consumer function as above, its queue and dead-letter queue
 *   (`SqsQueueMonitoringWithDlq`, {@link monitorQueue}, showing the subscription's own queue-age and dead-letter
 *   alarms rather than duplicating them) and its bus rule ({@link EventRuleMonitoring}, written here: alarm on
 *   `FailedInvocations`).
 * - The outbox pipe ({@link PipeMonitoring}, written here), showing the outbox's own failure and dead-letter alarms.
 * - Saved Logs Insights queries ({@link LogQueries}) over the functions', access and pipe log groups.
 *
 * Every alarm that notifies goes to the platform's destinations (`platform.alarmActions`, else its topic);
 * {@link alarms} lists them all, with the reused ones, and the dashboard opens with their state.
 */
export class ServiceMonitoring extends Construct {
  /**
   * Names of the SLO burn-rate (composite) alarms of a service whose names start with `namePrefix`
   * (`{app}-{env}-{service}`) and whose SLOs have the default windows: what the platform dashboard shows by name.
   */
  public static burnRateAlarmNames(namePrefix: string): string[] {
    return SLO_NAMES.flatMap((name) =>
      SRE_WORKBOOK_PAGE_WINDOWS.map((w) => ServiceLevelObjective.burnRateAlarmName(namePrefix, name, w)),
    );
  }

  /** The monitored service. */
  public readonly serviceName: string;
  /** The platform the service attaches to. */
  public readonly platform: IPlatform;
  /** Name of the REST API (the `ApiName` dimension of its metrics). */
  public readonly apiName: string;
  /** The API's stage (the `Stage` dimension). */
  public readonly stageName: string;
  /** The cdk-monitoring-constructs facade (add your own segments or custom metrics to it). */
  public readonly facade: MonitoringFacade;
  /** The service's dashboard. */
  public readonly dashboard: cloudwatch.Dashboard;
  /** The availability SLO (absent when `slo.enabled` is false). */
  public readonly availability?: ServiceLevelObjective;
  /** The latency SLO (absent when `slo.enabled` is false). */
  public readonly latency?: ServiceLevelObjective;
  /** Saved Logs Insights queries over the service's log groups. */
  public readonly logQueries: LogQueries;
  /** Name prefix of the dashboard and of every alarm: `{app}-{env}-{service}`. */
  public readonly namePrefix: string;
  /** Every alarm that notifies for this service: created here, and reused from its subscriptions and outbox. */
  public readonly alarms: cloudwatch.IAlarm[] = [];

  private readonly props: ServiceMonitoringProps;
  private readonly timing: Required<AlarmTiming>;
  private readonly destinations: PlatformAlarmDestinations;
  private readonly alarmsByFunction = new Map<string, cloudwatch.IAlarm[]>();

  constructor(scope: Construct, id: string, props: ServiceMonitoringProps) {
    super(scope, id);
    this.props = props;
    this.serviceName = props.serviceName;
    this.platform = props.platform;
    this.apiName = props.api.restApiName;
    // The stage's name as written (not a reference), so other stacks' dashboards can name it too.
    this.stageName =
      (props.api.deploymentStage.node.defaultChild as apigateway.CfnStage).stageName ??
      props.api.deploymentStage.stageName;
    this.timing = alarmTiming(SERVICE, 'alarmTiming', props.alarmTiming);
    for (const key of [
      'maxFunctionErrors',
      'maxFunctionThrottles',
      'maxTableThrottledRequests',
      'maxTableSystemErrors',
      'maxRuleFailedInvocations',
    ] as const) {
      requireIntegerInRange(SERVICE, key, props[key], 0, 1_000_000_000);
    }
    requirePercent('functionDurationP99PercentOfTimeout', props.functionDurationP99PercentOfTimeout);
    requirePercent('maxApiServerErrorPercent', props.maxApiServerErrorPercent);
    const { platform } = props;
    this.namePrefix = `${platform.appName}-${platform.envName}-${props.serviceName}`;
    this.destinations = new PlatformAlarmDestinations(platform);
    const dashboards = new DefaultDashboardFactory(this, 'Dashboards', {
      dashboardNamePrefix: this.namePrefix,
      createDashboard: true,
      createSummaryDashboard: false,
      createAlarmDashboard: false,
    });
    this.facade = new MonitoringFacade(this, 'Facade', {
      alarmFactoryDefaults: {
        alarmNamePrefix: this.namePrefix,
        actionsEnabled: true,
        action: this.destinations,
      },
      dashboardFactory: dashboards,
    });
    this.dashboard = withoutTags(dashboards.dashboard!);
    this.facade.addLargeHeader(`${props.serviceName} (${platform.appName} ${platform.envName})`);
    // Read when the dashboard is rendered, so alarms of routes and subscriptions added later are included.
    this.facade.addWidget(
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', width: 24, height: 6, alarms: this.alarms }),
    );

    const { stageName } = this;
    this.track(
      monitorApi(
        this.facade,
        props.api,
        stageName,
        {
          maxServerErrorPercent: props.maxApiServerErrorPercent ?? 1,
          maxLatencyP99: props.maxApiLatencyP99 ?? Duration.seconds(2),
        },
        this.timing,
      ).alarms.map((a) => a.alarm),
    );
    if (props.slo?.enabled ?? true) {
      ({ availability: this.availability, latency: this.latency } = this.objectives(this.apiName, stageName));
    }
    this.track(
      monitorTable(
        this.facade,
        props.table,
        {
          maxThrottledRequests: props.maxTableThrottledRequests ?? 0,
          maxSystemErrors: props.maxTableSystemErrors ?? 0,
        },
        this.timing,
      ).alarms.map((a) => a.alarm),
    );
    this.logQueries = new LogQueries(this, 'LogQueries', {
      namePrefix: `${platform.appName}-${platform.envName}/${props.serviceName}`,
      logGroups: props.accessLogGroup ? [props.accessLogGroup] : [],
    });
  }

  /**
   * The alarms of a function added with {@link addFunction} or {@link addSubscription} (errors, throttles, p99
   * duration), by its id; empty for an unknown id.
   */
  public functionAlarms(id: string): cloudwatch.IAlarm[] {
    return [...(this.alarmsByFunction.get(id) ?? [])];
  }

  /** Monitors a route function: dashboard section, alarms, and its log group in the saved queries. */
  public addFunction(id: string, fn: ServiceFunction): cloudwatch.IAlarm[] {
    const timeout = fn.function.timeout ?? Duration.seconds(3);
    const percent = this.props.functionDurationP99PercentOfTimeout ?? 80;
    const alarms = monitorFunction(
      this.facade,
      id,
      fn.function,
      {
        maxErrors: this.props.maxFunctionErrors ?? 0,
        maxThrottles: this.props.maxFunctionThrottles ?? 0,
        maxDurationP99: Duration.millis(Math.round((timeout.toMilliseconds() * percent) / 100)),
      },
      this.timing,
    ).alarms.map((a) => a.alarm);
    this.alarmsByFunction.set(id, alarms);
    this.track(alarms);
    this.logQueries.addLogGroup(fn.logGroup);
    return alarms;
  }

  /**
   * Monitors a subscription: its consumer (as {@link addFunction}), its queue and dead-letter queue (showing the
   * subscription's queue-age and dead-letter alarms) and its rule (alarm on `FailedInvocations`).
   */
  public addSubscription(id: string, subscription: EventSubscription): void {
    this.facade.addLargeHeader(`Subscription ${id}`);
    this.addFunction(id, subscription.consumer);
    monitorQueue(this.facade, `${id}-queue`, subscription.queue, subscription.deadLetterQueue);
    this.track([subscription.queueAgeAlarm, subscription.deadLetterAlarm]);
    const rule = new EventRuleMonitoring(this.facade, {
      rule: subscription.rule,
      eventBus: this.props.platform.eventBus,
      name: id,
      maxFailedInvocations: this.props.maxRuleFailedInvocations ?? 0,
    });
    this.facade.addSegment(rule);
    this.track([rule.failedInvocationsAlarm.alarm]);
  }

  /** Shows the outbox pipe with its failure and dead-letter alarms, and adds its log group to the queries. */
  public addOutbox(outbox: TransactionalOutbox): void {
    this.facade.addSegment(
      new PipeMonitoring(this.facade, {
        pipeName: outbox.pipe.ref,
        title: 'Outbox pipe',
        deadLetterQueue: outbox.deadLetterQueue,
        alarms: [outbox.failureAlarm, outbox.deadLetterAlarm],
      }),
    );
    this.track([outbox.failureAlarm, outbox.deadLetterAlarm]);
    this.logQueries.addLogGroup(outbox.logGroup);
  }

  private objectives(
    apiName: string,
    stageName: string,
  ): { availability: ServiceLevelObjective; latency: ServiceLevelObjective } {
    const slo = this.props.slo ?? {};
    const threshold = slo.latencyThreshold ?? Duration.seconds(1);
    const api = (metricName: string, statistic: string, window: Duration) =>
      new cloudwatch.Metric({
        namespace: 'AWS/ApiGateway',
        metricName,
        dimensionsMap: { ApiName: apiName, Stage: stageName },
        statistic,
        period: window,
      });
    const availability = new ServiceLevelObjective(this.facade, {
      namePrefix: this.namePrefix,
      name: 'availability',
      description: `${this.props.serviceName} API requests answered without a 5xx`,
      objective: slo.availabilityObjective ?? 99.9,
      badEventRatio: (window) =>
        new cloudwatch.MathExpression({
          expression: 'FILL(errors, 0) / requests',
          usingMetrics: { errors: api('5XXError', 'Sum', window), requests: api('Count', 'Sum', window) },
          period: window,
        }),
    });
    const latency = new ServiceLevelObjective(this.facade, {
      namePrefix: this.namePrefix,
      name: 'latency',
      description: `${this.props.serviceName} API requests answered within ${threshold.toHumanString()}`,
      objective: slo.latencyObjective ?? 99,
      badEventRatio: (window) =>
        new cloudwatch.MathExpression({
          expression: '(100 - within) / 100',
          usingMetrics: {
            within: api('Latency', cloudwatch.Stats.percentileRank(threshold.toMilliseconds()), window),
          },
          period: window,
        }),
    });
    for (const objective of [availability, latency]) {
      this.facade.addSegment(objective);
      this.track(objective.burnRateAlarms);
    }
    return { availability, latency };
  }

  private track(alarms: cloudwatch.IAlarm[]): void {
    this.alarms.push(...alarms);
  }
}

function requirePercent(prop: string, value: number | undefined): void {
  if (value !== undefined && !(value > 0 && value <= 100)) {
    fail(SERVICE, prop, value, 'must be a percentage greater than 0 and at most 100');
  }
}
