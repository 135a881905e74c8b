import * as os from 'node:os';
import * as path from 'node:path';
import * as fs from 'node:fs';
import { randomUUID } from 'node:crypto';
import { PutEventsCommand, EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBClient, PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import {
  AdminConfirmSignUpCommand,
  CognitoIdentityProviderClient,
  SignUpCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import type { LocalRuntime } from '../../local/runtime';
import { startLocalRuntime } from '../../local/runtime';
import { signIn } from '../../local/token';
import { decodeOutboxData } from '../../functions/shared/events/outbox-format';

// End to end on the local runtime: the synthesized `local` templates provisioned into moto, the bundled
// handlers, the API gateway, the queue pollers and the outbox pipes — what deploys, run on one machine.

let runtime: LocalRuntime;
let customer: string;
let admin: string;
const lines: string[] = [];

beforeAll(async () => {
  runtime = await startLocalRuntime({
    port: 0,
    assemblyDir: fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-e2e-')),
    log: (line) => lines.push(line),
  });
  const identity = runtime.system.identity!;
  customer = await signIn(runtime.emulator, identity.userPoolClientId, 'demo@example.com', 'Demo-Passw0rd!');
  admin = await signIn(runtime.emulator, identity.userPoolClientId, 'admin@example.com', 'Admin-Passw0rd!');
  const profile = await call('POST', '/users/profiles', customer, {
    email: 'demo@example.com',
    displayName: 'Demo',
  });
  expect(profile.status).toBe(201);
}, 240_000);

afterAll(async () => {
  await runtime?.stop();
}, 60_000);

async function call(
  method: string,
  route: string,
  token?: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const response = await fetch(`${runtime.apiUrl}${route}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
}

async function eventually<T>(
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await probe();
  while (!done(last) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    last = await probe();
  }
  return last;
}

function tableNamed(service: string): string {
  const fn = [...runtime.system.functions.values()].find((f) => f.description.startsWith(`${service}:`));
  return fn!.environment.TABLE_NAME;
}

async function itemsOf(service: string) {
  const ddb = new DynamoDBClient({
    endpoint: runtime.emulator.endpoint,
    region: runtime.emulator.region,
    credentials: runtime.emulator,
  });
  try {
    const { Items = [] } = await ddb.send(
      new ScanCommand({ TableName: tableNamed(service), ConsistentRead: true }),
    );
    return Items;
  } finally {
    ddb.destroy();
  }
}

describe('the shop, end to end on the local runtime', () => {
  it('serves the public health check', async () => {
    const health = await call('GET', '/users/health');
    expect(health).toMatchObject({ status: 200, body: { status: 'ok', service: 'users' } });
  });

  it('rejects a call without a token (401) and a call with the wrong scope (403), writing nothing', async () => {
    expect((await call('GET', '/orders/orders/00000000-0000-4000-8000-000000000000')).status).toBe(401);
    const forbidden = await call('PUT', '/inventory/inventory/SKU-NOPE', customer, { available: 5 });
    expect(forbidden.status).toBe(403);
    expect((await itemsOf('inventory')).some((i) => i.pk?.S === 'SKU#SKU-NOPE')).toBe(false);
  });

  it('answers malformed JSON with 400 and writes nothing', async () => {
    const before = (await itemsOf('users')).length;
    const bad = await call('POST', '/users/profiles', customer, '{"email": ');
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toMatch(/VALIDATION_FAILED|MALFORMED_JSON/);
    expect((await itemsOf('users')).length).toBe(before);
  });

  it('signs up, signs in, creates a profile, places an order; stock is reserved and the order confirmed', async () => {
    const identity = runtime.system.identity!;
    const cognito = new CognitoIdentityProviderClient({
      endpoint: runtime.emulator.endpoint,
      region: runtime.emulator.region,
      credentials: runtime.emulator,
    });
    const email = `shopper-${randomUUID()}@example.com`;
    await cognito.send(
      new SignUpCommand({
        ClientId: identity.userPoolClientId,
        Username: email,
        Password: 'Shopper-Passw0rd!',
        UserAttributes: [{ Name: 'email', Value: email }],
      }),
    );
    await cognito.send(new AdminConfirmSignUpCommand({ UserPoolId: identity.userPoolId, Username: email }));
    cognito.destroy();
    const shopper = await signIn(runtime.emulator, identity.userPoolClientId, email, 'Shopper-Passw0rd!');

    const profile = await call('POST', '/users/profiles', shopper, { email, displayName: 'Shopper' });
    expect(profile.status).toBe(201);
    expect((await itemsOf('users')).some((i) => i.email?.S === email)).toBe(true);
    expect((await call('PUT', '/inventory/inventory/SKU-E2E-1', admin, { available: 3 })).status).toBe(200);

    const placed = await call(
      'POST',
      '/orders/orders',
      shopper,
      { lines: [{ sku: 'SKU-E2E-1', quantity: 2 }] },
      {
        'idempotency-key': `e2e-${randomUUID()}`,
        'x-correlation-id': 'e2e-happy-path',
      },
    );
    expect(placed.status).toBe(201);
    expect(placed.body.status).toBe('PENDING');

    const order = await eventually(
      () => call('GET', `/orders/orders/${placed.body.id}`, shopper),
      (r) => r.body?.status !== 'PENDING',
    );
    expect(order.body.status).toBe('CONFIRMED');
    const stock = await call('GET', '/inventory/inventory/SKU-E2E-1', shopper);
    expect(stock.body).toMatchObject({ available: 1, reserved: 2 });
    expect(lines.some((l) => l.includes('e2e-happy-path') && l.includes('inventory'))).toBe(true);
  }, 60_000);

  it('rejects an order for more than is in stock, and reserves nothing', async () => {
    expect((await call('PUT', '/inventory/inventory/SKU-E2E-2', admin, { available: 1 })).status).toBe(200);
    const placed = await call('POST', '/orders/orders', customer, {
      lines: [{ sku: 'SKU-E2E-2', quantity: 5 }],
    });
    expect(placed.status).toBe(201);
    const order = await eventually(
      () => call('GET', `/orders/orders/${placed.body.id}`, customer),
      (r) => r.body?.status !== 'PENDING',
    );
    expect(order.body).toMatchObject({ status: 'REJECTED', rejectionReason: 'INSUFFICIENT_STOCK' });
    expect((await call('GET', '/inventory/inventory/SKU-E2E-2', customer)).body).toMatchObject({
      available: 1,
      reserved: 0,
    });
  }, 60_000);

  it("enforces the orders service's maxLinesPerOrder setting (local: 10), served from AppConfig", async () => {
    // The limit is the environment's configuration (lib/config/environments.ts → the settings profile the
    // template deploys), read by POST /orders through kit/config from the runtime's AppConfig Data.
    const line = (i: number) => ({ sku: `SKU-E2E-L${i}`, quantity: 1 });
    const before = (await itemsOf('orders')).length;
    const eleven = await call('POST', '/orders/orders', customer, {
      lines: Array.from({ length: 11 }, (_, i) => line(i)),
    });
    expect(eleven.status).toBe(422);
    expect(eleven.body.error).toMatchObject({
      code: 'TOO_MANY_ORDER_LINES',
      message: 'An order may have at most 10 lines; this one has 11',
    });
    expect((await itemsOf('orders')).length).toBe(before);
    const ten = await call('POST', '/orders/orders', customer, {
      lines: Array.from({ length: 10 }, (_, i) => line(i)),
    });
    expect(ten.status).toBe(201);
    expect(
      lines.some((l) => l.includes('AppConfig Data served by the runtime') && l.includes('/settings')),
    ).toBe(true);
    expect(lines.filter((l) => l.includes('[appconfig]') || /DENIED.*appconfig/.test(l))).toEqual([]);
  }, 60_000);

  it('compensates: cancelling a confirmed order releases its reserved stock', async () => {
    expect((await call('PUT', '/inventory/inventory/SKU-E2E-5', admin, { available: 4 })).status).toBe(200);
    const placed = await call('POST', '/orders/orders', customer, {
      lines: [{ sku: 'SKU-E2E-5', quantity: 3 }],
    });
    const confirmed = await eventually(
      () => call('GET', `/orders/orders/${placed.body.id}`, customer),
      (r) => r.body?.status !== 'PENDING',
    );
    expect(confirmed.body.status).toBe('CONFIRMED');
    expect((await call('GET', '/inventory/inventory/SKU-E2E-5', customer)).body).toMatchObject({
      available: 1,
      reserved: 3,
    });

    const cancelled = await call('POST', `/orders/orders/${placed.body.id}/cancel`, customer);
    expect(cancelled).toMatchObject({ status: 200, body: { status: 'CANCELLED' } });
    const released = await eventually(
      () => call('GET', '/inventory/inventory/SKU-E2E-5', customer),
      (r) => r.body?.reserved === 0,
    );
    expect(released.body).toMatchObject({ available: 4, reserved: 0 });
    const reservation = (await itemsOf('inventory')).find((i) => i.pk?.S === `RESERVATION#${placed.body.id}`);
    expect(reservation?.status?.S).toBe('RELEASED');
    expect(
      (await itemsOf('inventory')).some(
        (i) =>
          i.eventType?.S === 'StockReleased' &&
          JSON.stringify(decodeOutboxData(i.data?.S ?? 'null')).includes(placed.body.id),
      ),
    ).toBe(true);
    // A cancelled order cannot be cancelled again.
    expect((await call('POST', `/orders/orders/${placed.body.id}/cancel`, customer)).status).toBe(409);
  }, 60_000);

  it('gives a duplicated event one effect', async () => {
    expect((await call('PUT', '/inventory/inventory/SKU-E2E-3', admin, { available: 10 })).status).toBe(200);
    const orderId = randomUUID();
    const envelope = {
      id: `dup-${orderId}`,
      type: 'OrderPlaced',
      version: '1',
      source: 'shop.orders',
      occurredAt: new Date().toISOString(),
      correlationId: 'e2e-duplicate',
      data: JSON.stringify({ orderId, customerId: 'someone', lines: [{ sku: 'SKU-E2E-3', quantity: 4 }] }),
    };
    const events = new EventBridgeClient({
      endpoint: runtime.emulator.endpoint,
      region: runtime.emulator.region,
      credentials: runtime.emulator,
    });
    const bus = runtime.system.pipes[0].eventBusName;
    for (let i = 0; i < 2; i++) {
      await events.send(
        new PutEventsCommand({
          Entries: [
            {
              EventBusName: bus,
              Source: 'shop.orders',
              DetailType: 'OrderPlaced',
              Detail: JSON.stringify(envelope),
            },
          ],
        }),
      );
    }
    events.destroy();
    const stock = await eventually(
      () => call('GET', '/inventory/inventory/SKU-E2E-3', admin),
      (r) => r.body?.reserved === 4,
    );
    await new Promise((resolve) => setTimeout(resolve, 3000)); // give the duplicate time to (not) act
    expect((await call('GET', '/inventory/inventory/SKU-E2E-3', admin)).body).toMatchObject({
      available: 6,
      reserved: 4,
    });
    expect(stock.body.reserved).toBe(4);
  }, 60_000);

  it('parks a poison message in the dead-letter queue and loses nothing else', async () => {
    const mapping = runtime.system.queueMappings.find((m) =>
      runtime.system.functions.get(m.functionKey)?.description.includes('OrderPlaced'),
    )!;
    const sqs = new SQSClient({
      endpoint: runtime.emulator.endpoint,
      region: runtime.emulator.region,
      credentials: runtime.emulator,
    });
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: mapping.queueUrl, AttributeNames: ['RedrivePolicy'] }),
    );
    const dlqArn = JSON.parse(Attributes!.RedrivePolicy!).deadLetterTargetArn as string;
    const dlqUrl = `${runtime.emulator.endpoint}/123456789012/${dlqArn.split(':').pop()}`;
    await sqs.send(
      new SendMessageCommand({ QueueUrl: mapping.queueUrl, MessageBody: '{"this is": "not an event"' }),
    );

    expect((await call('PUT', '/inventory/inventory/SKU-E2E-4', admin, { available: 2 })).status).toBe(200);
    const placed = await call('POST', '/orders/orders', customer, {
      lines: [{ sku: 'SKU-E2E-4', quantity: 1 }],
    });
    const order = await eventually(
      () => call('GET', `/orders/orders/${placed.body.id}`, customer),
      (r) => r.body?.status !== 'PENDING',
    );
    expect(order.body.status).toBe('CONFIRMED');

    const parked = await eventually(
      async () => {
        const { Attributes: a } = await sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl: dlqUrl,
            AttributeNames: ['ApproximateNumberOfMessages'],
          }),
        );
        return Number(a?.ApproximateNumberOfMessages ?? 0);
      },
      (n) => n >= 1,
      45_000,
    );
    sqs.destroy();
    expect(parked).toBe(1);
  }, 90_000);

  it('enforces IAM: every call of the system was allowed; one outside a function grant is refused as AWS would', async () => {
    const enforcement = runtime.enforcement!;
    expect(enforcement).toBeDefined();
    expect(enforcement.interactions.length).toBeGreaterThan(20);
    expect(lines.filter((line) => line.includes('[iam] DENIED'))).toEqual([]);
    // Every AWS call the handlers made was mapped to actions and resources and evaluated (none forwarded unchecked).
    expect(lines.filter((line) => line.includes('[iam] note:'))).toEqual([]);

    // The users health function has no access to the orders table: with its own credentials, through the
    // authorizing proxy, a write is refused with DynamoDB's AccessDeniedException and the log names the gap.
    const health = [...runtime.system.functions.values()].find(
      (f) => f.description === 'users: GET /health',
    )!;
    const ddb = new DynamoDBClient({
      endpoint: enforcement.endpoint,
      region: runtime.emulator.region,
      credentials: enforcement.credentialsOf(health),
      maxAttempts: 1,
    });
    try {
      await expect(
        ddb.send(
          new PutItemCommand({
            TableName: tableNamed('orders'),
            Item: { pk: { S: 'intruder' }, sk: { S: 'x' } },
          }),
        ),
      ).rejects.toMatchObject({
        name: 'AccessDeniedException',
        message: expect.stringContaining(
          `assumed-role/${health.roleArn!.split('/').pop()}/${health.name} is not authorized to perform: dynamodb:PutItem`,
        ),
      });
    } finally {
      ddb.destroy();
    }
    expect(lines.filter((line) => line.includes('[iam] DENIED'))).toEqual([
      expect.stringMatching(
        new RegExp(
          `\\[iam\\] DENIED .*dynamodb:PutItem on .*${tableNamed('orders')}.*no statement in the policies of role .*\\[function ${health.key}\\]$`,
        ),
      ),
    ]);
    expect((await itemsOf('orders')).some((i) => i.pk?.S === 'intruder')).toBe(false);
  });
});
