import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import { emulatorClientConfig } from '../../local/aws-clients';
import type { LocalRuntime } from '../../local/runtime';
import { startLocalRuntime } from '../../local/runtime';
import type { SmokeTestClients } from '../../scripts/smoke-test';
import { createSmokeTestUser, runSmokeTest, smokeTestSecretName } from '../../scripts/smoke-test';

// The pipeline's smoke test against the whole reference system on the local runtime (env `local`): the registry
// the templates write (in moto), the user pool the platform creates, the bundled handlers behind the gateway.

let runtime: LocalRuntime;
let clients: SmokeTestClients;

beforeAll(async () => {
  runtime = await startLocalRuntime({
    port: 0,
    assemblyDir: fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-smoke-')),
    log: () => undefined,
  });
  const config = emulatorClientConfig(runtime.emulator);
  clients = {
    ssm: new SSMClient(config),
    secrets: new SecretsManagerClient(config),
    cognito: new CognitoIdentityProviderClient(config),
  };
  // What the pipeline stack creates in AWS: the smoke-test user's secret (a password the pool's policy accepts).
  await clients.secrets.send(
    new CreateSecretCommand({
      Name: smokeTestSecretName('Shop', 'local'),
      SecretString: JSON.stringify({
        username: 'smoke-test@example.com',
        password: 'Smoke-Test-Passw0rd-1!',
      }),
    }),
  );
}, 300_000);

afterAll(async () => {
  for (const client of Object.values(clients ?? {})) client.destroy();
  await runtime?.stop();
}, 60_000);

describe('the smoke test on the local runtime', () => {
  it('passes on the running system once the operator has created the smoke-test user', async () => {
    expect(await createSmokeTestUser({ appName: 'Shop', envName: 'local', clients })).toMatch(
      /^smoke-test@example\.com is in user pool us-east-1_\w+ with the password of secret Shop\/local\/smoke-test-user$/,
    );
    const lines: string[] = [];
    const report = await runSmokeTest({
      appName: 'Shop',
      envName: 'local',
      clients,
      runId: 'local-1',
      log: (line) => lines.push(line),
    });
    expect({ ok: report.ok, lines }).toEqual({
      ok: true,
      lines: [
        'PASS registry: services inventory, orders, users under /Shop/local/',
        expect.stringMatching(
          new RegExp(`^PASS users health: GET ${runtime.apiUrl}/users/health 200 in \\d+ ms$`),
        ),
        expect.stringMatching(
          /^PASS sign in: smoke-test@example\.com signed in to the user pool through client \w+$/,
        ),
        expect.stringMatching(
          new RegExp(
            `^PASS inventory health: GET ${runtime.apiUrl}/inventory/inventory/SKU-SMOKE-TEST 404 \\(as the smoke-test user\\) in \\d+ ms$`,
          ),
        ),
        expect.stringMatching(
          new RegExp(
            `^PASS orders health: GET ${runtime.apiUrl}/orders/orders\\?customerId=me 200 \\(as the smoke-test user\\) in \\d+ ms$`,
          ),
        ),
        expect.stringMatching(
          /^PASS users round trip: profile of smoke-test@example\.com written and read back through http:\/\/127\.0\.0\.1:\d+\/users\/? in \d+ ms$/,
        ),
      ],
    });
  });
});
