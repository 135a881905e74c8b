/**
 * The smoke test the pipeline runs after deploying `dev` (and anyone can run against a deployed environment):
 *
 * ```bash
 * npx tsx scripts/smoke-test.ts --app Shop --env dev                 # the checks; exit 1 and a FAIL line on failure
 * npx tsx scripts/smoke-test.ts --app Shop --env dev --create-user   # once, by an operator: the smoke-test user
 * ```
 *
 * It finds everything through the service registry (SSM parameters under `/{app}/{env}/`): every service's
 * `api-url`, and the platform's user pool client. It checks the health of every service (`GET {api-url}health`,
 * or a read-only call as the smoke-test user for a service without that route: {@link HEALTH_PROBES}), signs in
 * to the environment's real Cognito user pool as a dedicated smoke-test user (USER_PASSWORD_AUTH, which `dev`
 * allows) whose username and password are the JSON secret `{app}/{env}/smoke-test-user` in Secrets Manager (the
 * pipeline stack creates it with a generated password), and makes one authenticated round trip through the
 * users service: its own profile is read (created when missing), renamed to this run's id, and read back.
 *
 * Region and credentials are the AWS SDK's defaults (`AWS_REGION`, the CodeBuild role); `AWS_ENDPOINT_URL`
 * points every client at an emulator.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import {
  AdminCreateUserCommand,
  AdminSetUserPasswordCommand,
  CognitoIdentityProviderClient,
  InitiateAuthCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetParametersByPathCommand, SSMClient } from '@aws-sdk/client-ssm';

/** The service whose API the authenticated round trip goes through (its own profile: `/profiles/me`). */
export const ROUND_TRIP_SERVICE = 'users';

/** The registry entry of a service's API base URL. */
const API_URL_KEY = 'api-url';

/** The secret holding the smoke-test user's `{ "username", "password" }`, unless `--secret` names another. */
export function smokeTestSecretName(appName: string, envName: string): string {
  return `${appName}/${envName}/smoke-test-user`;
}

/** The AWS clients the smoke test uses. */
export interface SmokeTestClients {
  readonly ssm: SSMClient;
  readonly secrets: SecretsManagerClient;
  readonly cognito: CognitoIdentityProviderClient;
}

/** What to test. */
export interface SmokeTestOptions {
  readonly appName: string;
  readonly envName: string;
  /**
   * The secret with the smoke-test user's credentials.
   * @default - `{app}/{env}/smoke-test-user`
   */
  readonly secretId?: string;
  readonly clients: SmokeTestClients;
  /**
   * Timeout of each HTTP request, in milliseconds.
   * @default 10000
   */
  readonly timeoutMs?: number;
  /**
   * Written into the profile by the round trip, and expected back.
   * @default - a random UUID
   */
  readonly runId?: string;
  /**
   * Called with each check's result line as it completes.
   * @default - nothing
   */
  readonly log?: (line: string) => void;
}

/** One check and its outcome. */
export interface SmokeCheck {
  readonly name: string;
  readonly ok: boolean;
  /** What was seen (status, time), or why it failed and what to do. */
  readonly detail: string;
}

/** Every check that ran; `ok` only when all passed. */
export interface SmokeTestReport {
  readonly ok: boolean;
  readonly checks: readonly SmokeCheck[];
}

/** A failed step, with a message that says what was expected, what was seen and what to do. */
export class SmokeTestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SmokeTestError';
  }
}

/** What the registry holds for one environment. */
export interface RegistryEntries {
  /** `api-url` of every service, by service name. */
  readonly apis: Readonly<Record<string, string>>;
  /** The platform's entries (`user-pool-id`, `user-pool-client-id`, ...), by key. */
  readonly platform: Readonly<Record<string, string>>;
}

/** Reads the registry of `/{app}/{env}/`: every service's API URL and the platform's entries. */
export async function readRegistry(
  ssm: SSMClient,
  appName: string,
  envName: string,
): Promise<RegistryEntries> {
  const prefix = `/${appName}/${envName}/`;
  const apis: Record<string, string> = {};
  const platform: Record<string, string> = {};
  let nextToken: string | undefined;
  try {
    do {
      const page = await ssm.send(
        new GetParametersByPathCommand({ Path: prefix, Recursive: true, NextToken: nextToken }),
      );
      for (const parameter of page.Parameters ?? []) {
        const [service, ...key] = (parameter.Name ?? '').slice(prefix.length).split('/');
        const value = parameter.Value ?? '';
        if (service === 'platform' && key.length === 1) platform[key[0]] = value;
        else if (key.length === 1 && key[0] === API_URL_KEY) apis[service] = value;
      }
      nextToken = page.NextToken;
    } while (nextToken);
  } catch (error) {
    throw new SmokeTestError(
      `cannot read the registry under ${prefix} (${describe(error)}): the caller needs ssm:GetParametersByPath on it`,
    );
  }
  if (Object.keys(apis).length === 0) {
    throw new SmokeTestError(
      `no service in the registry: no ${prefix}{service}/${API_URL_KEY} parameter in this account and region. ` +
        `Is ${appName} ${envName} deployed here?`,
    );
  }
  return { apis, platform };
}

/** The smoke-test user's credentials, from a JSON secret `{ "username": ..., "password": ... }`. */
export async function readCredentials(
  secrets: SecretsManagerClient,
  secretId: string,
): Promise<{ username: string; password: string }> {
  let text: string | undefined;
  try {
    text = (await secrets.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString;
  } catch (error) {
    throw new SmokeTestError(
      `cannot read the smoke-test user's secret ${secretId} (${describe(error)}): the pipeline stack creates it`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text ?? '');
  } catch {
    value = undefined;
  }
  const { username, password } = (value ?? {}) as { username?: unknown; password?: unknown };
  if (typeof username !== 'string' || typeof password !== 'string' || !username || !password) {
    throw new SmokeTestError(`secret ${secretId} is not a JSON object with string "username" and "password"`);
  }
  return { username, password };
}

/** Signs in to the user pool through its public client (USER_PASSWORD_AUTH) and returns the access token. */
export async function signIn(
  cognito: CognitoIdentityProviderClient,
  clientId: string,
  credentials: { username: string; password: string },
  createUserHint: string,
): Promise<string> {
  let result;
  try {
    result = await cognito.send(
      new InitiateAuthCommand({
        ClientId: clientId,
        AuthFlow: 'USER_PASSWORD_AUTH',
        AuthParameters: { USERNAME: credentials.username, PASSWORD: credentials.password },
      }),
    );
  } catch (error) {
    const name = (error as { name?: string }).name;
    const hint =
      name === 'UserNotFoundException' || name === 'NotAuthorizedException'
        ? `: create the user, or reset its password to the secret's, once with \`${createUserHint}\``
        : name === 'InvalidParameterException'
          ? ': the environment must allow password sign-in (allowPasswordAuth in lib/config/environments.ts)'
          : '';
    throw new SmokeTestError(`cannot sign in as ${credentials.username} (${describe(error)})${hint}`);
  }
  const token = result.AuthenticationResult?.AccessToken;
  if (!token) {
    throw new SmokeTestError(
      `signing in as ${credentials.username} returned no access token (challenge ${result.ChallengeName ?? 'none'}): ` +
        `its password must be permanent and it must need no MFA; \`${createUserHint}\` sets it so`,
    );
  }
  return token;
}

/** An HTTP exchange's status and parsed JSON body (undefined when the body is not JSON). */
interface Exchange {
  readonly status: number;
  readonly body: unknown;
}

async function request(
  method: string,
  url: string,
  timeoutMs: number,
  token?: string,
  body?: unknown,
): Promise<Exchange> {
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new SmokeTestError(`${method} ${url}: no response (${describe(error)})`);
  }
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: response.status, body: parsed ?? (text ? text.slice(0, 200) : undefined) };
}

/** `base` (a registry `api-url`, with or without its trailing slash) joined with `path`. */
export function apiEndpoint(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}

function unexpected(method: string, url: string, expected: string, seen: Exchange): SmokeTestError {
  return new SmokeTestError(
    `${method} ${url}: expected ${expected}, got ${seen.status} ${JSON.stringify(seen.body) ?? '(no body)'}`,
  );
}

/** How a service's health is checked: one read-only GET below its `api-url`. */
export interface HealthProbe {
  /** Path below the service's `api-url`. */
  readonly path: string;
  /** Whether the call carries the smoke-test user's access token (checked after signing in). */
  readonly authenticated: boolean;
  /** What a healthy answer is, for messages. */
  readonly expectation: string;
  /** Whether `status` and `body` are a healthy answer. */
  readonly healthy: (status: number, body: unknown) => boolean;
}

/** The public liveness route every service should have: `GET /health` answering `{"status":"ok"}`. */
export const PUBLIC_HEALTH: HealthProbe = {
  path: 'health',
  authenticated: false,
  expectation: '200 {"status":"ok"}',
  healthy: (status, body) => status === 200 && (body as { status?: unknown } | undefined)?.status === 'ok',
};

const errorCode = (body: unknown) => (body as { error?: { code?: unknown } } | undefined)?.error?.code;

/**
 * Services of the reference system without a public health route, checked instead with a read that runs their
 * function and reads their table as the smoke-test user: orders lists the user's orders, inventory reads a SKU
 * that does not exist (its own `SKU_NOT_FOUND`, not the gateway's, proves the function answered). Every other
 * service gets {@link PUBLIC_HEALTH}.
 */
export const HEALTH_PROBES: Readonly<Record<string, HealthProbe>> = {
  orders: {
    path: 'orders?customerId=me',
    authenticated: true,
    expectation: '200 {"items":[...]}',
    healthy: (status, body) =>
      status === 200 && Array.isArray((body as { items?: unknown } | undefined)?.items),
  },
  inventory: {
    path: 'inventory/SKU-SMOKE-TEST',
    authenticated: true,
    expectation: '200, or 404 {"error":{"code":"SKU_NOT_FOUND"}} from the inventory function',
    healthy: (status, body) => status === 200 || (status === 404 && errorCode(body) === 'SKU_NOT_FOUND'),
  },
};

/** The probe of `service`. */
export function healthProbeOf(service: string): HealthProbe {
  return HEALTH_PROBES[service] ?? PUBLIC_HEALTH;
}

/** Runs `probe` against `apiUrl` (with `token` when it is authenticated); throws unless the answer is healthy. */
export async function checkHealth(
  service: string,
  apiUrl: string,
  probe: HealthProbe,
  timeoutMs: number,
  token?: string,
): Promise<string> {
  const url = apiEndpoint(apiUrl, probe.path);
  const started = Date.now();
  const seen = await request('GET', url, timeoutMs, probe.authenticated ? token : undefined);
  if (!probe.healthy(seen.status, seen.body)) {
    throw unexpected('GET', url, `${probe.expectation} from ${service}`, seen);
  }
  const as = probe.authenticated ? ' (as the smoke-test user)' : '';
  return `GET ${url} ${seen.status}${as} in ${Date.now() - started} ms`;
}

/**
 * One authenticated round trip through the users service: the caller's profile is read (created when missing),
 * its display name set to `Smoke test {runId}`, and read back with that name and the caller's e-mail.
 */
export async function roundTrip(
  usersUrl: string,
  token: string,
  email: string,
  runId: string,
  timeoutMs: number,
): Promise<string> {
  const me = apiEndpoint(usersUrl, 'profiles/me');
  const started = Date.now();
  const first = await request('GET', me, timeoutMs, token);
  if (first.status === 404) {
    const url = apiEndpoint(usersUrl, 'profiles');
    const created = await request('POST', url, timeoutMs, token, { email, displayName: 'Smoke test' });
    if (created.status !== 201) throw unexpected('POST', url, '201 (profile created)', created);
  } else if (first.status !== 200) {
    throw unexpected('GET', me, '200 (or 404 before the first run)', first);
  }
  const displayName = `Smoke test ${runId}`;
  const updated = await request('PUT', me, timeoutMs, token, { displayName });
  if (updated.status !== 200) throw unexpected('PUT', me, '200 (profile renamed)', updated);
  const read = await request('GET', me, timeoutMs, token);
  const profile = read.body as { displayName?: unknown; email?: unknown } | undefined;
  if (read.status !== 200 || profile?.displayName !== displayName || profile?.email !== email.toLowerCase()) {
    throw unexpected('GET', me, `200 with displayName "${displayName}" and email "${email}"`, read);
  }
  return `profile of ${email} written and read back through ${usersUrl} in ${Date.now() - started} ms`;
}

/** Runs every check and returns the report; never throws for a failed check. */
export async function runSmokeTest(options: SmokeTestOptions): Promise<SmokeTestReport> {
  const { appName, envName, clients } = options;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const secretId = options.secretId ?? smokeTestSecretName(appName, envName);
  const checks: SmokeCheck[] = [];
  const record = (name: string, ok: boolean, detail: string) => {
    checks.push({ name, ok, detail });
    options.log?.(`${ok ? 'PASS' : 'FAIL'} ${name}: ${detail}`);
  };
  const attempt = async (name: string, step: () => Promise<string>): Promise<boolean> => {
    try {
      record(name, true, await step());
      return true;
    } catch (error) {
      record(name, false, error instanceof SmokeTestError ? error.message : describe(error));
      return false;
    }
  };

  let registry: RegistryEntries | undefined;
  await attempt('registry', async () => {
    registry = await readRegistry(clients.ssm, appName, envName);
    return `services ${Object.keys(registry.apis).sort().join(', ')} under /${appName}/${envName}/`;
  });
  if (!registry) return { ok: false, checks };
  const { apis, platform } = registry;

  // Every service's health, in parallel, all reported: public probes now, authenticated ones once signed in.
  const services = Object.keys(apis).sort();
  const checkAll = async (names: readonly string[], token?: string) => {
    const results = await Promise.all(
      names.map(async (service) => {
        try {
          const detail = await checkHealth(service, apis[service], healthProbeOf(service), timeoutMs, token);
          return { service, ok: true, detail };
        } catch (error) {
          return { service, ok: false, detail: error instanceof Error ? error.message : String(error) };
        }
      }),
    );
    for (const r of results) record(`${r.service} health`, r.ok, r.detail);
  };
  await checkAll(services.filter((service) => !healthProbeOf(service).authenticated));

  let token: string | undefined;
  let username = '';
  await attempt('sign in', async () => {
    const clientId = platform['user-pool-client-id'];
    if (!clientId) {
      throw new SmokeTestError(`no /${appName}/${envName}/platform/user-pool-client-id in the registry`);
    }
    const credentials = await readCredentials(clients.secrets, secretId);
    username = credentials.username;
    const hint = `npx tsx scripts/smoke-test.ts --app ${appName} --env ${envName} --secret ${secretId} --create-user`;
    token = await signIn(clients.cognito, clientId, credentials, hint);
    return `${username} signed in to the user pool through client ${clientId}`;
  });
  const withToken = services.filter((service) => healthProbeOf(service).authenticated);
  if (!token) {
    for (const service of withToken)
      record(`${service} health`, false, 'not checked: it needs the sign-in above');
  } else {
    const signedIn = token;
    await checkAll(withToken, signedIn);
    await attempt(`${ROUND_TRIP_SERVICE} round trip`, async () => {
      const usersUrl = apis[ROUND_TRIP_SERVICE];
      if (!usersUrl) {
        throw new SmokeTestError(
          `no /${appName}/${envName}/${ROUND_TRIP_SERVICE}/${API_URL_KEY} in the registry (services: ${Object.keys(apis).join(', ')})`,
        );
      }
      return roundTrip(usersUrl, signedIn, username, options.runId ?? randomUUID(), timeoutMs);
    });
  }
  return { ok: checks.every((c) => c.ok), checks };
}

/**
 * Creates the smoke-test user in the environment's user pool (no invitation e-mail, e-mail verified) and sets
 * its permanent password to the secret's. Run once by an operator with admin rights on the pool; running it
 * again resets the password to the secret's (after the secret changed).
 */
export async function createSmokeTestUser(options: {
  readonly appName: string;
  readonly envName: string;
  readonly secretId?: string;
  readonly clients: SmokeTestClients;
}): Promise<string> {
  const { appName, envName, clients } = options;
  const secretId = options.secretId ?? smokeTestSecretName(appName, envName);
  const { platform } = await readRegistry(clients.ssm, appName, envName);
  const poolId = platform['user-pool-id'];
  if (!poolId) throw new SmokeTestError(`no /${appName}/${envName}/platform/user-pool-id in the registry`);
  const { username, password } = await readCredentials(clients.secrets, secretId);
  try {
    await clients.cognito.send(
      new AdminCreateUserCommand({
        UserPoolId: poolId,
        Username: username,
        MessageAction: 'SUPPRESS',
        UserAttributes: [
          { Name: 'email', Value: username },
          { Name: 'email_verified', Value: 'true' },
        ],
      }),
    );
  } catch (error) {
    if ((error as { name?: string }).name !== 'UsernameExistsException') {
      throw new SmokeTestError(`cannot create ${username} in user pool ${poolId} (${describe(error)})`);
    }
  }
  try {
    await clients.cognito.send(
      new AdminSetUserPasswordCommand({
        UserPoolId: poolId,
        Username: username,
        Password: password,
        Permanent: true,
      }),
    );
  } catch (error) {
    throw new SmokeTestError(`cannot set the password of ${username} in ${poolId} (${describe(error)})`);
  }
  return `${username} is in user pool ${poolId} with the password of secret ${secretId}`;
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    const why = cause instanceof Error ? `: ${cause.message}` : '';
    return `${error.name}: ${error.message}${why}`;
  }
  return String(error);
}

const USAGE = `usage: npx tsx scripts/smoke-test.ts [--app Shop] [--env dev] [--secret <id>] [--timeout <ms>] [--create-user]`;

/** The command line: prints one line per check and returns the exit code (0 passed, 1 failed, 2 usage). */
export async function main(
  argv: readonly string[],
  out: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
  err: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
  clients?: SmokeTestClients,
): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        app: { type: 'string', default: 'Shop' },
        env: { type: 'string', default: 'dev' },
        secret: { type: 'string' },
        timeout: { type: 'string', default: '10000' },
        'create-user': { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    err(`${describe(error)}\n${USAGE}`);
    return 2;
  }
  const timeoutMs = Number(values.timeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1) {
    err(`invalid --timeout ${JSON.stringify(values.timeout)}: a positive number of milliseconds\n${USAGE}`);
    return 2;
  }
  const own = clients === undefined;
  const aws = clients ?? {
    ssm: new SSMClient({}),
    secrets: new SecretsManagerClient({}),
    cognito: new CognitoIdentityProviderClient({}),
  };
  const target = `${values.app} ${values.env}`;
  try {
    if (values['create-user']) {
      out(
        await createSmokeTestUser({
          appName: values.app,
          envName: values.env,
          secretId: values.secret,
          clients: aws,
        }),
      );
      return 0;
    }
    const report = await runSmokeTest({
      appName: values.app,
      envName: values.env,
      secretId: values.secret,
      clients: aws,
      timeoutMs,
      log: out,
    });
    const failed = report.checks.filter((c) => !c.ok);
    if (failed.length === 0) {
      out(`Smoke test of ${target} passed: ${report.checks.length} checks`);
      return 0;
    }
    err(
      `Smoke test of ${target} FAILED: ${failed.length} of ${report.checks.length} checks\n` +
        failed.map((c) => `  ${c.name}: ${c.detail}`).join('\n'),
    );
    return 1;
  } catch (error) {
    err(
      `Smoke test of ${target} FAILED: ${error instanceof SmokeTestError ? error.message : describe(error)}`,
    );
    return 1;
  } finally {
    if (own) for (const client of Object.values(aws)) client.destroy();
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (error: unknown) => {
      process.stderr.write(`Smoke test crashed: ${describe(error)}\n`);
      process.exitCode = 1;
    },
  );
}
