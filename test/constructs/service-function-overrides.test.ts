import { Duration, Size, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { ServiceFunctionOverrides, ServiceFunctionProps } from '../../lib';
import { ServiceFunction } from '../../lib';
import { appWithoutBundling, HEALTH_HANDLER } from '../helpers';

const ROLE_ARN = 'arn:aws:iam::123456789012:role/shared-lambda';

function build(props: Partial<ServiceFunctionProps> = {}, stack = new Stack(appWithoutBundling(), 'Test')) {
  const fn = new ServiceFunction(stack, 'Fn', {
    entry: HEALTH_HANDLER,
    serviceName: 'users',
    metricsNamespace: 'Shop',
    ...props,
  });
  // Synthesized on first use: grants added after build() still count.
  return {
    stack,
    fn,
    get template() {
      return Template.fromStack(stack);
    },
  };
}

function withOverrides(functionProps: ServiceFunctionOverrides, props: Partial<ServiceFunctionProps> = {}) {
  return build({ ...props, functionProps });
}

describe('ServiceFunction role', () => {
  it('uses the given role instead of creating one, and grants the log group and X-Ray to it', () => {
    const stack = new Stack(appWithoutBundling(), 'Test');
    const { template } = build({ role: iam.Role.fromRoleArn(stack, 'Shared', ROLE_ARN) }, stack);
    template.resourceCountIs('AWS::IAM::Role', 0);
    template.hasResourceProperties('AWS::Lambda::Function', { Role: ROLE_ARN });
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: ['shared-lambda'],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('FnLogGroup'), 'Arn'] },
          }),
          Match.objectLike({
            Action: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'],
            Resource: '*',
          }),
        ]),
      },
    });
  });

  it('exposes the given role, so later grants land on it', () => {
    const stack = new Stack(appWithoutBundling(), 'Test');
    const role = new iam.Role(stack, 'Owned', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    });
    const { fn } = build({ role }, stack);
    fn.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::bucket/*'] }),
    );
    const template = Template.fromStack(stack);
    expect(fn.role).toBe(role);
    template.resourceCountIs('AWS::IAM::Role', 1);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Role: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Owned'), 'Arn'] },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^Owned') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: 's3:GetObject', Resource: 'arn:aws:s3:::bucket/*' }),
        ]),
      },
    });
  });

  it('still fails synthesis when a given iam.Role is granted a non-X-Ray action on every resource', () => {
    const stack = new Stack(appWithoutBundling(), 'Test');
    const role = new iam.Role(stack, 'Owned', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    });
    build({ role }, stack).fn.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['*'] }),
    );
    expect(() => Template.fromStack(stack)).toThrow(/actions s3:GetObject are granted on every resource/);
  });

  it('still fails synthesis when a mutable imported role is granted a non-X-Ray action on every resource', () => {
    const stack = new Stack(appWithoutBundling(), 'Test');
    build({ role: iam.Role.fromRoleArn(stack, 'Shared', ROLE_ARN) }, stack).fn.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: ['*'] }),
    );
    expect(() => Template.fromStack(stack)).toThrow(/actions sqs:SendMessage are granted on every resource/);
  });

  it('synthesizes with an immutable imported role, whose grants CDK drops (its owner grants them)', () => {
    const stack = new Stack(appWithoutBundling(), 'Test');
    const role = iam.Role.fromRoleArn(stack, 'Shared', ROLE_ARN, { mutable: false });
    const { fn } = build({ role }, stack);
    fn.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['*'] }));
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::Function', { Role: ROLE_ARN });
    template.resourceCountIs('AWS::IAM::Role', 0);
    template.resourceCountIs('AWS::IAM::Policy', 0);
  });
});

describe('ServiceFunction functionProps', () => {
  it('passes other Lambda props through and adds environment variables next to the Powertools ones', () => {
    const { template } = withOverrides({
      architecture: lambda.Architecture.X86_64,
      ephemeralStorageSize: Size.mebibytes(1024),
      memorySize: 2048,
      timeout: Duration.seconds(45),
      description: 'users: health probe',
      environment: { FEATURE_FLAG: 'on' },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Architectures: ['x86_64'],
      EphemeralStorage: { Size: 1024 },
      MemorySize: 2048,
      Timeout: 45,
      Description: 'users: health probe',
      Runtime: 'nodejs24.x',
      TracingConfig: { Mode: 'Active' },
      Environment: {
        Variables: {
          NODE_OPTIONS: '--enable-source-maps',
          FEATURE_FLAG: 'on',
          POWERTOOLS_SERVICE_NAME: 'users',
          POWERTOOLS_METRICS_NAMESPACE: 'Shop',
          POWERTOOLS_LOG_LEVEL: 'INFO',
        },
      },
    });
  });

  it('merges the variables of environment and functionProps.environment', () => {
    withOverrides(
      { environment: { FEATURE_FLAG: 'on' } },
      { environment: { TABLE_NAME: 'orders' } },
    ).template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ TABLE_NAME: 'orders', FEATURE_FLAG: 'on' }) },
    });
  });

  it('accepts a must-have repeated with its own value', () => {
    withOverrides({
      tracing: lambda.Tracing.ACTIVE,
      loggingFormat: lambda.LoggingFormat.JSON,
      runtime: lambda.Runtime.NODEJS_22_X,
      environment: { POWERTOOLS_SERVICE_NAME: 'users' },
    }).template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      TracingConfig: { Mode: 'Active' },
      LoggingConfig: Match.objectLike({ LogFormat: 'JSON' }),
      Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: 'users' }) },
    });
  });

  it.each([
    [lambda.Tracing.PASS_THROUGH, 'PassThrough'],
    [lambda.Tracing.DISABLED, 'Disabled'],
  ])('fails when functionProps.tracing would switch off X-Ray active tracing (%s)', (tracing, shown) => {
    expect(() => withOverrides({ tracing })).toThrow(
      new RegExp(
        `ServiceFunction: invalid functionProps.tracing "${shown}": X-Ray active tracing is a must-have`,
      ),
    );
  });

  it('fails when functionProps.loggingFormat asks for text logs', () => {
    expect(() => withOverrides({ loggingFormat: lambda.LoggingFormat.TEXT })).toThrow(
      /ServiceFunction: invalid functionProps.loggingFormat "Text": JSON logs are a must-have/,
    );
  });

  it('fails when functionProps.runtime is not a Node.js runtime', () => {
    expect(() => withOverrides({ runtime: lambda.Runtime.PYTHON_3_13 })).toThrow(
      /ServiceFunction: invalid functionProps.runtime "python3.13": the handler is a Node.js bundle/,
    );
  });

  it('fails when functionProps.environment changes a Powertools setting', () => {
    expect(() => withOverrides({ environment: { POWERTOOLS_SERVICE_NAME: 'spoofed' } })).toThrow(
      /ServiceFunction: invalid functionProps.environment.POWERTOOLS_SERVICE_NAME "spoofed": is set by ServiceFunction to "users"/,
    );
  });

  it('fails when a typed prop and functionProps give different values, naming both', () => {
    expect(() => withOverrides({ memorySize: 1024 }, { memorySize: 512 })).toThrow(
      /ServiceFunction: invalid functionProps.memorySize 1024: conflicts with memorySize \(512\); set one of them/,
    );
  });

  it('fails when timeout and functionProps.timeout differ, naming both', () => {
    expect(() => withOverrides({ timeout: Duration.seconds(20) }, { timeout: Duration.seconds(10) })).toThrow(
      /invalid functionProps.timeout "20 seconds": conflicts with timeout \("10 seconds"\)/,
    );
  });

  it('fails when a variable is set differently in environment and functionProps.environment', () => {
    expect(() =>
      withOverrides({ environment: { FEATURE_FLAG: 'on' } }, { environment: { FEATURE_FLAG: 'off' } }),
    ).toThrow(
      /invalid functionProps.environment.FEATURE_FLAG "on": conflicts with environment.FEATURE_FLAG \("off"\)/,
    );
  });

  it('accepts a typed prop and functionProps that agree', () => {
    withOverrides(
      { memorySize: 512, timeout: Duration.seconds(20) },
      { memorySize: 512, timeout: Duration.seconds(20) },
    ).template.hasResourceProperties('AWS::Lambda::Function', { MemorySize: 512, Timeout: 20 });
  });

  it('fails when functionProps sets a prop the construct owns (callers without types)', () => {
    const stack = new Stack(appWithoutBundling(), 'Test');
    const logGroup = new logs.LogGroup(stack, 'Other');
    expect(() => build({ functionProps: { logGroup } as ServiceFunctionOverrides }, stack)).toThrow(
      /ServiceFunction: invalid functionProps.logGroup .*: is set by ServiceFunction/,
    );
  });

  it('checks functionProps.memorySize and functionProps.timeout like the typed props', () => {
    expect(() => withOverrides({ memorySize: 64 })).toThrow(/invalid functionProps.memorySize 64/);
    expect(() => withOverrides({ timeout: Duration.minutes(16) })).toThrow(
      /invalid functionProps.timeout "16 minutes"/,
    );
  });

  it('fails when provisionedConcurrency exceeds functionProps.reservedConcurrentExecutions', () => {
    expect(() => withOverrides({ reservedConcurrentExecutions: 2 }, { provisionedConcurrency: 3 })).toThrow(
      /invalid provisionedConcurrency 3: must not exceed functionProps.reservedConcurrentExecutions \(2\)/,
    );
  });

  it('attaches to a VPC with the network interface permissions Lambda needs on the role it creates', () => {
    const stack = new Stack(appWithoutBundling(), 'Test');
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0 });
    const { template } = build(
      { functionProps: { vpc, vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED } } },
      stack,
    );
    template.hasResourceProperties('AWS::Lambda::Function', {
      VpcConfig: { SubnetIds: Match.anyValue(), SecurityGroupIds: Match.anyValue() },
    });
    template.hasResourceProperties('AWS::IAM::Role', {
      ManagedPolicyArns: [
        {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole',
            ],
          ],
        },
      ],
    });
  });
});
