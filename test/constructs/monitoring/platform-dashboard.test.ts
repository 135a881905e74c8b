import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { PlatformProps } from '../../../lib';
import { HttpMethod, Microservice, Platform, PlatformReference, RouteAccess } from '../../../lib';
import { appWithoutBundling, HEALTH_HANDLER } from '../../helpers';
import { alarmNamed, alarmNames, dashboardBody, metricStatOf, widgetTitles } from './monitoring-fixture';

/** A platform stack and, in its own stack of the same app, the `orders` service attached by name. */
function build(overrides: Partial<PlatformProps> = {}, withService = true) {
  const app = appWithoutBundling();
  const platformStack = new Stack(app, 'Shop-test-Platform');
  const platform = new Platform(platformStack, 'Platform', {
    appName: 'Shop',
    envName: 'test',
    ...overrides,
  });
  let serviceStack: Stack | undefined;
  if (withService) {
    serviceStack = new Stack(app, 'Shop-test-Orders');
    new Microservice(serviceStack, 'Service', {
      serviceName: 'orders',
      platform: PlatformReference.fromRegistry(serviceStack, 'Platform', {
        appName: 'Shop',
        envName: 'test',
      }),
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      stageName: 'live',
      routes: [
        { method: HttpMethod.GET, path: '/health', entry: HEALTH_HANDLER, access: RouteAccess.PUBLIC },
      ],
    });
  }
  return {
    app,
    platform,
    template: Template.fromStack(platformStack),
    serviceTemplate: serviceStack && Template.fromStack(serviceStack),
  };
}

const PLATFORM_TOPIC = [{ Ref: expect.stringMatching(/^PlatformAlarmTopic[0-9A-F]{8}$/) }];

describe('PlatformDashboard (on by default in every Platform)', () => {
  const { template, serviceTemplate } = build();

  it('creates the platform dashboard {app}-{env}-platform', () => {
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'Shop-test-platform' });
  });

  it.each([
    ['Fault-Count', 'Errors', 'Sum', 0],
    ['Throttled-Count', 'Throttles', 'Sum', 0],
    ['Latency-P99', 'Duration', 'p99', 4000],
  ])(
    "alarms on the Cognito trigger's %s (%s %s above %d) and notifies the platform's topic",
    (suffix, metricName, stat, threshold) => {
      const alarm = alarmNamed(template, `Shop-test-platform-pre-token-generation-${suffix}-Critical`);
      expect(alarm).toMatchObject({
        Threshold: threshold,
        ComparisonOperator: 'GreaterThanThreshold',
        EvaluationPeriods: 5,
        DatapointsToAlarm: 3,
        TreatMissingData: 'notBreaching',
        ActionsEnabled: true,
        AlarmActions: PLATFORM_TOPIC,
      });
      expect(metricStatOf(alarm)).toEqual({
        Metric: {
          Namespace: 'AWS/Lambda',
          MetricName: metricName,
          Dimensions: [
            {
              Name: 'FunctionName',
              Value: { Ref: expect.stringMatching(/^PlatformTokenCustomizerFunction/) },
            },
          ],
        },
        Period: 60,
        Stat: stat,
      });
    },
  );

  it('has no other alarm', () => {
    expect(alarmNames(template)).toEqual([
      'Shop-test-platform-pre-token-generation-Fault-Count-Critical',
      'Shop-test-platform-pre-token-generation-Latency-P99-Critical',
      'Shop-test-platform-pre-token-generation-Throttled-Count-Critical',
    ]);
  });

  it('shows each service of the app side by side, by name: API signals, function errors, SLO alarm states', () => {
    const body = dashboardBody(template, 'Shop-test-platform');
    expect(widgetTitles(body)).toEqual(
      expect.arrayContaining([
        '### orders',
        'orders: requests',
        'orders: errors (%)',
        'orders: latency',
        'orders: function errors and throttles',
        'orders: SLO burn-rate alarms',
      ]),
    );
    const requests = body.widgets.find((w) => w.properties.title === 'orders: requests')!;
    expect(requests.properties.metrics).toEqual([
      [
        'AWS/ApiGateway',
        'Count',
        'ApiName',
        'Shop-test-orders',
        'Stage',
        'live',
        expect.objectContaining({ stat: 'Sum' }),
      ],
    ]);
    const functions = body.widgets.find(
      (w) => w.properties.title === 'orders: function errors and throttles',
    )!;
    expect(JSON.stringify(functions.properties.metrics)).toContain(
      `SUM(SEARCH('{AWS/Lambda,FunctionName} MetricName=\\"Errors\\" \\"Shop-test-Orders\\"', 'Sum', 300))`,
    );
    const slo = body.widgets.find((w) => w.properties.title === 'orders: SLO burn-rate alarms')!;
    expect(slo.properties.alarms).toEqual(
      [
        'availability-burn-rate-1h-5m',
        'availability-burn-rate-6h-30m',
        'latency-burn-rate-1h-5m',
        'latency-burn-rate-6h-30m',
      ].map((name) => `arn:<token>:cloudwatch:<token>:<token>:alarm:Shop-test-orders-SLO-${name}`),
    );
  });

  it('names only alarms the service really has', () => {
    const composites = alarmNames(serviceTemplate!, 'AWS::CloudWatch::CompositeAlarm');
    const body = dashboardBody(template, 'Shop-test-platform');
    const slo = body.widgets.find((w) => w.properties.title === 'orders: SLO burn-rate alarms')!;
    expect((slo.properties.alarms as string[]).map((arn) => arn.split(':alarm:')[1]).sort()).toEqual(
      composites,
    );
  });

  it('refers to the services by name only: no import, no export', () => {
    expect(JSON.stringify(template.toJSON())).not.toContain('Fn::ImportValue');
    const exported = Object.values(serviceTemplate!.toJSON().Outputs ?? {}).filter(
      (output) => (output as { Export?: unknown }).Export,
    );
    expect(exported).toEqual([]);
  });

  it('saves the queries across services with the log groups left to choose when they run', () => {
    const definitions = Object.values(
      template.findResources('AWS::Logs::QueryDefinition') as Record<
        string,
        { Properties: Record<string, unknown> }
      >,
    ).map((d) => d.Properties);
    expect(definitions.map((d) => d.Name).sort()).toEqual([
      'Shop-test/errors-by-service',
      'Shop-test/request-by-correlation-id',
    ]);
    expect(definitions.map((d) => d.LogGroupNames)).toEqual([undefined, undefined]);
  });
});

describe('PlatformDashboard options', () => {
  it('shows the services given by name (e.g. from other repositories) instead of those found in the app', () => {
    const { template } = build({ monitoring: { services: [{ serviceName: 'payments' }] } });
    const body = dashboardBody(template, 'Shop-test-platform');
    const titles = widgetTitles(body);
    expect(titles).toEqual(expect.arrayContaining(['### payments', 'payments: requests']));
    expect(titles.filter((t) => t.startsWith('orders'))).toEqual([]);
    // Without its stack name, no function search.
    expect(titles).not.toContain('payments: function errors and throttles');
    const requests = body.widgets.find((w) => w.properties.title === 'payments: requests')!;
    expect(requests.properties.metrics?.[0].slice(0, 6)).toEqual([
      'AWS/ApiGateway',
      'Count',
      'ApiName',
      'Shop-test-payments',
      'Stage',
      'v1',
    ]);
  });

  it('switches off with monitoring.enabled false', () => {
    const { template, platform } = build({ monitoring: { enabled: false } }, false);
    expect(platform.monitoring).toBeUndefined();
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 0);
    template.resourceCountIs('AWS::Logs::QueryDefinition', 0);
  });
});
