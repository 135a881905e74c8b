import type { Stack } from 'aws-cdk-lib';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { MicroserviceProps } from '../../lib';
import { DataProtection } from '../../lib';
import { OrderPlaced } from '../../functions/contracts/events';
import { HEALTH, widgetsService, WRITE } from './widgets-fixture';

function build(overrides: Partial<MicroserviceProps> = {}) {
  const { stack, service } = widgetsService({ routes: [HEALTH, WRITE], ...overrides });
  return { stack, service, template: Template.fromStack(stack) };
}

describe('Microservice tableProps', () => {
  it('merges an override over the defaults and keeps encryption, PITR, deletion protection and retention', () => {
    const { template } = build({
      tableProps: {
        tableClass: dynamodb.TableClass.STANDARD_INFREQUENT_ACCESS,
        contributorInsightsSpecification: { enabled: true },
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true, recoveryPeriodInDays: 7 },
      },
    });
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({
        TableClass: 'STANDARD_INFREQUENT_ACCESS',
        ContributorInsightsSpecification: { Enabled: true },
        BillingMode: 'PAY_PER_REQUEST',
        DeletionProtectionEnabled: true,
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true, RecoveryPeriodInDays: 7 },
        SSESpecification: {
          SSEEnabled: true,
          SSEType: 'KMS',
          KMSMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ServiceTableKey'), 'Arn'] },
        },
      }),
    });
  });

  it.each<[string, MicroserviceProps['tableProps'], RegExp]>([
    [
      'AWS-owned encryption',
      { encryption: dynamodb.TableEncryption.AWS_MANAGED },
      /Microservice: invalid tableProps\.encryption "AWS_MANAGED": a service table is encrypted with a customer-managed key/,
    ],
    [
      'no point-in-time recovery',
      { pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: false } },
      /Microservice: invalid tableProps\.pointInTimeRecoverySpecification .*point-in-time recovery is always on/,
    ],
    [
      'the deprecated pointInTimeRecovery: false',
      { pointInTimeRecovery: false },
      /Microservice: invalid tableProps\.pointInTimeRecovery false: point-in-time recovery is always on/,
    ],
    [
      'no deletion protection on a retained table',
      { deletionProtection: false },
      /Microservice: invalid tableProps\.deletionProtection false: the service retains its data/,
    ],
    [
      'a destroyable retained table',
      { removalPolicy: RemovalPolicy.DESTROY },
      /Microservice: invalid tableProps\.removalPolicy "destroy": the service retains its data/,
    ],
  ])('fails when tableProps asks for %s', (_, tableProps, message) => {
    expect(() => build({ tableProps })).toThrow(message);
  });

  it('fails when tableProps brings another key, pointing at tableEncryptionKey', () => {
    expect(() =>
      widgetsService((stack) => ({
        routes: [HEALTH],
        tableProps: { encryptionKey: new kms.Key(stack, 'Other') },
      })),
    ).toThrow(
      /Microservice: invalid tableProps\.encryptionKey .*set the service's tableEncryptionKey instead/,
    );
  });

  it("keeps a publisher's outbox stream and TTL, and fails on an override that drops them", () => {
    const publisher = { serviceName: 'orders', publishes: [OrderPlaced] };
    const { template } = build({
      ...publisher,
      tableProps: { stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES },
    });
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
    expect(() => build({ ...publisher, tableProps: { stream: dynamodb.StreamViewType.KEYS_ONLY } })).toThrow(
      /Microservice: invalid tableProps\.stream "KEYS_ONLY": the transactional outbox reads new images/,
    );
    expect(() => build({ ...publisher, tableProps: { timeToLiveAttribute: 'ttl' } })).toThrow(
      /Microservice: invalid tableProps\.timeToLiveAttribute "ttl": publishing services expire outbox items with "expiresAt"/,
    );
  });

  it('lets a DESTROY service drop deletion protection, never encryption', () => {
    const { template } = build({
      dataProtection: DataProtection.DESTROY,
      tableProps: { deletionProtection: false },
    });
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Delete',
      Properties: Match.objectLike({
        DeletionProtectionEnabled: false,
        SSESpecification: Match.objectLike({ SSEType: 'KMS' }),
      }),
    });
  });

  it('fails when a typed prop and tableProps set the same thing differently, naming both', () => {
    expect(() =>
      build({ timeToLiveAttribute: 'expires', tableProps: { timeToLiveAttribute: 'ttl' } }),
    ).toThrow(
      /Microservice: invalid tableProps\.timeToLiveAttribute "ttl": conflicts with timeToLiveAttribute \("expires"\); set one of them/,
    );
  });
});

describe('Microservice restApiProps', () => {
  it('merges an override over the defaults and keeps tracing, access logs and no body logging', () => {
    const { template } = build({
      restApiProps: {
        binaryMediaTypes: ['application/pdf'],
        deployOptions: {
          cachingEnabled: true,
          cacheClusterEnabled: true,
          cacheClusterSize: '0.5',
          cacheTtl: Duration.minutes(1),
        },
      },
    });
    template.hasResourceProperties('AWS::ApiGateway::RestApi', {
      BinaryMediaTypes: ['application/pdf'],
      EndpointConfiguration: { Types: ['REGIONAL'] },
    });
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'v1',
      TracingEnabled: true,
      CacheClusterEnabled: true,
      CacheClusterSize: '0.5',
      AccessLogSetting: {
        DestinationArn: {
          'Fn::Join': ['', Match.arrayWith([{ Ref: Match.stringLikeRegexp('^ServiceAccessLogs') }])],
        },
        Format: Match.stringLikeRegexp('"requestId":"\\$context.requestId"'),
      },
      MethodSettings: Match.arrayWith([
        Match.objectLike({
          HttpMethod: '*',
          ResourcePath: '/*',
          DataTraceEnabled: false,
          CachingEnabled: true,
          CacheTtlInSeconds: 60,
        }),
      ]),
    });
  });

  it.each<[string, MicroserviceProps['restApiProps'], RegExp]>([
    [
      'no X-Ray tracing',
      { deployOptions: { tracingEnabled: false } },
      /Microservice: invalid restApiProps\.deployOptions\.tracingEnabled false: every service API is traced with X-Ray/,
    ],
    [
      'body logging on the stage',
      { deployOptions: { dataTraceEnabled: true } },
      /Microservice: invalid restApiProps\.deployOptions\.dataTraceEnabled true: request and response bodies are never logged/,
    ],
    [
      'body logging on one method',
      { deployOptions: { methodOptions: { '/widgets/POST': { dataTraceEnabled: true } } } },
      /Microservice: invalid restApiProps\.deployOptions\.methodOptions\["\/widgets\/POST"\]\.dataTraceEnabled true/,
    ],
    [
      'authorization for every method',
      { defaultMethodOptions: { authorizationType: apigateway.AuthorizationType.NONE } },
      /Microservice: invalid restApiProps\.defaultMethodOptions "authorization settings": each route's access \(RouteAccess\) decides/,
    ],
  ])('fails when restApiProps asks for %s', (_, restApiProps, message) => {
    expect(() => build({ restApiProps })).toThrow(message);
  });

  it('fails when restApiProps sends access logs elsewhere', () => {
    expect(() =>
      widgetsService((stack) => ({
        routes: [HEALTH],
        restApiProps: {
          deployOptions: {
            accessLogDestination: new apigateway.LogGroupLogDestination(
              new logs.LogGroup(stack, 'Elsewhere'),
            ),
          },
        },
      })),
    ).toThrow(
      /Microservice: invalid restApiProps\.deployOptions\.accessLogDestination .*access logs go to the service's access log group/,
    );
  });

  it('rejects TLS 1.0 on a custom domain and defaults it to TLS 1.2', () => {
    const domain = (stack: Stack, securityPolicy?: apigateway.SecurityPolicy) => ({
      domainName: 'widgets.example.com',
      certificate: acm.Certificate.fromCertificateArn(
        stack,
        'Cert',
        'arn:aws:acm:eu-west-1:111111111111:certificate/abc',
      ),
      securityPolicy,
    });
    const make = (securityPolicy?: apigateway.SecurityPolicy) => {
      const { stack } = widgetsService((scope) => ({
        routes: [HEALTH],
        restApiProps: { domainName: domain(scope, securityPolicy) },
      }));
      return Template.fromStack(stack);
    };
    expect(() => make(apigateway.SecurityPolicy.TLS_1_0)).toThrow(
      /Microservice: invalid restApiProps\.domainName\.securityPolicy "TLS_1_0": clients connect with TLS 1\.2 or later/,
    );
    make().hasResourceProperties('AWS::ApiGateway::DomainName', {
      DomainName: 'widgets.example.com',
      SecurityPolicy: 'TLS_1_2',
    });
  });

  it('fails when the stage throttle and restApiProps give different limits, naming both', () => {
    expect(() =>
      build({
        throttle: { rateLimit: 50, burstLimit: 100 },
        restApiProps: { deployOptions: { throttlingRateLimit: 70 } },
      }),
    ).toThrow(
      /invalid restApiProps\.deployOptions\.throttlingRateLimit 70: conflicts with throttle\.rateLimit \(50\)/,
    );
  });
});

describe('Microservice functionProps', () => {
  it('applies the service-wide overrides to every function and a route’s own over them', () => {
    const { template } = build({
      functionProps: { architecture: lambda.Architecture.X86_64, environment: { FLAG: 'service' } },
      routes: [
        HEALTH,
        {
          ...WRITE,
          functionProps: { architecture: lambda.Architecture.ARM_64, environment: { FLAG: 'route' } },
        },
      ],
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'widgets: GET /health',
      Architectures: ['x86_64'],
      TracingConfig: { Mode: 'Active' },
      LoggingConfig: Match.objectLike({ LogFormat: 'JSON' }),
      Environment: { Variables: Match.objectLike({ FLAG: 'service', POWERTOOLS_SERVICE_NAME: 'widgets' }) },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'widgets: POST /widgets',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      Environment: {
        Variables: Match.objectLike({
          FLAG: 'route',
          TABLE_NAME: { Ref: Match.stringLikeRegexp('^ServiceTable') },
        }),
      },
    });
  });

  it('fails when a route’s functionProps switches tracing off, naming the prop', () => {
    expect(() =>
      build({ routes: [{ ...HEALTH, functionProps: { tracing: lambda.Tracing.DISABLED } }] }),
    ).toThrow(
      /ServiceFunction: invalid functionProps\.tracing "Disabled": X-Ray active tracing is a must-have/,
    );
  });

  it('fails when functionProps overrides a variable the service sets', () => {
    expect(() => build({ functionProps: { environment: { TABLE_NAME: 'someone-elses' } } })).toThrow(
      /invalid functionProps\.environment\.TABLE_NAME "someone-elses"/,
    );
  });
});
