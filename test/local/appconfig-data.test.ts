import { AppConfigProvider } from '@aws-lambda-powertools/parameters/appconfig';
import {
  AppConfigDataClient,
  GetLatestConfigurationCommand,
  StartConfigurationSessionCommand,
} from '@aws-sdk/client-appconfigdata';
import type { AppConfigDataIam } from '../../local/appconfig-data';
import { AppConfigDataStandIn, deployedConfigurations } from '../../local/appconfig-data';
import type { AccessRequest } from '../../local/iam/authorizer';
import type { ResolvedResource } from '../../local/model';
import { generated } from '../../local/provisioner/secrets';

const REGION = 'us-east-1';
const ACCOUNT = '123456789012';

function resource(
  type: string,
  logicalId: string,
  ref: string,
  properties: Record<string, unknown>,
): ResolvedResource {
  return { stackName: 'Shop-local-Orders', logicalId, type, ref, properties, attributes: {}, metadata: {} };
}

/** What the provisioner records for a service with feature flags and settings (see local/provisioner/appconfig.ts). */
const RESOURCES: ResolvedResource[] = [
  resource('AWS::AppConfig::Application', 'App', 'app0001', { Name: 'Shop-local-orders' }),
  resource('AWS::AppConfig::Environment', 'Env', 'env0001', { ApplicationId: 'app0001', Name: 'local' }),
  resource('AWS::AppConfig::ConfigurationProfile', 'Flags', 'prf0001', {
    ApplicationId: 'app0001',
    Name: 'feature-flags',
    Type: 'AWS.AppConfig.FeatureFlags',
  }),
  resource('AWS::AppConfig::ConfigurationProfile', 'Settings', 'prf0002', {
    ApplicationId: 'app0001',
    Name: 'settings',
    Type: 'AWS.Freeform',
  }),
  resource('AWS::AppConfig::HostedConfigurationVersion', 'FlagsV', '1', {
    ApplicationId: 'app0001',
    ConfigurationProfileId: 'prf0001',
    ContentType: 'application/json',
    Content: JSON.stringify({
      version: '1',
      flags: { beta: { name: 'beta' } },
      values: { beta: { enabled: true } },
    }),
  }),
  resource('AWS::AppConfig::HostedConfigurationVersion', 'SettingsV', '1', {
    ApplicationId: 'app0001',
    ConfigurationProfileId: 'prf0002',
    ContentType: 'application/json',
    Content: JSON.stringify({ maxLinesPerOrder: 10 }),
  }),
  resource('AWS::AppConfig::Deployment', 'FlagsD', '1', {
    ApplicationId: 'app0001',
    EnvironmentId: 'env0001',
    ConfigurationProfileId: 'prf0001',
    ConfigurationVersion: '1',
    DeploymentStrategyId: 'AppConfig.AllAtOnce',
  }),
  resource('AWS::AppConfig::Deployment', 'SettingsD', '1', {
    ApplicationId: 'app0001',
    EnvironmentId: 'env0001',
    ConfigurationProfileId: 'prf0002',
    ConfigurationVersion: '1',
    DeploymentStrategyId: 'AppConfig.AllAtOnce',
  }),
];

const CREDENTIALS = { accessKeyId: 'AKIAFUNCTION', secretAccessKey: 'function-secret' };

function clientFor(endpoint: string, credentials = CREDENTIALS): AppConfigDataClient {
  return new AppConfigDataClient({ endpoint, region: REGION, credentials, maxAttempts: 1 });
}

describe('deployedConfigurations', () => {
  it('serves each deployed hosted version, feature flags as their values only', () => {
    expect(deployedConfigurations(RESOURCES)).toEqual([
      {
        applicationId: 'app0001',
        applicationName: 'Shop-local-orders',
        environmentId: 'env0001',
        environmentName: 'local',
        profileId: 'prf0001',
        profileName: 'feature-flags',
        content: JSON.stringify({ beta: { enabled: true } }),
        contentType: 'application/json',
        versionNumber: '1',
      },
      expect.objectContaining({ profileId: 'prf0002', content: JSON.stringify({ maxLinesPerOrder: 10 }) }),
    ]);
  });

  it('serves nothing that is not deployed', () => {
    expect(deployedConfigurations(RESOURCES.filter((r) => r.type !== 'AWS::AppConfig::Deployment'))).toEqual(
      [],
    );
  });
});

describe('AppConfigDataStandIn', () => {
  let standIn: AppConfigDataStandIn;
  let endpoint: string;
  const asked: AccessRequest[] = [];
  const allowed = new Set(['prf0002']);
  const iam: AppConfigDataIam = {
    signer: (key) =>
      key === CREDENTIALS.accessKeyId
        ? {
            secretAccessKey: CREDENTIALS.secretAccessKey,
            principal: { kind: 'role', roleArn: `arn:aws:iam::${ACCOUNT}:role/orders-fn`, sessionName: 'fn' },
          }
        : undefined,
    authorizer: {
      authorize: async (request) => {
        asked.push(request);
        const ok = allowed.has(request.resource.split('/').pop()!);
        return {
          request,
          allowed: ok,
          principalArn: 'arn:aws:sts::123456789012:assumed-role/orders-fn/fn',
          reason: ok ? '' : 'no statement allows it',
          awsReason: 'because no identity-based policy allows the action',
        };
      },
    },
    message: (decision) => `not authorized to perform: ${decision.request.action}`,
  };

  beforeAll(async () => {
    standIn = new AppConfigDataStandIn({
      configurations: deployedConfigurations(RESOURCES),
      region: REGION,
      accountId: ACCOUNT,
      iam,
    });
    endpoint = await standIn.start();
  });
  afterAll(() => standIn.stop());
  beforeEach(() => {
    asked.length = 0;
  });

  it('serves the Powertools AppConfig provider by names, checking both actions on the configuration ARN', async () => {
    const provider = new AppConfigProvider({
      application: 'Shop-local-orders',
      environment: 'local',
      awsSdkV3Client: clientFor(endpoint),
    });
    await expect(provider.get('settings', { transform: 'json' })).resolves.toEqual({ maxLinesPerOrder: 10 });
    const arn = `arn:aws:appconfig:${REGION}:${ACCOUNT}:application/app0001/environment/env0001/configuration/prf0002`;
    expect(asked.map((r) => [r.action, r.resource])).toEqual([
      ['appconfig:StartConfigurationSession', arn],
      ['appconfig:GetLatestConfiguration', arn],
    ]);
  });

  it('answers a poll with no content when the configuration has not changed, and a new token each time', async () => {
    const client = clientFor(endpoint);
    const session = await client.send(
      new StartConfigurationSessionCommand({
        ApplicationIdentifier: 'app0001',
        EnvironmentIdentifier: 'env0001',
        ConfigurationProfileIdentifier: 'prf0002',
      }),
    );
    const first = await client.send(
      new GetLatestConfigurationCommand({ ConfigurationToken: session.InitialConfigurationToken }),
    );
    expect(new TextDecoder().decode(first.Configuration)).toBe('{"maxLinesPerOrder":10}');
    expect(first.ContentType).toBe('application/json');
    expect(first.NextPollIntervalInSeconds).toBe(60);
    const second = await client.send(
      new GetLatestConfigurationCommand({ ConfigurationToken: first.NextPollConfigurationToken }),
    );
    expect(second.Configuration?.length ?? 0).toBe(0);
    expect(second.NextPollConfigurationToken).not.toBe(first.NextPollConfigurationToken);
    // A token is used once.
    await expect(
      client.send(
        new GetLatestConfigurationCommand({ ConfigurationToken: first.NextPollConfigurationToken }),
      ),
    ).rejects.toMatchObject({ name: 'BadRequestException' });
  });

  it('refuses a configuration the role may not read with AccessDeniedException', async () => {
    const client = clientFor(endpoint);
    await expect(
      client.send(
        new StartConfigurationSessionCommand({
          ApplicationIdentifier: 'app0001',
          EnvironmentIdentifier: 'env0001',
          ConfigurationProfileIdentifier: 'feature-flags',
        }),
      ),
    ).rejects.toMatchObject({
      name: 'AccessDeniedException',
      message: 'not authorized to perform: appconfig:StartConfigurationSession',
    });
  });

  it('refuses a signature made with another secret, and an unknown key', async () => {
    const input = {
      ApplicationIdentifier: 'app0001',
      EnvironmentIdentifier: 'env0001',
      ConfigurationProfileIdentifier: 'prf0002',
    };
    await expect(
      clientFor(endpoint, { ...CREDENTIALS, secretAccessKey: 'wrong' }).send(
        new StartConfigurationSessionCommand(input),
      ),
    ).rejects.toMatchObject({ name: 'InvalidSignatureException' });
    await expect(
      clientFor(endpoint, { accessKeyId: 'AKIAUNKNOWN', secretAccessKey: 'x' }).send(
        new StartConfigurationSessionCommand(input),
      ),
    ).rejects.toMatchObject({ name: 'UnrecognizedClientException' });
  });

  it('answers ResourceNotFoundException for a configuration no template deploys', async () => {
    await expect(
      clientFor(endpoint).send(
        new StartConfigurationSessionCommand({
          ApplicationIdentifier: 'app0001',
          EnvironmentIdentifier: 'prod',
          ConfigurationProfileIdentifier: 'settings',
        }),
      ),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });
});

describe('generated secret values', () => {
  it('follow GenerateSecretString: length, no punctuation', () => {
    const value = generated({ PasswordLength: 32, ExcludePunctuation: true });
    expect(value).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(generated({ PasswordLength: 32, ExcludePunctuation: true })).not.toBe(value);
  });

  it('put the value under GenerateStringKey of SecretStringTemplate', () => {
    const value = JSON.parse(
      generated({ PasswordLength: 8, SecretStringTemplate: '{"user":"app"}', GenerateStringKey: 'password' }),
    );
    expect(value).toEqual({ user: 'app', password: expect.stringMatching(/^.{8}$/) });
  });
});
