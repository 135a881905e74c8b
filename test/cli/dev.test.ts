import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DynamoDBClient, PutItemCommand, GetItemCommand } from '@aws-sdk/client-dynamodb';
import type { DevSession } from '../../local/cli/dev';
import { runDev } from '../../local/cli/dev';
import { tokenFor } from '../../local/cli/token';

// `cdk-microservices dev` on a team's small app attached to the Shop platform by name: the app synthesized by its
// own cdk.json app command, a stand-in platform with the scopes its routes use, an authenticated round trip, and
// an edit of its infrastructure code applied in place (new route served, table data kept).

const ROOT = path.join(__dirname, '..', '..');

/** Writes the team's app: cdk.json, bin/app.ts (routes given), handlers/echo.ts. */
function writeApp(dir: string, routes: string): void {
  fs.mkdirSync(path.join(dir, 'bin'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'handlers'), { recursive: true });
  // The app's dependencies are this repository's (aws-cdk-lib, tsx): linked, as an install would provide them.
  if (!fs.existsSync(path.join(dir, 'node_modules'))) {
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  }
  // `npx tsx` is run as node_modules/.bin/tsx (what the cdk CLI would run, without npx's start-up).
  fs.writeFileSync(path.join(dir, 'cdk.json'), JSON.stringify({ app: 'npx tsx bin/app.ts', context: {} }));
  fs.writeFileSync(
    path.join(dir, 'handlers', 'echo.ts'),
    `export async function handler(event: { httpMethod: string; pathParameters?: Record<string, string>; requestContext: { authorizer?: { claims?: Record<string, unknown> } } }) {
  return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ method: event.httpMethod, id: event.pathParameters?.id ?? null, scope: event.requestContext.authorizer?.claims?.scope ?? null }) };
}
`,
  );
  writeAppEntry(dir, routes);
}

/** Writes the app's infrastructure code (bin/app.ts) with these routes. */
function writeAppEntry(dir: string, routes: string): void {
  fs.writeFileSync(
    path.join(dir, 'bin', 'app.ts'),
    `import * as path from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { AccessMode, DataProtection, HttpMethod, Microservice, PlatformReference, RouteAccess } from ${JSON.stringify(path.join(ROOT, 'lib', 'index'))};

const app = new App();
const envName = String(app.node.tryGetContext('env') ?? 'dev');
const stack = new Stack(app, 'Payments-' + envName);
const platform = PlatformReference.fromRegistry(stack, 'Platform', { appName: 'Shop', envName });
const entry = path.join(__dirname, '..', 'handlers', 'echo.ts');
new Microservice(stack, 'Payments', {
  serviceName: 'payments',
  platform,
  partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
  dataProtection: DataProtection.DESTROY,
  timeout: Duration.seconds(5),
  routes: [${routes}],
});
`,
  );
}

const GET_ROUTE = `{ method: HttpMethod.GET, path: '/payments/{id}', entry, access: RouteAccess.scopes('payments.read'), tableAccess: AccessMode.READ }`;
const POST_ROUTE = `{ method: HttpMethod.POST, path: '/payments', entry, access: RouteAccess.scopes('payments.write'), tableAccess: AccessMode.READ_WRITE }`;

let dir: string;
let session: DevSession;
const lines: string[] = [];

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-app-'));
  writeApp(dir, GET_ROUTE);
  session = await runDev({ appDir: dir, port: 0, watch: true, print: (line) => lines.push(line) });
}, 300_000);

afterAll(async () => {
  if (process.env.CLI_TEST_LOG) fs.writeFileSync(process.env.CLI_TEST_LOG, lines.join('\n'));
  await session?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
}, 60_000);

async function get(url: string, token?: string) {
  const response = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

it('provisions a stand-in platform with the scopes of the routes, and says so', () => {
  expect(session.runtime.standIns.map((s) => [s.appName, s.envName, s.scopes])).toEqual([
    ['Shop', 'local', ['payments.read']],
  ]);
  expect(lines.join('\n')).toMatch(
    /No platform in this app: a stand-in platform for Shop\/local was provisioned with scopes payments\.read/,
  );
  expect(lines.join('\n')).toMatch(
    /GET +http:\/\/127\.0\.0\.1:\d+\/payments\/payments\/\{id\} +token with api\/payments\.read/,
  );
  expect(lines.join('\n')).toContain('TOKEN=$(npx cdk-microservices token demo@example.com)');
});

it('serves an authenticated round trip with a demo user token from `token`', async () => {
  const token = await tokenFor('demo@example.com', dir);
  const ok = await get(`${session.runtime.apiUrl}/payments/payments/p-1`, token);
  expect(ok).toEqual({
    status: 200,
    body: { method: 'GET', id: 'p-1', scope: expect.stringContaining('api/payments.read') },
  });
  const anonymous = await get(`${session.runtime.apiUrl}/payments/payments/p-1`);
  expect(anonymous.status).toBe(401);
}, 60_000);

it('applies an edit of the infrastructure code as it is saved: the new route is served, table data is kept', async () => {
  const runtime = session.runtime;
  const tableName = [...runtime.system.functions.values()].find((fn) => fn.environment.TABLE_NAME)
    ?.environment.TABLE_NAME;
  expect(tableName).toBeDefined();
  const dynamo = new DynamoDBClient({
    endpoint: runtime.emulator.endpoint,
    region: runtime.emulator.region,
    credentials: {
      accessKeyId: runtime.emulator.accessKeyId,
      secretAccessKey: runtime.emulator.secretAccessKey,
    },
  });
  try {
    await dynamo.send(new PutItemCommand({ TableName: tableName!, Item: { pk: { S: 'kept' } } }));
    const before = runtime.apiUrl;
    writeAppEntry(dir, `${GET_ROUTE}, ${POST_ROUTE}`);
    const deadline = Date.now() + 200_000;
    while (
      !lines.some((l) => /^\[reload\] (Applied|Could not|Synth failed)/.test(l)) &&
      Date.now() < deadline
    ) {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const reloadLines = lines.filter((l) => l.startsWith('[reload]'));
    expect(reloadLines[0]).toMatch(/^\[reload\] Infrastructure changed \(.*bin\/app\.ts\): re-synthesizing/);
    expect(reloadLines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\[reload\] Applied in [\d.]+ s \(table data kept\):$/),
        '[reload]   + route POST /payments/payments',
      ]),
    );
    expect(runtime.apiUrl).toBe(before);
    const token = await tokenFor('demo@example.com', dir);
    const posted = await fetch(`${runtime.apiUrl}/payments/payments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(posted.status).toBe(200);
    const kept = await dynamo.send(new GetItemCommand({ TableName: tableName!, Key: { pk: { S: 'kept' } } }));
    expect(kept.Item?.pk?.S).toBe('kept');
  } finally {
    dynamo.destroy();
  }
}, 240_000);
