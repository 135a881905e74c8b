import { Duration, Stack, Tags } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as sns from 'aws-cdk-lib/aws-sns';
import { StockReserved } from '../../functions/contracts/events';
import type { MicroserviceProps, ServiceFunctionProps } from '../../lib';
import {
  addSecurityChecks,
  HttpMethod,
  Microservice,
  RouteAccess,
  ServiceFunction,
  TrafficShift,
  TrafficShiftType,
} from '../../lib';
import { loadEnvironmentConfig } from '../../lib/config/environments';
import { deploymentOf } from '../../lib/stacks/services/defaults';
import { appWithoutBundling, HEALTH_HANDLER, resourcesOf, serviceStack } from '../helpers';

function fn(stack: Stack, id: string, props: Partial<ServiceFunctionProps> = {}): ServiceFunction {
  return new ServiceFunction(stack, id, {
    entry: HEALTH_HANDLER,
    serviceName: 'users',
    metricsNamespace: 'Shop',
    ...props,
  });
}

function build(props: Partial<ServiceFunctionProps> = {}) {
  const stack = new Stack(appWithoutBundling(), 'Test');
  const created = fn(stack, 'Fn', props);
  const template = Template.fromStack(stack);
  const logicalId = (construct: { node: { defaultChild?: unknown } }) =>
    stack.getLogicalId(construct.node.defaultChild as never);
  return { stack, fn: created, template, logicalId };
}

function service(overrides: Partial<MicroserviceProps> = {}) {
  const { app, stack, platform } = serviceStack('Shop-test-Orders');
  const created = new Microservice(stack, 'Service', {
    serviceName: 'orders',
    platform,
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    routes: [
      {
        method: HttpMethod.POST,
        path: '/orders',
        entry: HEALTH_HANDLER,
        access: RouteAccess.scopes('orders.write'),
      },
      { method: HttpMethod.GET, path: '/health', entry: HEALTH_HANDLER, access: RouteAccess.PUBLIC },
    ],
    subscriptions: [{ id: 'on-order', events: [StockReserved], entry: HEALTH_HANDLER }],
    ...overrides,
  });
  return { app, stack, service: created, template: Template.fromStack(stack) };
}

describe('SafeDeployment through ServiceFunction.deployment', () => {
  const { fn: created, template, logicalId } = build({ deployment: {} });
  const deployment = created.deployment!;
  const errors = logicalId(deployment.errorsAlarm);
  const latency = logicalId(deployment.latencyAlarm);
  const group = logicalId(deployment.deploymentGroup);
  const [version] = Object.keys(template.findResources('AWS::Lambda::Version'));
  const functionRef = { Ref: logicalId(created.function) };

  it('shifts the live alias through a 10% canary of 5 minutes by default, rolling back on failure, stop and alarm', () => {
    template.hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', {
      DeploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent5Minutes',
      DeploymentStyle: { DeploymentOption: 'WITH_TRAFFIC_CONTROL', DeploymentType: 'BLUE_GREEN' },
      AutoRollbackConfiguration: {
        Enabled: true,
        Events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_REQUEST', 'DEPLOYMENT_STOP_ON_ALARM'],
      },
      AlarmConfiguration: { Enabled: true, Alarms: [{ Name: { Ref: errors } }, { Name: { Ref: latency } }] },
      ApplicationName: { Ref: 'CodeDeployApplicationE587C27C' },
      ServiceRoleArn: { 'Fn::GetAtt': ['CodeDeployRole12BEECBE', 'Arn'] },
    });
    expect(deployment.trafficShift.type).toBe(TrafficShiftType.CANARY);
  });

  it('lets CodeDeploy update the alias (CodeDeployLambdaAliasUpdate) after the alarms watch the new version', () => {
    const [[, alias]] = resourcesOf(template, 'AWS::Lambda::Alias') as Array<
      [string, { UpdatePolicy?: unknown; DependsOn?: string[]; Properties: Record<string, unknown> }]
    >;
    expect(alias.UpdatePolicy).toEqual({
      CodeDeployLambdaAliasUpdate: {
        ApplicationName: { Ref: 'CodeDeployApplicationE587C27C' },
        DeploymentGroupName: { Ref: group },
      },
    });
    expect(alias.DependsOn).toEqual(expect.arrayContaining([errors, latency]));
    expect(alias.Properties.Name).toBe('live');
  });

  it("alarms on the errors of the version being deployed (the alias's metrics by ExecutedVersion)", () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Statistic: 'Sum',
      Period: 60,
      Threshold: 1,
      EvaluationPeriods: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      Dimensions: [
        { Name: 'ExecutedVersion', Value: { 'Fn::GetAtt': [version, 'Version'] } },
        { Name: 'FunctionName', Value: functionRef },
        { Name: 'Resource', Value: { 'Fn::Join': ['', [functionRef, ':live']] } },
      ],
    });
  });

  it("alarms on the new version's p99 duration at 80% of the timeout, ignoring periods with too few samples", () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Duration',
      ExtendedStatistic: 'p99',
      Period: 60,
      Threshold: 8000,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 2,
      EvaluateLowSampleCountPercentile: 'ignore',
      TreatMissingData: 'notBreaching',
      Dimensions: Match.arrayWith([
        { Name: 'ExecutedVersion', Value: { 'Fn::GetAtt': [version, 'Version'] } },
      ]),
    });
  });

  it("gives CodeDeploy a service role with AWS's limited Lambda policy only", () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'codedeploy.amazonaws.com' } },
        ],
      },
      ManagedPolicyArns: [
        {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':iam::aws:policy/service-role/AWSCodeDeployRoleForLambdaLimited',
            ],
          ],
        },
      ],
    });
    template.hasResourceProperties('AWS::CodeDeploy::Application', { ComputePlatform: 'Lambda' });
  });
});

describe('SafeDeployment options', () => {
  it('deploys at once, with no CodeDeploy, when deployment is not given (dev)', () => {
    const { template, fn: created } = build();
    template.resourceCountIs('AWS::CodeDeploy::DeploymentGroup', 0);
    template.resourceCountIs('AWS::CodeDeploy::Application', 0);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 0);
    const [[, alias]] = resourcesOf(template, 'AWS::Lambda::Alias') as Array<
      [string, { UpdatePolicy?: unknown }]
    >;
    expect(alias.UpdatePolicy).toBeUndefined();
    expect(created.deployment).toBeUndefined();
  });

  it.each([
    [TrafficShift.linear(10, Duration.minutes(1)), 'CodeDeployDefault.LambdaLinear10PercentEvery1Minute'],
    [TrafficShift.linear(10, Duration.minutes(10)), 'CodeDeployDefault.LambdaLinear10PercentEvery10Minutes'],
    [TrafficShift.canary(10, Duration.minutes(30)), 'CodeDeployDefault.LambdaCanary10Percent30Minutes'],
    [TrafficShift.ALL_AT_ONCE, 'CodeDeployDefault.LambdaAllAtOnce'],
  ])('uses the predefined configuration for %s', (trafficShift, name) => {
    const { template } = build({ deployment: { trafficShift } });
    template.hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', { DeploymentConfigName: name });
    template.resourceCountIs('AWS::CodeDeploy::DeploymentConfig', 0);
  });

  it("creates one custom configuration per distinct shift, shared by the stack's deployment groups", () => {
    const stack = new Stack(appWithoutBundling(), 'Test');
    const canary = TrafficShift.canary(25, Duration.minutes(15));
    fn(stack, 'A', { deployment: { trafficShift: canary } });
    fn(stack, 'B', { deployment: { trafficShift: TrafficShift.canary(25, Duration.minutes(15)) } });
    fn(stack, 'C', { deployment: { trafficShift: TrafficShift.linear(20, Duration.minutes(2)) } });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::CodeDeploy::DeploymentGroup', 3);
    template.resourceCountIs('AWS::CodeDeploy::Application', 1);
    template.resourceCountIs('AWS::CodeDeploy::DeploymentConfig', 2);
    template.hasResourceProperties('AWS::CodeDeploy::DeploymentConfig', {
      ComputePlatform: 'Lambda',
      TrafficRoutingConfig: {
        Type: 'TimeBasedCanary',
        TimeBasedCanary: { CanaryPercentage: 25, CanaryInterval: 15 },
      },
    });
    template.hasResourceProperties('AWS::CodeDeploy::DeploymentConfig', {
      TrafficRoutingConfig: {
        Type: 'TimeBasedLinear',
        TimeBasedLinear: { LinearPercentage: 20, LinearInterval: 2 },
      },
    });
    const [canaryConfig] = Object.keys(
      template.findResources('AWS::CodeDeploy::DeploymentConfig', {
        Properties: { TrafficRoutingConfig: { Type: 'TimeBasedCanary' } },
      }),
    );
    const groups = resourcesOf(template, 'AWS::CodeDeploy::DeploymentGroup');
    const canaryGroups = groups.filter(
      ([, group]) =>
        JSON.stringify(group.Properties?.DeploymentConfigName) === JSON.stringify({ Ref: canaryConfig }),
    );
    expect(canaryGroups).toHaveLength(2);
  });

  it('takes the error and p99 thresholds and the alarm actions', () => {
    const stack = new Stack(appWithoutBundling(), 'Test');
    const topic = new sns.Topic(stack, 'Alarms');
    fn(stack, 'Fn', {
      deployment: {
        maxErrorsPerMinute: 5,
        maxP99Duration: Duration.millis(750),
        alarmActions: [new cwActions.SnsAction(topic)],
      },
    });
    const template = Template.fromStack(stack);
    const topicRef = { Ref: stack.getLogicalId(topic.node.defaultChild as never) };
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      Threshold: 5,
      AlarmActions: [topicRef],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Duration',
      Threshold: 750,
      AlarmActions: [topicRef],
    });
  });

  it.each<[string, () => unknown, RegExp]>([
    [
      'a canary percentage of 0',
      () => TrafficShift.canary(0, Duration.minutes(5)),
      /TrafficShift.canary: invalid percentage 0: must be a whole number from 1 to 99/,
    ],
    [
      'a canary percentage of 100',
      () => TrafficShift.canary(100, Duration.minutes(5)),
      /TrafficShift.canary: invalid percentage 100: must be a whole number from 1 to 99/,
    ],
    [
      'a fractional linear percentage',
      () => TrafficShift.linear(12.5, Duration.minutes(5)),
      /TrafficShift.linear: invalid percentage 12.5: must be a whole number from 1 to 99/,
    ],
    [
      'an interval that is not whole minutes',
      () => TrafficShift.linear(10, Duration.seconds(90)),
      /TrafficShift.linear: invalid interval "1 minute 30 seconds": must be a whole number of minutes from 1 to 2880/,
    ],
    [
      'an interval of zero',
      () => TrafficShift.canary(10, Duration.minutes(0)),
      /TrafficShift.canary: invalid interval "0 minutes": must be a whole number of minutes from 1 to 2880/,
    ],
    [
      'an interval over two days',
      () => TrafficShift.canary(10, Duration.days(3)),
      /TrafficShift.canary: invalid interval "3 days": must be a whole number of minutes from 1 to 2880/,
    ],
  ])('fails on %s', (_what, make, message) => {
    expect(make).toThrow(message);
  });

  it('fails on a maxErrorsPerMinute below 1 and a p99 threshold of zero, naming the prop', () => {
    expect(() => build({ deployment: { maxErrorsPerMinute: 0 } })).toThrow(
      /ServiceFunction: invalid deployment.maxErrorsPerMinute 0: must be a whole number from 1 to 1000000/,
    );
    expect(() => build({ deployment: { maxP99Duration: Duration.millis(0) } })).toThrow(
      /ServiceFunction: invalid deployment.maxP99Duration "0 millis": must be a whole number of milliseconds/,
    );
  });
});

describe('Microservice.deployment', () => {
  const { template, service: created } = service({
    deployment: { trafficShift: TrafficShift.linear(10, Duration.minutes(3)) },
  });

  it('gives every function of the service, routes and subscriptions, a deployment group', () => {
    expect.hasAssertions();
    const functions = [
      ...Object.values(created.functions),
      ...Object.values(created.subscriptions).map((s) => s.consumer),
    ];
    expect(functions).toHaveLength(3);
    template.resourceCountIs('AWS::CodeDeploy::DeploymentGroup', 3);
    for (const f of functions) {
      expect(f.deployment?.trafficShift.toString()).toBe('Linear10PercentEvery3Minutes');
    }
    template.allResourcesProperties('AWS::CodeDeploy::DeploymentGroup', {
      DeploymentConfigName: 'CodeDeployDefault.LambdaLinear10PercentEvery3Minutes',
    });
    template.resourceCountIs('AWS::CodeDeploy::Application', 1);
  });

  it("notifies the platform's alarm destinations when a rollback alarm fires", () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      AlarmActions: Match.arrayWith([
        { Ref: Match.stringLikeRegexp('^SsmParameterValueShoptestplatformalarmtopicarn') },
      ]),
      AlarmDescription: Match.stringLikeRegexp(
        '^orders: POST /orders: the version being deployed raised 1 or more errors',
      ),
    });
  });

  it('passes the cdk-nag AwsSolutions and Serverless packs', () => {
    const { app } = service({ deployment: {} });
    addSecurityChecks(app);
    expect(() => app.synth()).not.toThrow();
  });
});

describe('provisioned concurrency auto scaling', () => {
  it('scales the live alias on provisioned concurrency utilization, starting each deployment at the minimum', () => {
    const {
      template,
      fn: created,
      logicalId,
    } = build({
      provisionedScaling: { minCapacity: 2, maxCapacity: 20, utilizationTarget: 0.5 },
    });
    const alias = logicalId(created.liveAlias);
    template.hasResourceProperties('AWS::Lambda::Alias', {
      Name: 'live',
      ProvisionedConcurrencyConfig: { ProvisionedConcurrentExecutions: 2 },
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      MinCapacity: 2,
      MaxCapacity: 20,
      ScalableDimension: 'lambda:function:ProvisionedConcurrency',
      ServiceNamespace: 'lambda',
      ResourceId: {
        'Fn::Join': [
          '',
          ['function:', { 'Fn::Select': [6, { 'Fn::Split': [':', { Ref: alias }] }] }, ':live'],
        ],
      },
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: {
        PredefinedMetricSpecification: { PredefinedMetricType: 'LambdaProvisionedConcurrencyUtilization' },
        TargetValue: 0.5,
      },
    });
  });

  it('targets 70% utilization by default and starts from provisionedConcurrency when it lies in the range', () => {
    const { template } = build({
      provisionedConcurrency: 5,
      provisionedScaling: { minCapacity: 2, maxCapacity: 10 },
    });
    template.hasResourceProperties('AWS::Lambda::Alias', {
      ProvisionedConcurrencyConfig: { ProvisionedConcurrentExecutions: 5 },
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({ TargetValue: 0.7 }),
    });
  });

  it('leaves stack-wide tags off the scalable target, which CloudFormation does not tag (cfn-lint E3002)', () => {
    const stack = new Stack(appWithoutBundling(), 'Test');
    Tags.of(stack).add('service', 'users');
    fn(stack, 'Fn', { provisionedScaling: { minCapacity: 1, maxCapacity: 2 } });
    const template = Template.fromStack(stack);
    const [[, target]] = resourcesOf(template, 'AWS::ApplicationAutoScaling::ScalableTarget');
    expect(target.Properties?.Tags).toBeUndefined();
    template.hasResourceProperties('AWS::Lambda::Function', { Tags: [{ Key: 'service', Value: 'users' }] });
  });

  it('keeps a fixed provisionedConcurrency without auto scaling', () => {
    const { template } = build({ provisionedConcurrency: 3 });
    template.hasResourceProperties('AWS::Lambda::Alias', {
      ProvisionedConcurrencyConfig: { ProvisionedConcurrentExecutions: 3 },
    });
    template.resourceCountIs('AWS::ApplicationAutoScaling::ScalableTarget', 0);
  });

  it('scales a route marked latency-critical with provisionedScaling, and only that route', () => {
    const { template, service: created } = service({
      routes: [
        {
          method: HttpMethod.POST,
          path: '/orders',
          entry: HEALTH_HANDLER,
          access: RouteAccess.scopes('orders.write'),
          provisionedScaling: { minCapacity: 1, maxCapacity: 4, utilizationTarget: 0.6 },
        },
        { method: HttpMethod.GET, path: '/health', entry: HEALTH_HANDLER, access: RouteAccess.PUBLIC },
      ],
    });
    template.resourceCountIs('AWS::ApplicationAutoScaling::ScalableTarget', 1);
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      MinCapacity: 1,
      MaxCapacity: 4,
    });
    expect(created.functions['post-orders'].provisionedScaling).toBeDefined();
    expect(created.functions['get-health'].provisionedScaling).toBeUndefined();
  });

  it.each<[string, Partial<ServiceFunctionProps>, RegExp]>([
    [
      'minCapacity above maxCapacity',
      { provisionedScaling: { minCapacity: 5, maxCapacity: 2 } },
      /ServiceFunction: invalid provisionedScaling.minCapacity 5: must not exceed provisionedScaling.maxCapacity \(2\)/,
    ],
    [
      'a minCapacity of 0',
      { provisionedScaling: { minCapacity: 0, maxCapacity: 2 } },
      /ServiceFunction: invalid provisionedScaling.minCapacity 0: must be a whole number from 1 to 100000/,
    ],
    [
      'a utilization target of 0',
      { provisionedScaling: { minCapacity: 1, maxCapacity: 2, utilizationTarget: 0 } },
      /ServiceFunction: invalid provisionedScaling.utilizationTarget 0: must be from 0.1 to 0.9/,
    ],
    [
      'a utilization target of 1',
      { provisionedScaling: { minCapacity: 1, maxCapacity: 2, utilizationTarget: 1 } },
      /ServiceFunction: invalid provisionedScaling.utilizationTarget 1: must be from 0.1 to 0.9/,
    ],
    [
      'a provisionedConcurrency outside the scaling range',
      { provisionedConcurrency: 1, provisionedScaling: { minCapacity: 2, maxCapacity: 10 } },
      /ServiceFunction: invalid provisionedConcurrency 1: disagrees with provisionedScaling \(minCapacity 2, maxCapacity 10\)/,
    ],
    [
      'a maxCapacity above the reserved concurrency',
      { reservedConcurrentExecutions: 5, provisionedScaling: { minCapacity: 1, maxCapacity: 10 } },
      /ServiceFunction: invalid provisionedScaling.maxCapacity 10: must not exceed reservedConcurrentExecutions \(5\)/,
    ],
  ])('fails on %s, naming the prop', (_what, props, message) => {
    expect(() => build(props)).toThrow(message);
  });

  it("names the route's prop when a route's scaling is wrong", () => {
    expect(() =>
      service({
        routes: [
          {
            method: HttpMethod.POST,
            path: '/orders',
            entry: HEALTH_HANDLER,
            access: RouteAccess.PUBLIC,
            provisionedConcurrency: 50,
            provisionedScaling: { minCapacity: 1, maxCapacity: 4 },
          },
        ],
      }),
    ).toThrow(
      /Microservice: invalid routes\[0\].provisionedConcurrency 50: disagrees with routes\[0\].provisionedScaling \(minCapacity 1, maxCapacity 4\)/,
    );
  });
});

describe('rollouts and latency-critical routes from the configuration', () => {
  it('rolls prod out through a 10% canary of 5 minutes and deploys dev and local at once', () => {
    const prod = deploymentOf(loadEnvironmentConfig('prod'));
    expect(prod?.trafficShift?.toString()).toBe('Canary10Percent5Minutes');
    expect(deploymentOf(loadEnvironmentConfig('dev'))).toBeUndefined();
    expect(deploymentOf(loadEnvironmentConfig('local'))).toBeUndefined();
  });

  it('scales the latency-critical routes in prod only', () => {
    expect(loadEnvironmentConfig('prod').latencyCriticalScaling).toEqual({
      minCapacity: 2,
      maxCapacity: 20,
      utilizationTarget: 0.7,
    });
    expect(loadEnvironmentConfig('dev').latencyCriticalScaling).toBeUndefined();
  });

  it('maps LINEAR and ALL_AT_ONCE', () => {
    const linear = deploymentOf(
      loadEnvironmentConfig('dev', {
        deployment: { strategy: 'LINEAR', percentage: 20, intervalMinutes: 2 },
      }),
    );
    expect(linear?.trafficShift?.toString()).toBe('Linear20PercentEvery2Minutes');
    const all = deploymentOf(loadEnvironmentConfig('dev', { deployment: { strategy: 'ALL_AT_ONCE' } }));
    expect(all?.trafficShift).toBe(TrafficShift.ALL_AT_ONCE);
  });

  it('fails on bad rollout or scaling settings, naming the key and value', () => {
    expect(() =>
      loadEnvironmentConfig('prod', {
        deployment: { strategy: 'CANARY', percentage: 0, intervalMinutes: 5 },
      }),
    ).toThrow(/deployment.percentage = 0:/);
    expect(() => loadEnvironmentConfig('prod', { deployment: { strategy: 'CANARY' } })).toThrow(
      /deployment.strategy = "CANARY": CANARY and LINEAR need percentage and intervalMinutes/,
    );
    expect(() =>
      loadEnvironmentConfig('prod', {
        latencyCriticalScaling: { minCapacity: 5, maxCapacity: 2, utilizationTarget: 0.7 },
      }),
    ).toThrow(/latencyCriticalScaling.maxCapacity = 2: at least minCapacity/);
    expect(() =>
      loadEnvironmentConfig('prod', {
        latencyCriticalScaling: { minCapacity: 1, maxCapacity: 2, utilizationTarget: 1 },
      }),
    ).toThrow(/latencyCriticalScaling.utilizationTarget = 1:/);
  });
});
