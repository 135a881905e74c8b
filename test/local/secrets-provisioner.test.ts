import { GetSecretValueCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { EmulatorClients } from '../../local/aws-clients';
import type { EmulatorEndpoint } from '../../local/model';
import { appConfigProvisioner } from '../../local/provisioner/appconfig';
import { secretsProvisioner } from '../../local/provisioner/secrets';
import type { ResourceRequest } from '../../local/provisioner/state';
import { ProvisionState } from '../../local/provisioner/state';
import type { Moto } from '../support/moto';
import { startMoto } from '../support/moto';

// The provisioners of issue 14's runtime configuration, against moto: a secret as the constructs declare it
// (no value in the template) and the AppConfig ids the runtime gives in moto's stead.

let moto: Moto;
let clients: EmulatorClients;
let state: ProvisionState;

beforeAll(async () => {
  moto = await startMoto();
  const emulator: EmulatorEndpoint = {
    endpoint: moto.endpoint,
    region: 'us-east-1',
    accessKeyId: 'testing',
    secretAccessKey: 'testing',
  };
  clients = new EmulatorClients(emulator);
  state = new ProvisionState(
    {
      assemblyDir: '/nonexistent',
      emulator,
      accountId: '123456789012',
      apiBaseUrl: 'http://127.0.0.1:3000',
      requireAssets: false,
      log: () => undefined,
    },
    clients,
  );
}, 60_000);

afterAll(async () => {
  clients?.destroy();
  await moto?.stop();
}, 30_000);

function request(type: string, logicalId: string, props: Record<string, unknown>): ResourceRequest {
  return {
    context: { stack: { name: 'Shop-local-Orders' } } as ResourceRequest['context'],
    logicalId,
    resource: { Type: type, Properties: props },
    props,
    physicalName: `Shop-local-Orders-${logicalId}`,
  };
}

const SECRET = {
  Name: 'Shop/local/orders/payment-api-key',
  Description: 'Secret payment-api-key of service orders',
  GenerateSecretString: { ExcludePunctuation: true, PasswordLength: 32 },
  KmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/Shop-local-Orders-ServiceTableKey',
};

describe('secrets provisioner', () => {
  it('creates the secret with a generated value and keeps it, and a value set later, on a re-run', async () => {
    const first = await secretsProvisioner.provision(
      state,
      request('AWS::SecretsManager::Secret', 'Secret', SECRET),
    );
    expect(first.ref).toMatch(
      /^arn:aws:secretsmanager:us-east-1:\d{12}:secret:Shop\/local\/orders\/payment-api-key-/,
    );
    const sm = clients.secretsManager;
    const generated = await sm.send(new GetSecretValueCommand({ SecretId: first.ref }));
    expect(generated.SecretString).toMatch(/^[A-Za-z0-9]{32}$/);
    await sm.send(new PutSecretValueCommand({ SecretId: first.ref, SecretString: 'set-by-operator' }));
    const again = await secretsProvisioner.provision(
      state,
      request('AWS::SecretsManager::Secret', 'Secret', SECRET),
    );
    expect(again.ref).toBe(first.ref);
    expect((await sm.send(new GetSecretValueCommand({ SecretId: first.ref }))).SecretString).toBe(
      'set-by-operator',
    );
  });
});

describe('AppConfig provisioner', () => {
  it('gives stable AppConfig-like ids and the version a deployment refers to', async () => {
    const app = await appConfigProvisioner.provision(
      state,
      request('AWS::AppConfig::Application', 'App', { Name: 'a' }),
    );
    expect(app.ref).toMatch(/^[a-z0-9]{7}$/);
    expect(app.attributes.ApplicationId).toBe(app.ref);
    const again = await appConfigProvisioner.provision(
      state,
      request('AWS::AppConfig::Application', 'App', { Name: 'a' }),
    );
    expect(again.ref).toBe(app.ref);
    const env = await appConfigProvisioner.provision(
      state,
      request('AWS::AppConfig::Environment', 'Env', { ApplicationId: app.ref, Name: 'local' }),
    );
    expect(env.ref).not.toBe(app.ref);
    expect(env.attributes.Arn).toBe(
      `arn:aws:appconfig:us-east-1:123456789012:application/${app.ref}/environment/${env.ref}`,
    );
    const version = await appConfigProvisioner.provision(
      state,
      request('AWS::AppConfig::HostedConfigurationVersion', 'V', { ApplicationId: app.ref }),
    );
    expect(version).toEqual({ ref: '1', attributes: { VersionNumber: '1' } });
  });
});
