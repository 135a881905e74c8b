import { execFile } from 'node:child_process';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import {
  CognitoIdentityProviderClient,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { SmokeTestClients } from '../../scripts/smoke-test';
import {
  apiEndpoint,
  createSmokeTestUser,
  main,
  runSmokeTest,
  smokeTestSecretName,
} from '../../scripts/smoke-test';
import { ROOT } from '../helpers';
import type { Moto } from '../support/moto';
import { startMoto } from '../support/moto';

// The pipeline's smoke test (scripts/smoke-test.ts) against moto (registry, secret, a Cognito user pool) and a
// local HTTP server standing in for the deployed APIs, whose behaviour each test can break.

const REGION = 'us-east-1';
const CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };
const USER = 'smoke-test@example.com';

let moto: Moto;
let clients: SmokeTestClients;
let server: Server;
let baseUrl: string;
let userPoolId: string;

/** What the stand-in APIs do; tests change it and `beforeEach` restores it. */
const behaviour = {
  ordersHealthStatus: 200,
  /** When set, GET /profiles/me answers this display name whatever was written. */
  staleDisplayName: undefined as string | undefined,
};
/** Profiles by the access token's subject, and every request seen (`METHOD /path`). */
const profiles = new Map<string, { email: string; displayName: string }>();
const seen: string[] = [];

function subjectOf(request: IncomingMessage): string | undefined {
  const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
  if (!token) return undefined;
  const payload = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as {
    sub?: string;
    token_use?: string;
  };
  return payload.token_use === 'access' ? payload.sub : undefined;
}

async function serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
  let body = '';
  for await (const chunk of request) body += String(chunk);
  const url = request.url ?? '';
  seen.push(`${request.method} ${url}`);
  const reply = (status: number, value?: unknown) => {
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(value === undefined ? '' : JSON.stringify(value));
  };
  if (request.method === 'GET' && url === '/users/health')
    return reply(200, { status: 'ok', service: 'users' });
  const subject = subjectOf(request);
  if (!subject) return reply(401, { error: { code: 'UNAUTHORIZED', message: 'Unauthorized' } });
  // orders and inventory have no public health route: the smoke test reads as the signed-in user instead.
  if (request.method === 'GET' && url === '/orders/orders?customerId=me') {
    return behaviour.ordersHealthStatus === 200
      ? reply(200, { items: [] })
      : reply(behaviour.ordersHealthStatus, { message: 'Internal server error' });
  }
  if (request.method === 'GET' && url === '/inventory/inventory/SKU-SMOKE-TEST') {
    return reply(404, { error: { code: 'SKU_NOT_FOUND', message: 'No stock record for SKU-SMOKE-TEST' } });
  }
  if (!url.startsWith('/users/profiles')) return reply(404, { error: { code: 'NOT_FOUND' } });
  const profile = profiles.get(subject);
  if (request.method === 'POST' && url === '/users/profiles') {
    if (profile) return reply(409, { error: { code: 'PROFILE_EXISTS' } });
    const input = JSON.parse(body) as { email: string; displayName: string };
    profiles.set(subject, { email: input.email.toLowerCase(), displayName: input.displayName });
    return reply(201, { id: subject, ...profiles.get(subject) });
  }
  if (url !== '/users/profiles/me') return reply(404, { error: { code: 'NOT_FOUND' } });
  if (!profile) return reply(404, { error: { code: 'PROFILE_NOT_FOUND' } });
  if (request.method === 'PUT') {
    profile.displayName = (JSON.parse(body) as { displayName: string }).displayName;
    return reply(200, { id: subject, ...profile });
  }
  return reply(200, {
    id: subject,
    ...profile,
    displayName: behaviour.staleDisplayName ?? profile.displayName,
  });
}

async function put(name: string, value: string): Promise<void> {
  await clients.ssm.send(
    new PutParameterCommand({ Name: name, Value: value, Type: 'String', Overwrite: true }),
  );
}

beforeAll(async () => {
  moto = await startMoto();
  const config = { endpoint: moto.endpoint, region: REGION, credentials: CREDENTIALS };
  clients = {
    ssm: new SSMClient(config),
    secrets: new SecretsManagerClient(config),
    cognito: new CognitoIdentityProviderClient(config),
  };
  server = createServer((request, response) => {
    serve(request, response).catch(() => response.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  // The registry and user pool of an environment `Shop/test`, as the platform and two services publish them.
  const pool = await clients.cognito.send(
    new CreateUserPoolCommand({ PoolName: 'Shop-test', UsernameAttributes: ['email'] }),
  );
  userPoolId = pool.UserPool!.Id!;
  const client = await clients.cognito.send(
    new CreateUserPoolClientCommand({
      UserPoolId: userPoolId,
      ClientName: 'shop',
      ExplicitAuthFlows: ['ALLOW_USER_SRP_AUTH', 'ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
    }),
  );
  await put('/Shop/test/platform/user-pool-id', userPoolId);
  await put('/Shop/test/platform/user-pool-client-id', client.UserPoolClient!.ClientId!);
  await put('/Shop/test/users/api-url', `${baseUrl}/users/`);
  await put('/Shop/test/users/function/get-health', 'Shop-test-users-health');
  await put('/Shop/test/orders/api-url', `${baseUrl}/orders/`);
  await put('/Shop/test/inventory/api-url', `${baseUrl}/inventory`);
  await clients.secrets.send(
    new CreateSecretCommand({
      Name: smokeTestSecretName('Shop', 'test'),
      SecretString: JSON.stringify({ username: USER, password: 'Smoke-Test-Passw0rd-1!' }),
    }),
  );
}, 60_000);

afterAll(async () => {
  for (const client of Object.values(clients ?? {})) client.destroy();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await moto?.stop();
});

beforeEach(() => {
  behaviour.ordersHealthStatus = 200;
  behaviour.staleDisplayName = undefined;
  seen.length = 0;
});

const names = (report: { checks: ReadonlyArray<{ name: string; ok: boolean }> }) =>
  report.checks.map((c) => `${c.ok ? 'PASS' : 'FAIL'} ${c.name}`);

describe('the smoke test (scripts/smoke-test.ts)', () => {
  it('joins registry URLs with or without their trailing slash', () => {
    expect(apiEndpoint('https://a.execute-api.eu-west-1.amazonaws.com/v1/', 'health')).toBe(
      'https://a.execute-api.eu-west-1.amazonaws.com/v1/health',
    );
    expect(apiEndpoint('http://127.0.0.1:3000/users', '/profiles/me')).toBe(
      'http://127.0.0.1:3000/users/profiles/me',
    );
  });

  it('fails sign-in with the command that creates the user, before the user exists', async () => {
    const report = await runSmokeTest({ appName: 'Shop', envName: 'test', clients });
    expect(names(report)).toEqual([
      'PASS registry',
      'PASS users health',
      'FAIL sign in',
      'FAIL inventory health',
      'FAIL orders health',
    ]);
    expect(report.ok).toBe(false);
    expect(report.checks[3].detail).toBe('not checked: it needs the sign-in above');
    expect(report.checks[2].detail).toContain(`cannot sign in as ${USER}`);
    expect(report.checks[2].detail).toContain(
      'npx tsx scripts/smoke-test.ts --app Shop --env test --secret Shop/test/smoke-test-user --create-user',
    );
  });

  it("creates the user with the secret's password, then passes: health of every service and a round trip", async () => {
    expect(await createSmokeTestUser({ appName: 'Shop', envName: 'test', clients })).toBe(
      `${USER} is in user pool ${userPoolId} with the password of secret Shop/test/smoke-test-user`,
    );
    // Running it again (e.g. after the secret changed) is harmless.
    await createSmokeTestUser({ appName: 'Shop', envName: 'test', clients });

    const lines: string[] = [];
    const first = await runSmokeTest({
      appName: 'Shop',
      envName: 'test',
      clients,
      runId: 'run-1',
      log: (line) => lines.push(line),
    });
    expect(names(first)).toEqual([
      'PASS registry',
      'PASS users health',
      'PASS sign in',
      'PASS inventory health',
      'PASS orders health',
      'PASS users round trip',
    ]);
    expect(first.ok).toBe(true);
    expect(lines).toHaveLength(6);
    expect(lines[0]).toBe('PASS registry: services inventory, orders, users under /Shop/test/');
    expect(lines[1]).toMatch(new RegExp(`^PASS users health: GET ${baseUrl}/users/health 200 in \\d+ ms$`));
    expect(lines[3]).toMatch(
      new RegExp(
        `^PASS inventory health: GET ${baseUrl}/inventory/inventory/SKU-SMOKE-TEST 404 \\(as the smoke-test user\\) in \\d+ ms$`,
      ),
    );
    // First run: the profile is missing, so it is created, renamed and read back.
    expect(seen.filter((s) => s.includes('/profiles'))).toEqual([
      'GET /users/profiles/me',
      'POST /users/profiles',
      'PUT /users/profiles/me',
      'GET /users/profiles/me',
    ]);
    expect([...profiles.values()]).toEqual([{ email: USER, displayName: 'Smoke test run-1' }]);

    seen.length = 0;
    const second = await runSmokeTest({ appName: 'Shop', envName: 'test', clients, runId: 'run-2' });
    expect(second.ok).toBe(true);
    expect(seen.filter((s) => s.includes('/profiles'))).toEqual([
      'GET /users/profiles/me',
      'PUT /users/profiles/me',
      'GET /users/profiles/me',
    ]);
    expect([...profiles.values()]).toEqual([{ email: USER, displayName: 'Smoke test run-2' }]);
  });

  it('reports an unhealthy service with what it answered, and still runs the other checks', async () => {
    behaviour.ordersHealthStatus = 503;
    const report = await runSmokeTest({ appName: 'Shop', envName: 'test', clients, runId: 'run-3' });
    expect(names(report)).toEqual([
      'PASS registry',
      'PASS users health',
      'PASS sign in',
      'PASS inventory health',
      'FAIL orders health',
      'PASS users round trip',
    ]);
    expect(report.ok).toBe(false);
    expect(report.checks[4].detail).toBe(
      `GET ${baseUrl}/orders/orders?customerId=me: expected 200 {"items":[...]} from orders, got 503 {"message":"Internal server error"}`,
    );
  });

  it('fails the round trip when the read does not return what was written', async () => {
    behaviour.staleDisplayName = 'Smoke test an-older-run';
    const report = await runSmokeTest({ appName: 'Shop', envName: 'test', clients, runId: 'run-4' });
    expect(report.ok).toBe(false);
    const roundTrip = report.checks.find((c) => c.name === 'users round trip')!;
    expect(roundTrip.ok).toBe(false);
    expect(roundTrip.detail).toContain(
      `GET ${baseUrl}/users/profiles/me: expected 200 with displayName "Smoke test run-4"`,
    );
    expect(roundTrip.detail).toContain('"displayName":"Smoke test an-older-run"');
  });

  it('fails on an environment with no service in the registry, naming the path it read', async () => {
    const report = await runSmokeTest({ appName: 'Shop', envName: 'nowhere', clients });
    expect(names(report)).toEqual(['FAIL registry']);
    expect(report.checks[0].detail).toBe(
      'no service in the registry: no /Shop/nowhere/{service}/api-url parameter in this account and region. Is Shop nowhere deployed here?',
    );
  });

  it('fails when the secret is missing or not the expected JSON', async () => {
    await clients.secrets.send(
      new CreateSecretCommand({ Name: 'Shop/test/not-json', SecretString: 'hunter2' }),
    );
    const malformed = await runSmokeTest({
      appName: 'Shop',
      envName: 'test',
      clients,
      secretId: 'Shop/test/not-json',
    });
    expect(malformed.checks.find((c) => c.name === 'sign in')?.detail).toBe(
      'secret Shop/test/not-json is not a JSON object with string "username" and "password"',
    );
    const missing = await runSmokeTest({
      appName: 'Shop',
      envName: 'test',
      clients,
      secretId: 'Shop/test/absent',
    });
    expect(missing.checks.find((c) => c.name === 'sign in')?.detail).toMatch(
      /^cannot read the smoke-test user's secret Shop\/test\/absent \(ResourceNotFoundException: .*\): the pipeline stack creates it$/,
    );
  });

  it('exits 0 with a summary when every check passes, 1 with the failures on stderr, 2 on a bad option', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const run = (argv: string[]) =>
      main(
        argv,
        (line) => out.push(line),
        (line) => err.push(line),
        clients,
      );
    expect(await run(['--app', 'Shop', '--env', 'test'])).toBe(0);
    expect(out.at(-1)).toBe('Smoke test of Shop test passed: 6 checks');
    expect(err).toEqual([]);

    behaviour.ordersHealthStatus = 500;
    expect(await run(['--app', 'Shop', '--env', 'test'])).toBe(1);
    expect(err.join('\n')).toMatch(
      /^Smoke test of Shop test FAILED: 1 of 6 checks\n {2}orders health: GET http:\/\/127\.0\.0\.1:\d+\/orders\/orders\?customerId=me: expected 200/,
    );

    err.length = 0;
    expect(await run(['--ap', 'Shop'])).toBe(2);
    expect(err[0]).toContain("Unknown option '--ap'");
    expect(err[0]).toContain('usage: npx tsx scripts/smoke-test.ts');
    expect(await run(['--timeout', 'soon'])).toBe(2);
  });

  it('runs as a command with the SDK defaults (AWS_ENDPOINT_URL): exit 0 when healthy, 1 and a FAILED line when not', async () => {
    // Asynchronously: the stand-in APIs answer from this process.
    const command = (env: string) =>
      new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = execFile(
          process.execPath,
          ['--import', 'tsx', path.join('scripts', 'smoke-test.ts'), '--app', 'Shop', '--env', env],
          {
            cwd: ROOT,
            encoding: 'utf8',
            env: {
              PATH: process.env.PATH,
              AWS_ENDPOINT_URL: moto.endpoint,
              AWS_REGION: REGION,
              AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
              AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
              AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
            },
          },
          (_error, stdout, stderr) => resolve({ status: child.exitCode, stdout, stderr }),
        );
      });
    const passed = await command('test');
    expect({ status: passed.status, stderr: passed.stderr }).toEqual({ status: 0, stderr: '' });
    expect(passed.stdout).toContain(
      'PASS users round trip: profile of smoke-test@example.com written and read back',
    );
    expect(passed.stdout.trimEnd().split('\n').at(-1)).toBe('Smoke test of Shop test passed: 6 checks');

    const failed = await command('nowhere');
    expect(failed.status).toBe(1);
    expect(failed.stdout).toBe(
      'FAIL registry: no service in the registry: no /Shop/nowhere/{service}/api-url parameter in this account and region. Is Shop nowhere deployed here?\n',
    );
    expect(failed.stderr).toBe(
      'Smoke test of Shop nowhere FAILED: 1 of 1 checks\n  registry: no service in the registry: no /Shop/nowhere/{service}/api-url parameter in this account and region. Is Shop nowhere deployed here?\n',
    );
  });
});
