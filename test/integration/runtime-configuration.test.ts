import { randomUUID } from 'node:crypto';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { BY_CUSTOMER_INDEX } from '../../functions/orders/adapters/dynamodb-order-repository';
import type { handler as PlaceOrderHandler } from '../../functions/orders/handlers/place-order';
import { loadEnvironmentConfig } from '../../lib/config/environments';
import { ordersService } from '../../lib/stacks/services/orders';
import { AppConfigDataStandIn } from '../../local/appconfig-data';
import { apiEvent, lambdaContext, userClaims } from '../functions/api-event';
import type { Moto } from '../support/moto';
import { createTable, dynamoClientFor, scanAll, startMoto } from '../support/moto';

// The orders service's line limit from runtime configuration, end to end in one process: the `local`
// environment's configuration (lib/config/environments.ts → the orders service definition → the settings profile
// its template hosts) served by the local runtime's AppConfig Data (the SDK reaches it through
// AWS_ENDPOINT_URL_APPCONFIGDATA), read by the real POST /orders handler through kit/config, with the table in
// moto (AWS_ENDPOINT_URL). Secrets are read from moto's Secrets Manager the same way.

// The users service is not under test: every caller has a profile.
jest.mock('../../functions/orders/adapters/http-customer-directory', () => ({
  HttpCustomerDirectory: { fromEnv: () => ({ exists: async () => true }) },
}));

const CUSTOMER = '11111111-aaaa-bbbb-cccc-000000000009';
const saved = { ...process.env };
let moto: Moto;
let client: DynamoDBDocumentClient;
let appConfig: AppConfigDataStandIn;
let tableName: string;
let placeOrder: typeof PlaceOrderHandler;

beforeAll(async () => {
  moto = await startMoto();
  client = dynamoClientFor(moto.endpoint);
  tableName = `orders-${randomUUID()}`;
  await createTable(client, tableName, {
    gsi: { name: BY_CUSTOMER_INDEX, partitionKey: 'customerId', sortKey: 'createdAt' },
  });
  const settings = ordersService(loadEnvironmentConfig('local')).configuration?.settings;
  appConfig = new AppConfigDataStandIn({
    configurations: [
      {
        applicationId: 'app0001',
        applicationName: 'Shop-local-orders',
        environmentId: 'env0001',
        environmentName: 'local',
        profileId: 'prf0001',
        profileName: 'settings',
        // What ServiceConfiguration hosts for the settings profile.
        content: JSON.stringify(settings),
        contentType: 'application/json',
        versionNumber: '1',
      },
    ],
    region: 'us-east-1',
    accountId: '123456789012',
  });
  const appConfigEndpoint = await appConfig.start();
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: moto.endpoint,
    AWS_ENDPOINT_URL_APPCONFIGDATA: appConfigEndpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    TABLE_NAME: tableName,
    TABLE_PARTITION_KEY: 'pk',
    EVENT_SOURCE: 'shop.orders',
    CONFIG_APPLICATION_ID: 'app0001',
    CONFIG_ENVIRONMENT_ID: 'env0001',
    CONFIG_SETTINGS_PROFILE_ID: 'prf0001',
    CONFIG_MAX_AGE_SECONDS: '60',
  });
  placeOrder = (await import('../../functions/orders/handlers/place-order')).handler;
}, 60_000);

afterAll(async () => {
  process.env = { ...saved };
  client?.destroy();
  await appConfig?.stop();
  await moto?.stop();
}, 30_000);

function place(lines: number): Promise<APIGatewayProxyResult> {
  const body = { lines: Array.from({ length: lines }, (_, i) => ({ sku: `SKU-${i}`, quantity: 1 })) };
  return placeOrder(
    apiEvent({ method: 'POST', path: '/orders', body, claims: userClaims(CUSTOMER) }),
    lambdaContext,
  ) as Promise<APIGatewayProxyResult>;
}

describe('runtime configuration, from the environment configuration to the handler', () => {
  it('the local environment sets maxLinesPerOrder to 10', () => {
    expect(loadEnvironmentConfig('local').maxLinesPerOrder).toBe(10);
  });

  it('refuses an order over the configured limit with 422 TOO_MANY_ORDER_LINES and stores nothing', async () => {
    const refused = await place(11);
    expect(refused.statusCode).toBe(422);
    expect(JSON.parse(refused.body)).toMatchObject({
      error: {
        code: 'TOO_MANY_ORDER_LINES',
        message: 'An order may have at most 10 lines; this one has 11',
      },
    });
    expect(await scanAll(client, tableName)).toEqual([]);
  });

  it('accepts an order at the limit', async () => {
    const accepted = await place(10);
    expect(accepted.statusCode).toBe(201);
    expect(JSON.parse(accepted.body)).toMatchObject({ customerId: CUSTOMER, status: 'PENDING' });
    expect((await scanAll(client, tableName)).length).toBeGreaterThan(0);
  });

  it('reads a secret from Secrets Manager by the ARN in its variable', async () => {
    const secrets = new SecretsManagerClient({});
    try {
      const { ARN } = await secrets.send(
        new CreateSecretCommand({ Name: `Shop/local/orders/${randomUUID()}`, SecretString: 'pa55' }),
      );
      process.env.SECRET_ARN_PAYMENT_API_KEY = ARN;
      const { secret } = await import('../../functions/shared/config');
      await expect(secret('payment-api-key')).resolves.toBe('pa55');
    } finally {
      secrets.destroy();
    }
  });
});
