import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { LogLevel, ServiceFunction } from '../../lib';
import { appWithoutBundling, HEALTH_HANDLER } from '../helpers';

function build(props: Partial<ConstructorParameters<typeof ServiceFunction>[2]> = {}) {
  const stack = new Stack(appWithoutBundling(), 'Test');
  const fn = new ServiceFunction(stack, 'Fn', {
    entry: HEALTH_HANDLER,
    serviceName: 'users',
    metricsNamespace: 'Shop',
    ...props,
  });
  return { stack, fn, template: Template.fromStack(stack) };
}

describe('ServiceFunction', () => {
  it('runs on the newest Node.js runtime on arm64 with explicit memory and timeout', () => {
    build().template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      MemorySize: 256,
      Timeout: 10,
      Handler: 'index.handler',
    });
  });

  it('traces with X-Ray and logs JSON into its own log group with retention', () => {
    const { template } = build({ logRetention: logs.RetentionDays.ONE_WEEK, logLevel: LogLevel.DEBUG });
    template.hasResourceProperties('AWS::Lambda::Function', {
      TracingConfig: { Mode: 'Active' },
      LoggingConfig: {
        LogFormat: 'JSON',
        ApplicationLogLevel: 'DEBUG',
        SystemLogLevel: 'WARN',
        LogGroup: { Ref: Match.stringLikeRegexp('FnLogGroup') },
      },
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
    template.hasResource('AWS::Logs::LogGroup', { DeletionPolicy: 'Retain' });
  });

  it('sets the Powertools environment, which extra variables cannot override', () => {
    const { template } = build({
      environment: { POWERTOOLS_SERVICE_NAME: 'spoofed', FEATURE_FLAG: 'on' },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: {
          POWERTOOLS_SERVICE_NAME: 'users',
          POWERTOOLS_METRICS_NAMESPACE: 'Shop',
          POWERTOOLS_LOG_LEVEL: 'INFO',
          NODE_OPTIONS: '--enable-source-maps',
          FEATURE_FLAG: 'on',
        },
      },
    });
  });

  it('uses a role without AWS managed policies that may write only to its own log group', () => {
    const { template } = build();
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: Match.objectLike({
        Statement: [Match.objectLike({ Principal: { Service: 'lambda.amazonaws.com' } })],
      }),
      ManagedPolicyArns: Match.absent(),
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('FnLogGroup'), 'Arn'] },
          }),
        ]),
      },
    });
  });

  it('publishes a version behind the alias "live"', () => {
    const { template } = build();
    template.hasResourceProperties('AWS::Lambda::Alias', {
      Name: 'live',
      FunctionVersion: { 'Fn::GetAtt': [Match.stringLikeRegexp('FnFunctionCurrentVersion'), 'Version'] },
    });
  });

  it('honours memory, timeout and reserved concurrency overrides', () => {
    build({
      memorySize: 1024,
      timeout: Duration.seconds(30),
      reservedConcurrentExecutions: 5,
    }).template.hasResourceProperties('AWS::Lambda::Function', {
      MemorySize: 1024,
      Timeout: 30,
      ReservedConcurrentExecutions: 5,
    });
  });

  it("fails when memorySize is below Lambda's minimum, naming the prop and value", () => {
    expect(() => build({ memorySize: 64 })).toThrow(/ServiceFunction: invalid memorySize 64/);
  });

  it('fails when the timeout exceeds 15 minutes', () => {
    expect(() => build({ timeout: Duration.minutes(16) })).toThrow(/invalid timeout "16 minutes"/);
  });

  it('fails when the timeout is not a whole number of seconds', () => {
    expect(() => build({ timeout: Duration.millis(500) })).toThrow(
      /invalid timeout "500 millis": must be a whole number of seconds/,
    );
  });

  it('fails when the handler file does not exist', () => {
    expect(() => build({ entry: '/nowhere/handler.ts' })).toThrow(
      /invalid entry "\/nowhere\/handler.ts": no such handler file/,
    );
  });

  it('fails synthesis when its role is granted any action other than X-Ray on every resource', () => {
    const stack = new Stack(appWithoutBundling(), 'Wildcard');
    const fn = new ServiceFunction(stack, 'Fn', {
      entry: HEALTH_HANDLER,
      serviceName: 'users',
      metricsNamespace: 'Shop',
    });
    fn.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['*'] }));
    expect(() => Template.fromStack(stack)).toThrow(/actions s3:GetObject are granted on every resource/);
  });

  it('fails when serviceName is empty', () => {
    expect(() => build({ serviceName: '' })).toThrow(/invalid serviceName "": must not be empty/);
  });
});
