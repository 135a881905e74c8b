import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import type { PlatformProps } from '../../lib';
import { DataProtection, Platform } from '../../lib';
import { appWithoutBundling } from '../helpers';

const BASE: PlatformProps = {
  appName: 'Shop',
  envName: 'test',
  scopes: [
    { name: 'users.read', description: 'read' },
    { name: 'users.write', description: 'write' },
    { name: 'inventory.admin', description: 'admin' },
  ],
  defaultScopes: ['users.read'],
  groups: [{ name: 'admins', scopes: ['inventory.admin'] }, { name: 'customers' }],
};

function build(overrides: Partial<PlatformProps> = {}) {
  const stack = new Stack(appWithoutBundling(), 'Shop-test-Platform');
  const platform = new Platform(stack, 'Platform', { ...BASE, ...overrides });
  return { stack, platform, template: Template.fromStack(stack) };
}

describe('Platform', () => {
  describe('identity', () => {
    const { template } = build();

    it('enforces a strong password policy, optional TOTP MFA and e-mail sign-in', () => {
      template.hasResourceProperties('AWS::Cognito::UserPool', {
        Policies: {
          PasswordPolicy: {
            MinimumLength: 12,
            RequireLowercase: true,
            RequireUppercase: true,
            RequireNumbers: true,
            RequireSymbols: true,
          },
        },
        MfaConfiguration: 'OPTIONAL',
        EnabledMfas: ['SOFTWARE_TOKEN_MFA'],
        UsernameAttributes: ['email'],
        AutoVerifiedAttributes: ['email'],
        AccountRecoverySetting: { RecoveryMechanisms: [{ Name: 'verified_email', Priority: 1 }] },
      });
    });

    it('adds scopes to access tokens by group with a version 2 pre-token-generation trigger', () => {
      template.hasResourceProperties('AWS::Cognito::UserPool', {
        UserPoolTier: 'ESSENTIALS',
        LambdaConfig: {
          PreTokenGenerationConfig: {
            LambdaArn: { Ref: Match.stringLikeRegexp('TokenCustomizerLiveAlias') },
            LambdaVersion: 'V2_0',
          },
        },
      });
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: {
          Variables: Match.objectLike({
            SCOPE_GRANTS: JSON.stringify({
              defaultScopes: ['api/users.read'],
              groups: { admins: ['api/inventory.admin'], customers: [] },
            }),
          }),
        },
      });
    });

    it('exposes the names of its declared scopes, against which routes are checked', () => {
      expect(build().platform.declaredScopes).toEqual(['users.read', 'users.write', 'inventory.admin']);
    });

    it('declares the resource server scopes and the groups', () => {
      template.hasResourceProperties('AWS::Cognito::UserPoolResourceServer', {
        Identifier: 'api',
        Scopes: [
          { ScopeName: 'users.read', ScopeDescription: 'read' },
          { ScopeName: 'users.write', ScopeDescription: 'write' },
          { ScopeName: 'inventory.admin', ScopeDescription: 'admin' },
        ],
      });
      template.hasResourceProperties('AWS::Cognito::UserPoolGroup', { GroupName: 'admins', Precedence: 0 });
      template.hasResourceProperties('AWS::Cognito::UserPoolGroup', {
        GroupName: 'customers',
        Precedence: 1,
      });
    });

    it('gives users a public SRP-only client with token revocation and no secret', () => {
      template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
        ExplicitAuthFlows: ['ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
        GenerateSecret: false,
        PreventUserExistenceErrors: 'ENABLED',
        EnableTokenRevocation: true,
        AllowedOAuthFlowsUserPoolClient: false,
      });
    });

    it('retains the user pool with deletion protection by default', () => {
      template.hasResource('AWS::Cognito::UserPool', {
        DeletionPolicy: 'Retain',
        Properties: Match.objectLike({ DeletionProtection: 'ACTIVE' }),
      });
    });
  });

  it('requires MFA and enables threat protection on the Plus plan when asked', () => {
    build({ mfa: cognito.Mfa.REQUIRED, threatProtection: true }).template.hasResourceProperties(
      'AWS::Cognito::UserPool',
      {
        MfaConfiguration: 'ON',
        UserPoolTier: 'PLUS',
        UserPoolAddOns: { AdvancedSecurityMode: 'ENFORCED' },
      },
    );
  });

  it('allows password auth and OAuth only when configured', () => {
    build({
      allowPasswordAuth: true,
      callbackUrls: ['https://shop.example.com/callback'],
      domainPrefix: 'shop-test',
    }).template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      ExplicitAuthFlows: Match.arrayWith(['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_USER_SRP_AUTH']),
      AllowedOAuthFlows: ['code'],
      AllowedOAuthScopes: Match.arrayWith(['openid', 'email', 'api/users.read']),
      CallbackURLs: ['https://shop.example.com/callback'],
    });
  });

  it('never lets the OAuth client request scopes reserved to groups', () => {
    const { template } = build({
      callbackUrls: ['https://shop.example.com/callback'],
      domainPrefix: 'shop-test',
    });
    const client = Object.values(template.findResources('AWS::Cognito::UserPoolClient'))[0];
    expect(client.Properties.AllowedOAuthScopes).toEqual(['openid', 'email', 'api/users.read']);
    template.hasResourceProperties('AWS::Cognito::UserPoolDomain', { Domain: 'shop-test' });
  });

  it('fails when OAuth callbacks are given without a hosted domain', () => {
    expect(() => build({ callbackUrls: ['https://shop.example.com/callback'] })).toThrow(
      /Platform: invalid domainPrefix undefined: is required with callbackUrls/,
    );
  });

  describe('shared resources', () => {
    const { template } = build({ alarmEmails: ['ops@example.com'] });

    it('has a rotating KMS key that CloudWatch may use for the encrypted, TLS-only alarm topic', () => {
      template.hasResourceProperties('AWS::KMS::Key', {
        EnableKeyRotation: true,
        KeyPolicy: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Principal: { Service: 'cloudwatch.amazonaws.com' },
              Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
            }),
          ]),
        },
      });
      template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
      template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
      template.hasResourceProperties('AWS::SNS::Subscription', {
        Protocol: 'email',
        Endpoint: 'ops@example.com',
      });
    });

    it('lets CloudWatch alarms of this account and region publish to the alarm topic, and use its key', () => {
      template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Allow',
              Principal: { Service: 'cloudwatch.amazonaws.com' },
              Action: 'sns:Publish',
              Resource: { Ref: Match.stringLikeRegexp('AlarmTopic') },
              Condition: {
                StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
                ArnLike: {
                  'aws:SourceArn': {
                    'Fn::Join': [
                      '',
                      [
                        'arn:',
                        { Ref: 'AWS::Partition' },
                        ':cloudwatch:',
                        { Ref: 'AWS::Region' },
                        ':',
                        { Ref: 'AWS::AccountId' },
                        ':alarm:*',
                      ],
                    ],
                  },
                },
              },
            }),
          ]),
        },
      });
      template.hasResourceProperties('AWS::KMS::Key', {
        KeyPolicy: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Allow',
              Principal: { Service: 'cloudwatch.amazonaws.com' },
              Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
              Resource: '*',
            }),
          ]),
        },
      });
    });

    it('publishes "none" as the external alarm topic when none is configured', () => {
      template.hasResourceProperties('AWS::SSM::Parameter', {
        Name: '/Shop/test/platform/external-alarm-topic-arn',
        Value: 'none',
      });
    });

    it('has a custom event bus with an archive for replay', () => {
      template.hasResourceProperties('AWS::Events::EventBus', { Description: 'Shop test domain events' });
      template.hasResourceProperties('AWS::Events::Archive', {
        SourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('EventBus'), 'Arn'] },
        RetentionDays: 30,
      });
    });

    it('has a regional web ACL with AWS managed rules and a per-IP rate limit', () => {
      template.hasResourceProperties('AWS::WAFv2::WebACL', {
        Scope: 'REGIONAL',
        DefaultAction: { Allow: {} },
        Rules: Match.arrayWith([
          Match.objectLike({
            Name: 'AWSManagedRulesCommonRuleSet',
            Statement: {
              ManagedRuleGroupStatement: { VendorName: 'AWS', Name: 'AWSManagedRulesCommonRuleSet' },
            },
          }),
          Match.objectLike({
            Name: 'RateLimitPerIp',
            Action: { Block: {} },
            Statement: { RateBasedStatement: Match.objectLike({ Limit: 2000, AggregateKeyType: 'IP' }) },
          }),
        ]),
      });
    });

    it('counts every request against a per-IP rate rule: unsigned ones at the lower limit, SigV4-prefixed ones at a separate higher one', () => {
      const sigV4Prefix = {
        ByteMatchStatement: {
          FieldToMatch: { SingleHeader: { Name: 'authorization' } },
          PositionalConstraint: 'STARTS_WITH',
          SearchString: 'AWS4-HMAC-SHA256 ',
          TextTransformations: [{ Priority: 0, Type: 'NONE' }],
        },
      };
      template.hasResourceProperties('AWS::WAFv2::WebACL', {
        Rules: Match.arrayWith([
          Match.objectLike({
            Name: 'RateLimitPerIp',
            Priority: 10,
            Action: { Block: {} },
            Statement: {
              RateBasedStatement: {
                Limit: 2000,
                AggregateKeyType: 'IP',
                ScopeDownStatement: { NotStatement: { Statement: sigV4Prefix } },
              },
            },
          }),
          Match.objectLike({
            Name: 'RateLimitPerIpSigV4',
            Priority: 11,
            Action: { Block: {} },
            Statement: {
              RateBasedStatement: {
                Limit: 100_000,
                AggregateKeyType: 'IP',
                ScopeDownStatement: sigV4Prefix,
              },
            },
            VisibilityConfig: Match.objectLike({ MetricName: 'RateLimitPerIpSigV4' }),
          }),
        ]),
      });
    });

    it('takes the SigV4 per-IP limit from wafSigV4RateLimitPer5Minutes', () => {
      build({ wafSigV4RateLimitPer5Minutes: 50_000 }).template.hasResourceProperties('AWS::WAFv2::WebACL', {
        Rules: Match.arrayWith([
          Match.objectLike({
            Name: 'RateLimitPerIpSigV4',
            Statement: { RateBasedStatement: Match.objectLike({ Limit: 50_000 }) },
          }),
        ]),
      });
    });

    it('sets the API Gateway account CloudWatch role for execution logs', () => {
      template.hasResourceProperties('AWS::ApiGateway::Account', {
        CloudWatchRoleArn: {
          'Fn::GetAtt': [Match.stringLikeRegexp('ApiGatewayAccountCloudWatchRole'), 'Arn'],
        },
      });
    });

    it('publishes every shared resource in the registry under /{app}/{env}/platform/', () => {
      for (const key of [
        'user-pool-arn',
        'user-pool-client-id',
        'resource-server-id',
        'event-bus-arn',
        'kms-key-arn',
        'alarm-topic-arn',
        'web-acl-arn',
        'namespace-id',
      ]) {
        template.hasResourceProperties('AWS::SSM::Parameter', {
          Name: `/Shop/test/platform/${key}`,
          Type: 'String',
        });
      }
    });

    it('mirrors the registry in a Cloud Map HTTP namespace', () => {
      template.hasResourceProperties('AWS::ServiceDiscovery::HttpNamespace', { Name: 'shop-test' });
      template.hasResourceProperties('AWS::ServiceDiscovery::Service', {
        Name: 'platform',
        NamespaceId: { 'Fn::GetAtt': [Match.stringLikeRegexp('Namespace'), 'Id'] },
      });
      template.hasResourceProperties('AWS::ServiceDiscovery::Instance', {
        InstanceId: 'platform-test',
        InstanceAttributes: Match.objectLike({
          'event-bus-arn': { 'Fn::GetAtt': [Match.stringLikeRegexp('EventBus'), 'Arn'] },
          'user-pool-id': { Ref: Match.stringLikeRegexp('UserPool') },
        }),
      });
    });
  });

  it('leaves the account-wide API Gateway setting alone when told another stack manages it', () => {
    build({ configureApiGatewayAccount: false }).template.resourceCountIs('AWS::ApiGateway::Account', 0);
  });

  it('deletes stateful resources with the stack when data protection is DESTROY', () => {
    const { template } = build({ dataProtection: DataProtection.DESTROY });
    template.hasResource('AWS::Cognito::UserPool', { DeletionPolicy: 'Delete' });
    template.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Delete' });
  });

  it('fails when a group grants a scope that is not declared', () => {
    expect(() => build({ groups: [{ name: 'admins', scopes: ['orders.admin'] }] })).toThrow(
      /Platform: invalid groups\[admins\]\.scopes "orders.admin": is not one of the declared scopes/,
    );
  });

  it('fails when a default scope is not declared', () => {
    expect(() => build({ defaultScopes: ['nope'] })).toThrow(/invalid defaultScopes "nope"/);
  });

  it('fails when a scope is declared twice', () => {
    expect(() =>
      build({
        scopes: [
          { name: 'a', description: 'x' },
          { name: 'a', description: 'y' },
        ],
        defaultScopes: [],
        groups: [],
      }),
    ).toThrow(/invalid scopes\[\]\.name "a": is declared twice/);
  });

  it('fails when a scope name contains a slash', () => {
    expect(() =>
      build({ scopes: [{ name: 'users/read', description: 'x' }], defaultScopes: [], groups: [] }),
    ).toThrow(/invalid scopes\[\]\.name "users\/read"/);
  });

  it('fails when the app name cannot be used in registry names', () => {
    expect(() => build({ appName: 'my shop' })).toThrow(/Platform: invalid appName "my shop"/);
  });

  it('fails when the environment name is not lowercase', () => {
    expect(() => build({ envName: 'Prod' })).toThrow(/Platform: invalid envName "Prod"/);
  });

  it('fails when the WAF rate limit is below what WAF accepts', () => {
    expect(() => build({ wafRateLimitPer5Minutes: 5 })).toThrow(/invalid wafRateLimitPer5Minutes 5/);
  });

  it('publishes the configured external alarm topic in the registry for every alarm to notify', () => {
    const arn = 'arn:aws:sns:eu-west-1:123456789012:ops-pager';
    build({ externalAlarmTopicArn: arn }).template.hasResourceProperties('AWS::SSM::Parameter', {
      Name: '/Shop/test/platform/external-alarm-topic-arn',
      Value: arn,
    });
  });

  it.each(['ops-pager', 'arn:aws:sqs:eu-west-1:123456789012:q', 'arn:aws:sns:eu-west-1:1234:t'])(
    'fails when the external alarm topic %p is not an SNS topic ARN',
    (arn) => {
      expect(() => build({ externalAlarmTopicArn: arn })).toThrow(
        `Platform: invalid externalAlarmTopicArn ${JSON.stringify(arn)}`,
      );
    },
  );

  it('fails when an alarm e-mail address is malformed', () => {
    expect(() => build({ alarmEmails: ['ops.example.com'] })).toThrow(
      /Platform: invalid alarmEmails\[0\] "ops.example.com"/,
    );
  });

  it('fails when the SigV4 WAF rate limit is below what WAF accepts', () => {
    expect(() => build({ wafSigV4RateLimitPer5Minutes: 5 })).toThrow(
      /invalid wafSigV4RateLimitPer5Minutes 5/,
    );
  });

  it('fails when the SigV4 WAF rate limit is lower than the unsigned one', () => {
    expect(() => build({ wafRateLimitPer5Minutes: 5000, wafSigV4RateLimitPer5Minutes: 4000 })).toThrow(
      /invalid wafSigV4RateLimitPer5Minutes 4000: .*at least wafRateLimitPer5Minutes \(5000\)/,
    );
  });
});
