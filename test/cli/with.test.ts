import * as path from 'node:path';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import type { DevSession } from '../../local/cli/dev';
import { runDev } from '../../local/cli/dev';
import { tokenFor } from '../../local/cli/token';

// `cdk-microservices dev --with <checkout of this repository>` from a team's app (test/fixtures/cli-app): both apps
// in one emulator behind one gateway, the Shop's platform instead of a stand-in, the team's consumer receiving the
// Shop's real OrderPlaced events, and the team's route scope that the Shop's platform does not declare reported.

const ROOT = path.join(__dirname, '..', '..');
const TEAM_APP = path.join(ROOT, 'test', 'fixtures', 'cli-app');

let session: DevSession;
const lines: string[] = [];

beforeAll(async () => {
  session = await runDev({
    appDir: TEAM_APP,
    withApps: [ROOT],
    port: 0,
    watch: false,
    print: (line) => lines.push(line),
  });
}, 400_000);

afterAll(async () => {
  await session?.stop();
}, 60_000);

async function call(method: string, route: string, token: string, body?: unknown) {
  const response = await fetch(`${session.runtime.apiUrl}${route}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

it("serves both apps' services on one gateway with the Shop's platform (no stand-in), the platform provisioned first", () => {
  const runtime = session.runtime;
  expect(runtime.standIns).toEqual([]);
  expect(runtime.apps.map((app) => app.dir)).toEqual([ROOT, TEAM_APP]);
  const services = new Set(runtime.system.routes.map((r) => r.service));
  expect([...services].sort()).toEqual(['inventory', 'orders', 'payments', 'users']);
});

it("reports the team's route scope that the Shop's platform does not declare", async () => {
  expect(session.runtime.problems).toEqual(
    expect.arrayContaining([
      expect.stringMatching(
        /^Payments-local: GET \/payments\/\{id\} requires the scope "payments\.read", which the platform Shop\/local does not declare/,
      ),
    ]),
  );
  const token = await tokenFor('demo@example.com', TEAM_APP);
  expect((await call('GET', '/payments/payments/received', token)).status).toBe(403);
});

it("delivers the Shop's real OrderPlaced events to the team's consumer", async () => {
  const token = await tokenFor('demo@example.com', TEAM_APP);
  const profile = await call('POST', '/users/profiles', token, {
    email: 'demo@example.com',
    displayName: 'Demo',
  });
  expect(profile.status).toBe(201);
  const order = await call('POST', '/orders/orders', token, { lines: [{ sku: 'SKU-WITH-1', quantity: 1 }] });
  expect(order.status).toBe(201);

  const { emulator } = session.runtime;
  const tableName = [...session.runtime.system.functions.values()].find(
    (fn) => fn.stackName.startsWith('Payments-') && fn.environment.TABLE_NAME,
  )?.environment.TABLE_NAME;
  expect(tableName).toBeDefined();
  const dynamo = new DynamoDBClient({
    endpoint: emulator.endpoint,
    region: emulator.region,
    credentials: { accessKeyId: emulator.accessKeyId, secretAccessKey: emulator.secretAccessKey },
  });
  try {
    const deadline = Date.now() + 60_000;
    let received: Array<Record<string, { S?: string }>> = [];
    while (Date.now() < deadline) {
      const { Items = [] } = await dynamo.send(new ScanCommand({ TableName: tableName! }));
      received = Items.filter((item) => item.pk?.S?.startsWith('event#'));
      if (received.length > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(received.map((item) => [item.type?.S, item.source?.S])).toEqual([['OrderPlaced', 'shop.orders']]);
  } finally {
    dynamo.destroy();
  }
}, 120_000);
