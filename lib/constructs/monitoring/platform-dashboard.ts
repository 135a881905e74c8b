import { Aspects, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { DefaultDashboardFactory, MonitoringFacade } from 'cdk-monitoring-constructs';
import type { IConstruct } from 'constructs';
import { Construct } from 'constructs';
import type { IPlatform } from '../platform';
import { ServiceRegistry } from '../service-registry';
import { PlatformAlarmDestinations } from './alarm-destinations';
import type { AlarmTiming } from './alarm-timing';
import { alarmTiming } from './alarm-timing';
import { withoutTags } from './dashboard-tags';
import { monitorCognitoTrigger } from './cognito';
import { LogQueries } from './logs-insights';
import { ServiceMonitoring } from './service-monitoring';

/** A service shown on the {@link PlatformDashboard}, known by name. */
export interface PlatformDashboardService {
  /** The service's name, e.g. `orders`. */
  readonly serviceName: string;
  /**
   * The API's stage.
   * @default 'v1'
   */
  readonly stageName?: string;
  /**
   * The REST API's name (the `ApiName` dimension of its metrics).
   * @default `{app}-{env}-{serviceName}`, as {@link Microservice} names it
   */
  readonly apiName?: string;
  /**
   * Name of the stack the service's functions are in: their generated names start with it, so the dashboard
   * can sum their errors and throttles with a metric search.
   * @default - no function widgets for this service
   */
  readonly stackName?: string;
}

/** Monitoring of a {@link Platform}: its dashboard and the Cognito trigger's alarms. */
export interface PlatformMonitoringOptions {
  /**
   * Whether the platform gets its dashboard (every service side by side), the Cognito trigger's alarms and the
   * saved queries across services.
   * @default true
   */
  readonly enabled?: boolean;
  /**
   * The services to show side by side.
   * @default - every service monitored by a {@link ServiceMonitoring} of the same application and environment in
   * this CDK app, found at synth
   */
  readonly services?: PlatformDashboardService[];
  /**
   * Period and "M out of N" datapoints of the Cognito trigger's alarms.
   * @default - 3 of 5 one-minute periods
   */
  readonly alarmTiming?: AlarmTiming;
}

/** Properties of {@link PlatformDashboard}. */
export interface PlatformDashboardProps {
  /** The platform: its names and alarm destinations. */
  readonly platform: Pick<IPlatform, 'appName' | 'envName' | 'alarmTopic' | 'alarmActions'>;
  /**
   * The services to show side by side. More can be added with {@link PlatformDashboard.addService}.
   * @default - every service monitored by a {@link ServiceMonitoring} of the same application and environment in
   * this CDK app, found at synth (services of other apps are added by name)
   */
  readonly services?: PlatformDashboardService[];
  /**
   * The user pool's Lambda trigger (the platform's pre-token-generation trigger), monitored with alarms.
   * @default - none
   */
  readonly cognitoTrigger?: lambda.IFunction;
  /**
   * Period and "M out of N" datapoints of the Cognito trigger's alarms.
   * @default - 3 of 5 one-minute periods
   */
  readonly alarmTiming?: AlarmTiming;
}

/**
 * The platform's dashboard, `{app}-{env}-platform`: every service side by side (a column each: requests, 5xx and
 * 4xx rates, p50/p99 latency, the functions' errors and throttles, the state of its SLO burn-rate alarms), then
 * the Cognito trigger with its alarms (cdk-monitoring-constructs' facade and `LambdaFunctionMonitoring`, see
 * {@link monitorCognitoTrigger}), and saved Logs Insights queries across services (`{app}-{env}/...`, log groups
 * chosen when the query runs: select those starting with `{app}-{env}-`).
 *
 * Services live in other stacks, so every service metric and alarm is referred to by name (API name and stage,
 * alarm names from {@link ServiceMonitoring}'s naming), never by a cross-stack reference.
 */
export class PlatformDashboard extends Construct {
  /** The facade (add segments or widgets to the platform dashboard through it). */
  public readonly facade: MonitoringFacade;
  /** The dashboard. */
  public readonly dashboard: cloudwatch.Dashboard;
  /** Alarms of the Cognito trigger (errors, throttles, p99 duration). */
  public readonly cognitoTriggerAlarms: cloudwatch.IAlarm[];
  /** Saved queries across services. */
  public readonly logQueries: LogQueries;
  private readonly props: PlatformDashboardProps;
  private readonly services: PlatformDashboardService[] = [];
  private readonly serviceRow: cloudwatch.Row;

  constructor(scope: Construct, id: string, props: PlatformDashboardProps) {
    super(scope, id);
    this.props = props;
    const { appName, envName } = props.platform;
    const namePrefix = `${appName}-${envName}-${ServiceRegistry.PLATFORM}`;
    const dashboards = new DefaultDashboardFactory(this, 'Dashboards', {
      dashboardNamePrefix: namePrefix,
      createDashboard: true,
      createSummaryDashboard: false,
      createAlarmDashboard: false,
    });
    this.facade = new MonitoringFacade(this, 'Facade', {
      alarmFactoryDefaults: {
        alarmNamePrefix: namePrefix,
        actionsEnabled: true,
        action: new PlatformAlarmDestinations(props.platform),
      },
      dashboardFactory: dashboards,
    });
    this.dashboard = withoutTags(dashboards.dashboard!);
    this.facade.addLargeHeader(`${appName} ${envName}: services`);
    this.serviceRow = new cloudwatch.Row();
    this.facade.addWidget(this.serviceRow);
    this.cognitoTriggerAlarms = props.cognitoTrigger
      ? monitorCognitoTrigger(
          this.facade,
          'pre-token-generation',
          props.cognitoTrigger,
          alarmTiming('PlatformDashboard', 'alarmTiming', props.alarmTiming),
        ).map((a) => a.alarm)
      : [];
    this.logQueries = new LogQueries(this, 'LogQueries', { namePrefix: `${appName}-${envName}` });
    (props.services ?? []).forEach((service) => this.addService(service));
    if (!props.services) {
      // Services are complete only once the app is: find them when it synthesizes (before anything renders).
      Aspects.of(this).add({
        visit: (node: IConstruct) => {
          if (node === this) this.discoverServices();
        },
      });
    }
  }

  /** Adds a column for a service. */
  public addService(service: PlatformDashboardService): void {
    if (this.services.some((s) => s.serviceName === service.serviceName)) return;
    this.services.push(service);
    this.serviceRow.addWidget(new cloudwatch.Column(...this.serviceWidgets(service)));
  }

  private discoverServices(): void {
    const { appName, envName } = this.props.platform;
    for (const node of this.node.root.node.findAll()) {
      if (!(node instanceof ServiceMonitoring)) continue;
      if (node.platform.appName !== appName || node.platform.envName !== envName) continue;
      this.addService({
        serviceName: node.serviceName,
        apiName: node.apiName,
        stageName: node.stageName,
        stackName: Stack.of(node).stackName,
      });
    }
  }

  private serviceWidgets(service: PlatformDashboardService): cloudwatch.IWidget[] {
    const { appName, envName } = this.props.platform;
    const prefix = `${appName}-${envName}-${service.serviceName}`;
    const api = (metricName: string, statistic: string, label: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/ApiGateway',
        metricName,
        dimensionsMap: { ApiName: service.apiName ?? prefix, Stage: service.stageName ?? 'v1' },
        statistic,
        period: Duration.minutes(5),
        label,
      });
    const rate = (metricName: string, label: string) =>
      new cloudwatch.MathExpression({
        expression: `100 * r${metricName.toLowerCase()}`,
        usingMetrics: { [`r${metricName.toLowerCase()}`]: api(metricName, 'Average', metricName) },
        label,
        period: Duration.minutes(5),
      });
    const width = 8;
    const widgets: cloudwatch.IWidget[] = [
      new cloudwatch.TextWidget({ markdown: `### ${service.serviceName}`, width, height: 1 }),
      new cloudwatch.GraphWidget({
        title: `${service.serviceName}: requests`,
        width,
        height: 5,
        left: [api('Count', 'Sum', 'Requests')],
      }),
      new cloudwatch.GraphWidget({
        title: `${service.serviceName}: errors (%)`,
        width,
        height: 5,
        left: [rate('5XXError', '5xx %'), rate('4XXError', '4xx %')],
      }),
      new cloudwatch.GraphWidget({
        title: `${service.serviceName}: latency`,
        width,
        height: 5,
        left: [api('Latency', 'p50', 'p50'), api('Latency', 'p99', 'p99')],
      }),
    ];
    if (service.stackName) {
      const search = (metricName: string) =>
        new cloudwatch.MathExpression({
          expression: `SUM(SEARCH('{AWS/Lambda,FunctionName} MetricName="${metricName}" "${service.stackName}"', 'Sum', 300))`,
          label: metricName,
          period: Duration.minutes(5),
        });
      widgets.push(
        new cloudwatch.GraphWidget({
          title: `${service.serviceName}: function errors and throttles`,
          width,
          height: 5,
          left: [search('Errors'), search('Throttles')],
        }),
      );
    }
    widgets.push(
      new cloudwatch.AlarmStatusWidget({
        title: `${service.serviceName}: SLO burn-rate alarms`,
        width,
        height: 3,
        alarms: ServiceMonitoring.burnRateAlarmNames(prefix).map((name) =>
          cloudwatch.CompositeAlarm.fromCompositeAlarmName(this, `${service.serviceName}-${name}`, name),
        ),
      }),
    );
    return widgets;
  }
}
