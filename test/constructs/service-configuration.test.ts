import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as appconfig from 'aws-cdk-lib/aws-appconfig';
import type { MicroserviceProps } from '../../lib';
import { featureFlagsDocument } from '../../lib';
import { HEALTH, statementsOfRole, widgetsService, WRITE } from './widgets-fixture';

const CONFIGURATION: MicroserviceProps['configuration'] = {
  featureFlags: { 'express-checkout': true, 'gift-wrap': false },
  settings: { maxLinesPerOrder: 10, currency: 'EUR' },
  secrets: [{ name: 'payment-api-key', readers: ['post-widgets'] }],
};

function build(configuration: MicroserviceProps['configuration'] | null = CONFIGURATION) {
  const { stack, service } = widgetsService({
    routes: [HEALTH, WRITE],
    configuration: configuration ?? undefined,
    monitoring: { enabled: false },
  });
  return { stack, service, template: Template.fromStack(stack) };
}

/** `arn:...:application/{app}/environment/{env}/configuration/{profile}` as the template renders it. */
function configurationArn(app: string, env: string, profile: string) {
  return {
    'Fn::Join': [
      '',
      [
        'arn:',
        { Ref: 'AWS::Partition' },
        ':appconfig:',
        { Ref: 'AWS::Region' },
        ':',
        { Ref: 'AWS::AccountId' },
        ':application/',
        { Ref: app },
        '/environment/',
        { Ref: env },
        '/configuration/',
        { Ref: profile },
      ],
    ],
  };
}

function logicalIdOf(template: Template, type: string, props: Record<string, unknown>): string {
  const found = Object.keys(template.findResources(type, { Properties: Match.objectLike(props) }));
  expect(found).toHaveLength(1);
  return found[0];
}

describe('Microservice configuration: feature flags and settings in AppConfig', () => {
  const { stack, service, template } = build();
  const app = logicalIdOf(template, 'AWS::AppConfig::Application', { Name: 'Shop-test-widgets' });
  const env = logicalIdOf(template, 'AWS::AppConfig::Environment', { Name: 'test' });
  const flags = logicalIdOf(template, 'AWS::AppConfig::ConfigurationProfile', { Name: 'feature-flags' });
  const settings = logicalIdOf(template, 'AWS::AppConfig::ConfigurationProfile', { Name: 'settings' });

  it('creates one application, one environment and a feature-flags and a freeform settings profile', () => {
    template.resourceCountIs('AWS::AppConfig::Application', 1);
    template.resourceCountIs('AWS::AppConfig::Environment', 1);
    template.resourceCountIs('AWS::AppConfig::ConfigurationProfile', 2);
    template.hasResourceProperties('AWS::AppConfig::Environment', {
      ApplicationId: { Ref: app },
      Name: 'test',
    });
    template.hasResourceProperties('AWS::AppConfig::ConfigurationProfile', {
      ApplicationId: { Ref: app },
      Name: 'feature-flags',
      LocationUri: 'hosted',
      Type: 'AWS.AppConfig.FeatureFlags',
    });
    template.hasResourceProperties('AWS::AppConfig::ConfigurationProfile', {
      ApplicationId: { Ref: app },
      Name: 'settings',
      LocationUri: 'hosted',
      Type: 'AWS.Freeform',
    });
  });

  it('hosts the values as configuration versions in the AppConfig document formats', () => {
    template.hasResourceProperties('AWS::AppConfig::HostedConfigurationVersion', {
      ApplicationId: { Ref: app },
      ConfigurationProfileId: { Ref: flags },
      ContentType: 'application/json',
      Content: JSON.stringify({
        version: '1',
        flags: { 'express-checkout': { name: 'express-checkout' }, 'gift-wrap': { name: 'gift-wrap' } },
        values: { 'express-checkout': { enabled: true }, 'gift-wrap': { enabled: false } },
      }),
    });
    template.hasResourceProperties('AWS::AppConfig::HostedConfigurationVersion', {
      ApplicationId: { Ref: app },
      ConfigurationProfileId: { Ref: settings },
      ContentType: 'application/json',
      Content: JSON.stringify({ maxLinesPerOrder: 10, currency: 'EUR' }),
    });
  });

  it('deploys each profile to the environment with the all-at-once strategy by default', () => {
    template.resourceCountIs('AWS::AppConfig::Deployment', 2);
    template.resourceCountIs('AWS::AppConfig::DeploymentStrategy', 0);
    for (const profile of [flags, settings]) {
      template.hasResourceProperties('AWS::AppConfig::Deployment', {
        ApplicationId: { Ref: app },
        EnvironmentId: { Ref: env },
        ConfigurationProfileId: { Ref: profile },
        DeploymentStrategyId: 'AppConfig.AllAtOnce',
      });
    }
  });

  it('gives every function the identifiers, the cache age and read access to exactly these profiles', () => {
    expect.hasAssertions();
    for (const fn of Object.values(service.functions)) {
      const variables = fn.function.node.defaultChild as unknown as { logicalId: string };
      const logicalId = stack.resolve(variables.logicalId) as string;
      const resource = template.toJSON().Resources[logicalId];
      expect(resource.Properties.Environment.Variables).toMatchObject({
        CONFIG_APPLICATION_ID: { Ref: app },
        CONFIG_ENVIRONMENT_ID: { Ref: env },
        CONFIG_FLAGS_PROFILE_ID: { Ref: flags },
        CONFIG_SETTINGS_PROFILE_ID: { Ref: settings },
        CONFIG_MAX_AGE_SECONDS: '60',
      });
      const role = stack.resolve((fn.role.node.defaultChild as unknown as { logicalId: string }).logicalId);
      expect(statementsOfRole(template, role)).toContainEqual({
        Effect: 'Allow',
        Action: ['appconfig:GetLatestConfiguration', 'appconfig:StartConfigurationSession'],
        Resource: [configurationArn(app, env, flags), configurationArn(app, env, settings)],
      });
    }
  });

  it('grants no AppConfig action on a wildcard resource', () => {
    expect.hasAssertions();
    for (const policy of Object.values(template.findResources('AWS::IAM::Policy'))) {
      for (const statement of policy.Properties.PolicyDocument.Statement) {
        const actions = [statement.Action].flat() as string[];
        if (actions.some((a) => a.startsWith('appconfig:'))) {
          expect(JSON.stringify(statement.Resource)).not.toContain('*');
        }
      }
      expect(policy).toBeDefined();
    }
  });

  it('puts no flag or setting value in any function environment', () => {
    expect.hasAssertions();
    for (const fn of Object.values(template.findResources('AWS::Lambda::Function'))) {
      const text = JSON.stringify(fn.Properties.Environment?.Variables ?? {});
      expect(text).not.toMatch(/express-checkout|maxLinesPerOrder|EUR/);
    }
  });

  it('takes a deployment strategy and a cache age', () => {
    const { template: custom } = build({
      settings: { maxLinesPerOrder: 5 },
      maxAge: Duration.seconds(15),
      deploymentStrategy: appconfig.DeploymentStrategy.fromDeploymentStrategyId(
        widgetsService().stack,
        'Strategy',
        appconfig.DeploymentStrategyId.LINEAR_50_PERCENT_EVERY_30_SECONDS,
      ),
    });
    custom.resourceCountIs('AWS::AppConfig::ConfigurationProfile', 1);
    custom.hasResourceProperties('AWS::AppConfig::Deployment', {
      DeploymentStrategyId: 'AppConfig.Linear50PercentEvery30Seconds',
    });
    custom.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          CONFIG_MAX_AGE_SECONDS: '15',
          CONFIG_SETTINGS_PROFILE_ID: Match.anyValue(),
        }),
      },
    });
    custom.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.not(Match.objectLike({ CONFIG_FLAGS_PROFILE_ID: Match.anyValue() })) },
    });
  });

  it('creates nothing and sets no variable without configuration', () => {
    const { template: plain } = build(null);
    plain.resourceCountIs('AWS::AppConfig::Application', 0);
    plain.resourceCountIs('AWS::SecretsManager::Secret', 0);
    expect(JSON.stringify(plain.findResources('AWS::Lambda::Function'))).not.toMatch(/CONFIG_|SECRET_ARN_/);
  });

  it('writes the feature flags document with flags sorted by name', () => {
    expect(featureFlagsDocument({ b: false, a: true })).toEqual({
      version: '1',
      flags: { a: { name: 'a' }, b: { name: 'b' } },
      values: { a: { enabled: true }, b: { enabled: false } },
    });
  });
});

describe('Microservice configuration: secrets in Secrets Manager', () => {
  const { stack, service, template } = build();
  const secretId = logicalIdOf(template, 'AWS::SecretsManager::Secret', {
    Name: 'Shop/test/widgets/payment-api-key',
  });

  it('creates the secret encrypted with the service key, its value generated, never in the template', () => {
    const key = stack.resolve(
      (service.encryptionKey.node.defaultChild as unknown as { logicalId: string }).logicalId,
    );
    template.hasResource('AWS::SecretsManager::Secret', {
      DeletionPolicy: 'Retain',
      Properties: {
        Name: 'Shop/test/widgets/payment-api-key',
        Description: 'Secret payment-api-key of service widgets',
        KmsKeyId: { 'Fn::GetAtt': [key, 'Arn'] },
        GenerateSecretString: { ExcludePunctuation: true, PasswordLength: 32 },
      },
    });
    const text = JSON.stringify(template.toJSON());
    expect(/"SecretString"/.test(text)).toBe(false);
  });

  it('gives the reader the ARN and read access, and the other functions neither', () => {
    const writer = service.functions['post-widgets'];
    const health = service.functions['get-health'];
    const idOf = (c: { node: { defaultChild?: unknown } }) =>
      stack.resolve((c.node.defaultChild as { logicalId: string }).logicalId) as string;
    const resources = template.toJSON().Resources;
    expect(
      resources[idOf(writer.function)].Properties.Environment.Variables.SECRET_ARN_PAYMENT_API_KEY,
    ).toEqual({
      Ref: secretId,
    });
    expect(resources[idOf(health.function)].Properties.Environment.Variables).not.toHaveProperty(
      'SECRET_ARN_PAYMENT_API_KEY',
    );
    expect(statementsOfRole(template, idOf(writer.role))).toContainEqual({
      Effect: 'Allow',
      Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
      Resource: { Ref: secretId },
    });
    expect(JSON.stringify(statementsOfRole(template, idOf(health.role)))).not.toContain('secretsmanager:');
  });

  it('lets the reader decrypt with the service key only through Secrets Manager', () => {
    const writerRole = stack.resolve(
      (service.functions['post-widgets'].role.node.defaultChild as unknown as { logicalId: string })
        .logicalId,
    );
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'kms:Decrypt',
            Principal: { AWS: { 'Fn::GetAtt': [writerRole, 'Arn'] } },
            Condition: {
              StringEquals: {
                'kms:ViaService': {
                  'Fn::Join': ['', ['secretsmanager.', { Ref: 'AWS::Region' }, '.amazonaws.com']],
                },
              },
            },
          }),
        ]),
      },
    });
  });

  it('gives every function the secret when no readers are named', () => {
    const { template: all } = build({ secrets: [{ name: 'signing-key' }] });
    const functions = Object.values(all.findResources('AWS::Lambda::Function')).filter(
      (fn) => fn.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME === 'widgets',
    );
    expect(functions).toHaveLength(2);
    for (const fn of functions) {
      expect(fn.Properties.Environment.Variables.SECRET_ARN_SIGNING_KEY).toEqual({ Ref: expect.any(String) });
    }
  });
});

describe('Microservice configuration: bad input fails synth naming the prop', () => {
  it('fails on a flag name AppConfig refuses', () => {
    expect(() => build({ featureFlags: { 'bad flag': true } })).toThrow(
      /Microservice: invalid configuration.featureFlags "bad flag": a name is a letter/,
    );
  });

  it('fails on a flag that is not true or false', () => {
    expect(() => build({ featureFlags: { beta: 'yes' as unknown as boolean } })).toThrow(
      /invalid configuration.featureFlags.beta "yes": must be true or false/,
    );
  });

  it('fails on a cache age above one hour', () => {
    expect(() => build({ settings: { a: 1 }, maxAge: Duration.hours(2) })).toThrow(
      /invalid configuration.maxAge "2 hours": must be at most 1 hour/,
    );
  });

  it('fails on a secret name with capitals and on a secret declared twice', () => {
    expect(() => build({ secrets: [{ name: 'ApiKey' }] })).toThrow(
      /invalid configuration.secrets\[0\].name "ApiKey": lowercase letters/,
    );
    expect(() => build({ secrets: [{ name: 'api-key' }, { name: 'api-key' }] })).toThrow(
      /invalid configuration.secrets\[1\].name "api-key": is declared twice/,
    );
  });

  it('fails when a reader names no function of the service', () => {
    const { app } = widgetsService({
      routes: [HEALTH],
      configuration: { secrets: [{ name: 'api-key', readers: ['post-widgetz'] }] },
      monitoring: { enabled: false },
    });
    expect(() => app.synth()).toThrow(
      /invalid configuration.secrets\[0\].readers "post-widgetz": no function of the service has that id \(it has get-health\)/,
    );
  });
});
