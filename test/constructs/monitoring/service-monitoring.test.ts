import { Duration } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as logs from 'aws-cdk-lib/aws-logs';
import { OrderPlaced, StockReserved } from '../../../functions/contracts/events';
import type { MicroserviceProps } from '../../../lib';
import {
  AccessMode,
  HttpMethod,
  Microservice,
  RouteAccess,
  ServiceLevelObjective,
  ServiceMonitoring,
} from '../../../lib';
import { HEALTH_HANDLER, serviceStack } from '../../helpers';
import {
  alarmNamed,
  alarmNames,
  dashboardBody,
  metricStatOf,
  PLATFORM_ACTIONS,
  widgetTitles,
} from './monitoring-fixture';

const PREFIX = 'Shop-test-orders';

/** The orders service: two routes (10 s timeout), an outbox, one subscription (30 s consumer timeout). */
function build(overrides: Partial<MicroserviceProps> = {}) {
  const { app, stack, platform } = serviceStack('Shop-test-Orders');
  const service = new Microservice(stack, 'Service', {
    serviceName: 'orders',
    platform,
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    publishes: [OrderPlaced],
    logRetention: logs.RetentionDays.THREE_MONTHS,
    routes: [
      {
        method: HttpMethod.POST,
        path: '/orders',
        entry: HEALTH_HANDLER,
        access: RouteAccess.scopes('orders.write'),
        tableAccess: AccessMode.READ_WRITE,
      },
      { method: HttpMethod.GET, path: '/health', entry: HEALTH_HANDLER, access: RouteAccess.PUBLIC },
    ],
    subscriptions: [{ id: 'stock-results', events: [StockReserved], entry: HEALTH_HANDLER }],
    ...overrides,
  });
  return { app, stack, service, template: Template.fromStack(stack) };
}

/** What every threshold alarm shares by default: 3 of 5 one-minute datapoints, notifying the platform. */
const DEFAULT_TIMING = {
  ComparisonOperator: 'GreaterThanThreshold',
  EvaluationPeriods: 5,
  DatapointsToAlarm: 3,
  TreatMissingData: 'notBreaching',
  ActionsEnabled: true,
  AlarmActions: PLATFORM_ACTIONS,
};

describe('ServiceMonitoring (on by default in every Microservice)', () => {
  const { service, template } = build();

  it('creates the service dashboard named {app}-{env}-{service}', () => {
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: PREFIX });
    expect(service.monitoring?.dashboard).toBeDefined();
  });

  it('alarms when more than 1% of API requests fail with a 5xx (5XXError Average per minute)', () => {
    const alarm = alarmNamed(template, `${PREFIX}-api-Fault-Rate-Critical`);
    expect(alarm).toMatchObject({
      ...DEFAULT_TIMING,
      Threshold: 0.01,
      Metrics: [
        expect.objectContaining({
          MetricStat: {
            Metric: {
              Namespace: 'AWS/ApiGateway',
              MetricName: '5XXError',
              Dimensions: [
                { Name: 'ApiName', Value: PREFIX },
                { Name: 'Stage', Value: 'v1' },
              ],
            },
            Period: 60,
            Stat: 'Average',
          },
        }),
      ],
    });
  });

  it('alarms when the API p99 latency is above 2 s', () => {
    const alarm = alarmNamed(template, `${PREFIX}-api-Latency-P99-Critical`);
    expect(alarm).toMatchObject({ ...DEFAULT_TIMING, Threshold: 2000 });
    expect(metricStatOf(alarm)).toEqual({
      Metric: {
        Namespace: 'AWS/ApiGateway',
        MetricName: 'Latency',
        Dimensions: [
          { Name: 'ApiName', Value: PREFIX },
          { Name: 'Stage', Value: 'v1' },
        ],
      },
      Period: 60,
      Stat: 'p99',
    });
  });

  it.each([
    ['post-orders', 8000],
    ['get-health', 8000],
    ['stock-results', 24000],
  ])('alarms on errors, throttles and p99 duration (80%% of the timeout) of function %s', (id, p99) => {
    expect.hasAssertions();
    const expectations: Array<[string, string, string, number]> = [
      ['Fault-Count', 'Errors', 'Sum', 0],
      ['Throttled-Count', 'Throttles', 'Sum', 0],
      ['Latency-P99', 'Duration', 'p99', p99],
    ];
    for (const [suffix, metricName, stat, threshold] of expectations) {
      const alarm = alarmNamed(template, `${PREFIX}-${id}-${suffix}-Critical`);
      expect(alarm).toMatchObject({ ...DEFAULT_TIMING, Threshold: threshold });
      const metricStat = metricStatOf(alarm);
      expect(metricStat).toMatchObject({
        Metric: { Namespace: 'AWS/Lambda', MetricName: metricName },
        Period: 60,
        Stat: stat,
      });
      const [dimension] = (metricStat.Metric as { Dimensions: Array<{ Name: string; Value: unknown }> })
        .Dimensions;
      expect(dimension.Name).toBe('FunctionName');
      expect(JSON.stringify(dimension.Value)).toMatch(
        new RegExp(`"Service${id.replace(/-/g, '')}(Consumer)?Function[0-9A-F]{8}"`),
      );
    }
  });

  it('alarms on the table: read and write throttle events and system errors of every operation', () => {
    for (const [name, metric] of [
      ['Read-Throttled-Events', 'ReadThrottleEvents'],
      ['Write-Throttled-Events', 'WriteThrottleEvents'],
    ]) {
      const alarm = alarmNamed(template, `${PREFIX}-table-${name}-Critical`);
      expect(alarm).toMatchObject({ ...DEFAULT_TIMING, Threshold: 0 });
      const metrics = alarm.Metrics as Array<Record<string, unknown>>;
      expect(metrics).toEqual([
        expect.objectContaining({ Expression: expect.stringMatching(/^FILL\(\w+,0\)$/), ReturnData: true }),
        expect.objectContaining({
          MetricStat: {
            Metric: {
              Namespace: 'AWS/DynamoDB',
              MetricName: metric,
              Dimensions: [{ Name: 'TableName', Value: { Ref: expect.stringMatching(/^ServiceTable/) } }],
            },
            Period: 60,
            Stat: 'Sum',
          },
          ReturnData: false,
        }),
      ]);
    }
    const errors = alarmNamed(template, `${PREFIX}-table-SystemError-Count-Critical`);
    expect(errors).toMatchObject({ ...DEFAULT_TIMING, Threshold: 0 });
    const operations = (errors.Metrics as Array<{ MetricStat?: { Metric: { Dimensions: unknown[] } } }>)
      .filter((m) => m.MetricStat)
      .map((m) => (m.MetricStat!.Metric.Dimensions[0] as { Value: string }).Value);
    expect(operations).toEqual(
      expect.arrayContaining(['GetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem']),
    );
  });

  it("alarms on the subscription rule's FailedInvocations on the platform's bus, in one 5-minute datapoint", () => {
    const alarm = alarmNamed(template, `${PREFIX}-stock-results-Rule-FailedInvocations-Critical`);
    expect(alarm).toMatchObject({
      ...DEFAULT_TIMING,
      Threshold: 0,
      EvaluationPeriods: 1,
      DatapointsToAlarm: 1,
    });
    expect(metricStatOf(alarm)).toEqual({
      Metric: {
        Namespace: 'AWS/Events',
        MetricName: 'FailedInvocations',
        Dimensions: [
          { Name: 'EventBusName', Value: expect.objectContaining({ 'Fn::Select': expect.any(Array) }) },
          { Name: 'RuleName', Value: { Ref: expect.stringMatching(/^ServicestockresultsRule/) } },
        ],
      },
      Period: 300,
      Stat: 'Sum',
    });
  });

  it('reuses the queue-age, dead-letter and pipe alarms of the subscription and outbox instead of duplicating them', () => {
    const resources = Object.values(
      template.toJSON().Resources as Record<
        string,
        { Type: string; Properties: { MetricName?: string; Namespace?: string } }
      >,
    );
    const byMetric = (name: string) =>
      resources.filter((r) => r.Type === 'AWS::CloudWatch::Alarm' && r.Properties.MetricName === name).length;
    expect(byMetric('ApproximateAgeOfOldestMessage')).toBe(1);
    expect(byMetric('ApproximateNumberOfMessagesVisible')).toBe(2); // subscription DLQ, outbox DLQ
    expect(byMetric('ExecutionFailed')).toBe(1);
    const names = service.monitoring!.alarms.map((a) => a.node.path);
    for (const reused of [
      service.subscriptions['stock-results'].queueAgeAlarm,
      service.subscriptions['stock-results'].deadLetterAlarm,
      service.outbox!.failureAlarm,
      service.outbox!.deadLetterAlarm,
    ]) {
      expect(names).toContain(reused.node.path);
    }
  });

  it('has exactly these alarms, every one (but the SLO window alarms) notifying the platform', () => {
    expect(alarmNames(template, 'AWS::CloudWatch::Alarm').filter((n) => n?.startsWith(PREFIX))).toEqual(
      [
        'api-Fault-Rate-Critical',
        'api-Latency-P99-Critical',
        ...['get-health', 'post-orders', 'stock-results'].flatMap((id) =>
          ['Fault-Count', 'Latency-P99', 'Throttled-Count'].map((s) => `${id}-${s}-Critical`),
        ),
        'stock-results-Rule-FailedInvocations-Critical',
        ...['availability', 'latency'].flatMap((slo) =>
          ['1h', '30m', '5m', '6h'].map((w) => `SLO-${slo}-burn-rate-${w}`),
        ),
        'table-Read-Throttled-Events-Critical',
        'table-SystemError-Count-Critical',
        'table-Write-Throttled-Events-Critical',
      ]
        .map((n) => `${PREFIX}-${n}`)
        .sort(),
    );
    const alarms = Object.values(
      template.findResources('AWS::CloudWatch::Alarm') as Record<
        string,
        { Properties: Record<string, unknown> }
      >,
    );
    expect(alarms).toHaveLength(27); // the 23 above + queue age + 2 dead-letter + pipe failure
    for (const { Properties } of alarms) {
      const windowAlarm = /-SLO-.*-burn-rate-\d+[mh]$/.test(String(Properties.AlarmName));
      expect({ name: Properties.AlarmName, actions: Properties.AlarmActions }).toEqual({
        name: Properties.AlarmName,
        actions: windowAlarm ? undefined : expect.any(Array),
      });
      if (!windowAlarm) {
        expect(Properties).toMatchObject({
          AlarmActions: PLATFORM_ACTIONS,
        });
      }
    }
  });

  describe('SLOs with multi-window, multi-burn-rate alarms', () => {
    it.each([
      ['availability', '(FILL(errors_W, 0) / requests_W) / 0.001', 0.001],
      ['latency', '((100 - within_W) / 100) / 0.01', 0.01],
    ])('%s: window alarms compute the burn rate over exactly the window', (slo, expression) => {
      expect.hasAssertions();
      for (const [window, seconds, burnRate] of [
        ['1h', 3600, 14.4],
        ['5m', 300, 14.4],
        ['6h', 21600, 6],
        ['30m', 1800, 6],
      ] as const) {
        const alarm = alarmNamed(template, `${PREFIX}-SLO-${slo}-burn-rate-${window}`);
        expect(alarm).toMatchObject({
          Threshold: burnRate,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
          EvaluationPeriods: 1,
          DatapointsToAlarm: 1,
          TreatMissingData: 'notBreaching',
        });
        expect(alarm.AlarmActions).toBeUndefined();
        const metrics = alarm.Metrics as Array<{
          Expression?: string;
          Id: string;
          MetricStat?: { Metric: Record<string, unknown>; Period: number; Stat: string };
        }>;
        expect(metrics[0].Expression).toBe(expression.replace(/_W/g, `_${window}`));
        const stats = metrics.slice(1).map((m) => ({
          id: m.Id,
          metric: m.MetricStat!.Metric.MetricName,
          stat: m.MetricStat!.Stat,
          period: m.MetricStat!.Period,
          dimensions: m.MetricStat!.Metric.Dimensions,
        }));
        const dimensions = [
          { Name: 'ApiName', Value: PREFIX },
          { Name: 'Stage', Value: 'v1' },
        ];
        expect(stats).toEqual(
          slo === 'availability'
            ? [
                { id: `errors_${window}`, metric: '5XXError', stat: 'Sum', period: seconds, dimensions },
                { id: `requests_${window}`, metric: 'Count', stat: 'Sum', period: seconds, dimensions },
              ]
            : [{ id: `within_${window}`, metric: 'Latency', stat: 'PR(:1000)', period: seconds, dimensions }],
        );
      }
    });

    it.each([
      ['availability', '1h', '5m'],
      ['availability', '6h', '30m'],
      ['latency', '1h', '5m'],
      ['latency', '6h', '30m'],
    ])('%s: pages through a composite alarm when both the %s and %s windows burn', (slo, long, short) => {
      const composite = alarmNamed(template, `${PREFIX}-SLO-${slo}-burn-rate-${long}-${short}`);
      expect(composite).toMatchObject({
        ActionsEnabled: true,
        AlarmActions: PLATFORM_ACTIONS,
      });
      const rule = composite.AlarmRule as { 'Fn::Join': [string, unknown[]] };
      const text = rule['Fn::Join'][1]
        .map((p) =>
          typeof p === 'string' ? p : `<${(p as { 'Fn::GetAtt': string[] })['Fn::GetAtt'].join('.')}>`,
        )
        .join('');
      const id = (window: string) =>
        `ServiceMonitoringFacadeShoptestordersSLO${slo}burnrate${window}[0-9A-F]{8}`;
      expect(text).toMatch(
        new RegExp(`^\\(ALARM\\("<${id(long)}\\.Arn>"\\) AND ALARM\\("<${id(short)}\\.Arn>"\\)\\)$`),
      );
    });

    it('names the composite alarms as the platform dashboard expects them', () => {
      expect(ServiceMonitoring.burnRateAlarmNames(PREFIX)).toEqual(
        service
          .monitoring!.availability!.burnRateAlarms.concat(service.monitoring!.latency!.burnRateAlarms)
          .map((a) => (a.node.defaultChild as unknown as { alarmName: string }).alarmName),
      );
      template.resourceCountIs('AWS::CloudWatch::CompositeAlarm', 4);
    });
  });

  it('shows the golden signals, the SLOs, the table, the outbox pipe, each function, queue and rule on the dashboard', () => {
    const titles = widgetTitles(dashboardBody(template, PREFIX));
    const sections = titles.filter((t) => t.startsWith('#'));
    expect(sections).toEqual([
      '# orders (Shop test)',
      '### API Gateway Endpoint **API**',
      expect.stringMatching(/^#+ .*SLO availability/),
      expect.stringMatching(/^#+ .*SLO latency/),
      expect.stringMatching(/^### .*Table/),
      expect.stringMatching(/^#+ .*Outbox pipe/),
      expect.stringMatching(/^### Lambda Function \*\*\[post-orders\]\(https:.*\/lambda\/home/),
      expect.stringMatching(/^### Lambda Function \*\*\[get-health\]\(https:.*\/lambda\/home/),
      '# Subscription stock-results',
      expect.stringMatching(/^### Lambda Function \*\*\[stock-results\]\(https:.*\/lambda\/home/),
      expect.stringMatching(/^### SQS Queue \*\*\[stock-results-queue\]\(https:.*\/sqs\//),
      expect.stringMatching(/^### SQS Dead-Letter Queue \*\*\[stock-results-queue\]\(https:.*\/sqs\//),
      '### EventBridge rule **Rule stock-results**',
    ]);
    expect(titles).toEqual(
      expect.arrayContaining([
        'Alarms',
        // API and functions
        'TPS',
        'Latency',
        'Errors',
        'Errors (rate)',
        'Rates',
        'Invocations',
        // SLOs
        'Burn rate (availability)',
        'Burn-rate alarms (availability)',
        'Burn rate (latency)',
        'Burn-rate alarms (latency)',
        // table
        'Read Usage',
        'Write Usage',
        'Latency (Average)',
        'Throttles',
        // pipe
        'Events',
        'Failures',
        'Duration p99',
        'Outbox pipe alarms',
        // queue
        'Message Count',
        'Oldest Message Age',
        'DLQ: Message Count',
        'DLQ: Oldest Message Age',
      ]),
    );
    const alarmWidget = dashboardBody(template, PREFIX).widgets.find((w) => w.properties.title === 'Alarms')!;
    expect(alarmWidget.properties.alarms).toHaveLength(service.monitoring!.alarms.length);
    // 15 threshold alarms of the service + 4 SLO composites + 4 reused (queue age, 2 dead-letter, pipe failure)
    expect(service.monitoring!.alarms).toHaveLength(23);
  });

  it('saves Logs Insights queries over every function log group, the access log and the pipe log', () => {
    const groups = (ref: string) => ({ Ref: expect.stringMatching(new RegExp(`^${ref}`)) });
    const expected = [
      groups('ServiceAccessLogs'),
      groups('ServicepostordersLogGroup'),
      groups('ServicegethealthLogGroup'),
      groups('ServicestockresultsConsumerLogGroup'),
      groups('ServiceOutboxLogs'),
    ];
    const definitions = Object.values(
      template.findResources('AWS::Logs::QueryDefinition') as Record<
        string,
        { Properties: Record<string, unknown> }
      >,
    ).map((d) => d.Properties);
    expect(definitions.map((d) => d.Name).sort()).toEqual([
      'Shop-test/orders/errors-by-service',
      'Shop-test/orders/request-by-correlation-id',
    ]);
    for (const definition of definitions) {
      expect(definition.LogGroupNames).toEqual(expect.arrayContaining(expected));
      expect(definition.LogGroupNames).toHaveLength(expected.length);
    }
    expect(definitions.find((d) => String(d.Name).endsWith('correlation-id'))?.QueryString).toBe(
      'fields @timestamp, service, level, message, correlationId, xray_trace_id, @log\n' +
        '| filter correlationId = "REPLACE-WITH-CORRELATION-ID" or requestId = "REPLACE-WITH-CORRELATION-ID"\n' +
        '| sort @timestamp asc\n' +
        '| limit 1000',
    );
    expect(definitions.find((d) => String(d.Name).endsWith('errors-by-service'))?.QueryString).toBe(
      'fields @timestamp, coalesce(service, @log) as source\n' +
        '| filter level in ["ERROR", "CRITICAL"] or (type = "platform.runtimeDone" and record.status != "success")\n' +
        '| stats count(*) as errors by source\n' +
        '| sort errors desc',
    );
  });

  it('gives every log group (functions, access logs, pipe) the service log retention', () => {
    expect.hasAssertions();
    const groups = template.findResources('AWS::Logs::LogGroup');
    expect(Object.keys(groups)).toHaveLength(5);
    for (const [id, group] of Object.entries(groups)) {
      expect({ id, retention: group.Properties.RetentionInDays }).toEqual({ id, retention: 90 });
    }
  });

  it('returns the alarms of each function (e.g. for automatic rollback)', () => {
    const alarms = service.monitoring!.functionAlarms('post-orders');
    expect(
      alarms.map((a) => (a.node.defaultChild as unknown as { alarmName: string }).alarmName).sort(),
    ).toEqual([
      `${PREFIX}-post-orders-Fault-Count-Critical`,
      `${PREFIX}-post-orders-Latency-P99-Critical`,
      `${PREFIX}-post-orders-Throttled-Count-Critical`,
    ]);
    expect(service.monitoring!.functionAlarms('unknown')).toEqual([]);
  });

  it('monitors routes and subscriptions added after construction', () => {
    const { stack, platform } = serviceStack('Shop-test-Orders');
    const added = new Microservice(stack, 'Service', {
      serviceName: 'orders',
      platform,
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    });
    added.addRoute({
      method: HttpMethod.GET,
      path: '/late',
      entry: HEALTH_HANDLER,
      access: RouteAccess.PUBLIC,
    });
    added.addSubscription('late-events', { events: [StockReserved], entry: HEALTH_HANDLER });
    const late = Template.fromStack(stack);
    alarmNamed(late, `${PREFIX}-get-late-Fault-Count-Critical`);
    alarmNamed(late, `${PREFIX}-late-events-Rule-FailedInvocations-Critical`);
    expect(added.monitoring!.functionAlarms('late-events')).toHaveLength(3);
  });
});

describe('ServiceMonitoring tuning', () => {
  it('takes every threshold and the alarm timing from the monitoring prop', () => {
    const { template } = build({
      timeout: Duration.seconds(20),
      monitoring: {
        alarmTiming: { period: Duration.minutes(5), evaluationPeriods: 3, datapointsToAlarm: 2 },
        maxFunctionErrors: 5,
        maxFunctionThrottles: 2,
        functionDurationP99PercentOfTimeout: 50,
        maxApiServerErrorPercent: 5,
        maxApiLatencyP99: Duration.millis(1500),
        maxTableThrottledRequests: 10,
        maxTableSystemErrors: 3,
        maxRuleFailedInvocations: 4,
        slo: { availabilityObjective: 99.5, latencyObjective: 95, latencyThreshold: Duration.millis(300) },
      },
    });
    const timing = { Period: 300, EvaluationPeriods: 3, DatapointsToAlarm: 2 };
    const check = (name: string, threshold: number) => {
      const alarm = alarmNamed(template, `${PREFIX}-${name}`);
      expect({ name, threshold: alarm.Threshold }).toEqual({ name, threshold });
      expect(alarm).toMatchObject({ EvaluationPeriods: 3, DatapointsToAlarm: 2 });
      const periods = (alarm.Metrics as Array<{ MetricStat?: { Period: number } }>)
        .filter((m) => m.MetricStat)
        .map((m) => m.MetricStat!.Period);
      expect(new Set(periods)).toEqual(new Set([timing.Period]));
    };
    check('post-orders-Fault-Count-Critical', 5);
    check('post-orders-Throttled-Count-Critical', 2);
    check('post-orders-Latency-P99-Critical', 10000);
    check('api-Fault-Rate-Critical', 0.05);
    check('api-Latency-P99-Critical', 1500);
    check('table-SystemError-Count-Critical', 3);
    expect(alarmNamed(template, `${PREFIX}-table-Read-Throttled-Events-Critical`).Threshold).toBe(10);
    expect(alarmNamed(template, `${PREFIX}-stock-results-Rule-FailedInvocations-Critical`).Threshold).toBe(4);
    const availability = alarmNamed(template, `${PREFIX}-SLO-availability-burn-rate-1h`);
    expect((availability.Metrics as Array<{ Expression?: string }>)[0].Expression).toBe(
      '(FILL(errors_1h, 0) / requests_1h) / 0.005',
    );
    const latency = alarmNamed(template, `${PREFIX}-SLO-latency-burn-rate-5m`);
    expect((latency.Metrics as Array<{ Expression?: string }>)[0].Expression).toBe(
      '((100 - within_5m) / 100) / 0.05',
    );
    const within = (latency.Metrics as Array<{ Id: string; MetricStat?: { Stat: string } }>).find(
      (m) => m.Id === 'within_5m',
    );
    expect(within?.MetricStat?.Stat).toBe('PR(:300)');
  });

  it('drops the SLOs with slo.enabled false', () => {
    const { template, service } = build({ monitoring: { slo: { enabled: false } } });
    template.resourceCountIs('AWS::CloudWatch::CompositeAlarm', 0);
    expect(alarmNames(template).filter((n) => n?.includes('-SLO-'))).toEqual([]);
    expect(service.monitoring?.availability).toBeUndefined();
  });

  it('switches off with enabled false: no dashboard, no monitoring alarm, no saved query; the owners keep theirs', () => {
    const { template, service } = build({ monitoring: { enabled: false } });
    expect(service.monitoring).toBeUndefined();
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
    template.resourceCountIs('AWS::CloudWatch::CompositeAlarm', 0);
    template.resourceCountIs('AWS::Logs::QueryDefinition', 0);
    // The subscription's queue-age and dead-letter alarms and the outbox's two alarms remain.
    template.resourceCountIs('AWS::CloudWatch::Alarm', 4);
  });

  it.each<[string, Partial<MicroserviceProps>['monitoring'], RegExp]>([
    [
      'datapointsToAlarm above evaluationPeriods',
      { alarmTiming: { evaluationPeriods: 2, datapointsToAlarm: 3 } },
      /ServiceMonitoring: invalid alarmTiming.datapointsToAlarm 3: must be a whole number from 1 to 2/,
    ],
    [
      'a period CloudWatch refuses',
      { alarmTiming: { period: Duration.seconds(45) } },
      /ServiceMonitoring: invalid alarmTiming.period "45s": CloudWatch alarms take 10 s, 30 s or a multiple of 60 s/,
    ],
    [
      'a negative error threshold',
      { maxFunctionErrors: -1 },
      /ServiceMonitoring: invalid maxFunctionErrors -1: must be a whole number from 0 to 1000000000/,
    ],
    [
      'a 5xx percentage above 100',
      { maxApiServerErrorPercent: 150 },
      /ServiceMonitoring: invalid maxApiServerErrorPercent 150: must be a percentage greater than 0 and at most 100/,
    ],
    [
      'an objective of 100%',
      { slo: { availabilityObjective: 100 } },
      /ServiceLevelObjective: invalid availability.objective 100: must be a percentage between 0 and 100/,
    ],
  ])('fails synth on %s, naming the prop', (_, monitoring, message) => {
    expect(() => build({ monitoring })).toThrow(message);
  });
});

describe('ServiceLevelObjective', () => {
  it('names its window and composite alarms from the prefix, SLO and windows', () => {
    expect(
      ServiceLevelObjective.burnRateAlarmName('Shop-prod-users', 'latency', {
        long: Duration.hours(6),
        short: Duration.minutes(30),
        burnRate: 6,
      }),
    ).toBe('Shop-prod-users-SLO-latency-burn-rate-6h-30m');
    expect(ServiceLevelObjective.windowAlarmName('Shop-prod-users', 'latency', Duration.minutes(5))).toBe(
      'Shop-prod-users-SLO-latency-burn-rate-5m',
    );
  });
});
