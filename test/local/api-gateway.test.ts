import { createHash, createHmac, generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import type { Hash, Hmac, JsonWebKey } from 'node:crypto';
import { createServer, request } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import {
  AdminAddUserToGroupCommand,
  AdminCreateUserCommand,
  AdminSetUserPasswordCommand,
  CognitoIdentityProviderClient,
  CreateGroupCommand,
  CreateResourceServerCommand,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
  InitiateAuthCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { SignatureV4 } from '@smithy/signature-v4';
import type { SourceData } from '@smithy/types';
import { LocalApiGateway } from '../../local/api-gateway';
import type { EmulatorEndpoint, LocalRoute, RouteAuthorization } from '../../local/model';
import type { Moto } from '../support/moto';
import { startMoto } from '../support/moto';
import { errorResponses } from '../support/gateway-responses';

const SERVICE = 'orders';
const STAGE = 'v1';
const READ_SCOPE = 'api/orders.read';
const USER_SCOPE = 'aws.cognito.signin.user.admin';
const PASSWORD = 'Passw0rd!-local';

/** The schema RequestSchema.fromZod renders for PlaceOrderInput. */
const PLACE_ORDER_SCHEMA = {
  $schema: 'http://json-schema.org/draft-04/schema#',
  type: 'object',
  properties: {
    lines: {
      minItems: 1,
      maxItems: 50,
      type: 'array',
      items: {
        type: 'object',
        properties: {
          sku: { type: 'string', pattern: '^[A-Z0-9][A-Z0-9-]{1,39}$' },
          quantity: { type: 'integer', minimum: 1, maximum: 1000 },
        },
        required: ['sku', 'quantity'],
        additionalProperties: false,
      },
    },
  },
  required: ['lines'],
  additionalProperties: false,
};

function route(
  method: string,
  resourcePath: string,
  functionKey: string,
  authorization: RouteAuthorization,
  extra: Partial<LocalRoute> = {},
): LocalRoute {
  return {
    service: SERVICE,
    method,
    resourcePath,
    authorization,
    functionKey,
    requiredParameters: [...(resourcePath.match(/\{[^}]+\}/g) ?? [])].map(
      (p) => `method.request.path.${p.slice(1, -1)}`,
    ),
    validateBody: false,
    stage: STAGE,
    ...extra,
  };
}

function routesFor(userPoolId: string): LocalRoute[] {
  const cognito = (...scopes: string[]): RouteAuthorization => ({
    type: 'COGNITO_USER_POOLS',
    userPoolId,
    scopes,
  });
  return [
    route('GET', '/health', 'health', { type: 'NONE' }),
    route('GET', '/orders/search', 'search', { type: 'NONE' }),
    route('GET', '/orders/{id}', 'get-order', cognito(READ_SCOPE)),
    route('GET', '/orders', 'list-orders', cognito(USER_SCOPE), {
      requiredParameters: ['method.request.querystring.customerId'],
    }),
    route('POST', '/orders', 'place-order', cognito(USER_SCOPE, READ_SCOPE), {
      requestSchema: PLACE_ORDER_SCHEMA,
      validateBody: true,
    }),
    route('GET', '/boom', 'boom', { type: 'NONE' }),
    route('GET', '/malformed', 'malformed', { type: 'NONE' }),
    route('GET', '/slow', 'slow', { type: 'NONE' }),
    route('POST', '/internal/reserve', 'reserve', { type: 'AWS_IAM' }),
  ];
}

interface Call {
  readonly functionKey: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly event: any;
}

/** A fake function runner: records events and answers like a route handler. */
function fakeInvoke(calls: Call[]) {
  return async (functionKey: string, event: unknown): Promise<unknown> => {
    calls.push({ functionKey, event });
    if (functionKey === 'boom') throw new Error('handler exploded');
    if (functionKey === 'malformed') return { body: 'no status code' };
    if (functionKey === 'slow') await new Promise((resolve) => setTimeout(resolve, 300));
    return {
      statusCode: functionKey === 'place-order' ? 201 : 200,
      headers: { 'content-type': 'application/json', 'x-function': functionKey },
      multiValueHeaders: { 'set-cookie': ['a=1', 'b=2'] },
      body: JSON.stringify({ functionKey }),
    };
  };
}

interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly json: any;
}

/** One HTTP request without keep-alive. */
function send(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: options.method ?? 'GET', headers: options.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/**
 * Writes `head` (request line and headers, CRLF-separated, without the blank line) on a fresh connection,
 * then reads everything the server sends until it closes the connection: for requests Node's HTTP client
 * will not send (unknown methods, URLs beyond its limits).
 */
function sendRaw(url: string, head: string, after = ''): Promise<Reply> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    socket.setTimeout(10_000, () => socket.destroy(new Error('no answer within 10 s')));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const [headText, ...rest] = text.split('\r\n\r\n');
      const [statusLine, ...headerLines] = headText.split('\r\n');
      const headers: IncomingHttpHeaders = {};
      for (const line of headerLines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      let body = rest.join('\r\n\r\n');
      if (headers['transfer-encoding'] === 'chunked') body = dechunk(body);
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      resolve({ status: Number(statusLine.split(' ')[1] ?? 0), headers, text: body, json });
    });
    socket.end(`${head}\r\nHost: ${hostname}:${port}\r\nConnection: close\r\n\r\n${after}`);
  });
}

/** The payload of a chunked HTTP/1.1 body. */
function dechunk(text: string): string {
  let out = '';
  let rest = text;
  for (;;) {
    const eol = rest.indexOf('\r\n');
    const size = parseInt(rest.slice(0, eol), 16);
    if (!(size > 0)) return out;
    out += rest.slice(eol + 2, eol + 2 + size);
    rest = rest.slice(eol + 2 + size + 2);
  }
}

/**
 * Streams `chunk` repeatedly as a chunked body (no Content-Length) until the server answers or `maxBytes`
 * are sent; resolves with the answer and the bytes sent before it came.
 */
function streamUntilAnswered(
  url: string,
  chunk: Buffer,
  maxBytes: number,
): Promise<{ reply: Reply; sentBeforeAnswer: number }> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const req = request(url, { method: 'POST', agent: false }, (res) => {
      answered = true;
      const sentBeforeAnswer = sent;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        req.destroy();
        resolve({
          reply: { status: res.statusCode ?? 0, headers: res.headers, text, json: JSON.parse(text) },
          sentBeforeAnswer,
        });
      });
    });
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    const pump = () => {
      while (!answered && sent < maxBytes) {
        sent += chunk.length;
        if (!req.write(chunk)) {
          req.once('drain', pump);
          return;
        }
      }
      if (!answered) req.end();
    };
    pump();
  });
}

/** The documented error shape: `{"error":{"code","message","requestId"}}` as JSON. */
function expectErrorShape(reply: Reply, status: number, code?: string): void {
  expect({ status: reply.status, contentType: reply.headers['content-type'], body: reply.json }).toEqual({
    status,
    contentType: 'application/json',
    body: {
      error: {
        code: code ?? expect.any(String),
        message: expect.any(String),
        requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      },
    },
  });
}

class TestSha256 {
  private readonly hash: Hash | Hmac;
  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: SourceData): void {
    this.hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {}
}

function bytes(data: SourceData): Buffer | string {
  if (typeof data === 'string') return data;
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

/** Signs a request to the gateway as a local function would (service execute-api). */
async function signedHeaders(
  baseUrl: string,
  path: string,
  credentials: { accessKeyId: string; secretAccessKey: string },
  region: string,
  body: string,
  query: Record<string, string> = {},
): Promise<Record<string, string>> {
  const url = new URL(baseUrl);
  const signer = new SignatureV4({ service: 'execute-api', region, credentials, sha256: TestSha256 });
  const signed = await signer.sign({
    method: 'POST',
    protocol: 'http:',
    hostname: url.hostname,
    port: Number(url.port),
    path,
    query,
    headers: { host: url.host, 'content-type': 'application/json' },
    body,
  });
  return signed.headers;
}

function b64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

describe('LocalApiGateway', () => {
  let moto: Moto;
  let emulator: EmulatorEndpoint;
  let userPoolId: string;
  let clientId: string;
  let accessToken: string;
  let otherClientToken: string;
  let otherPoolToken: string;
  const calls: Call[] = [];
  const logLines: string[] = [];
  let gateway: LocalApiGateway;
  let baseUrl: string;
  let scopedGateway: LocalApiGateway;
  let scopedUrl: string;
  const extraScopes = jest.fn(async (claims: Record<string, unknown>) =>
    claims.username === 'alice' ? [READ_SCOPE] : [],
  );

  let idp: CognitoIdentityProviderClient;

  async function createPoolWithUser(poolName: string): Promise<{ poolId: string; clientIds: string[] }> {
    const { UserPool } = await idp.send(new CreateUserPoolCommand({ PoolName: poolName }));
    const poolId = UserPool?.Id as string;
    await idp.send(
      new CreateResourceServerCommand({
        UserPoolId: poolId,
        Identifier: 'api',
        Name: 'api',
        Scopes: [{ ScopeName: 'orders.read', ScopeDescription: 'Read orders' }],
      }),
    );
    const clientIds: string[] = [];
    for (const name of ['web', 'cli']) {
      const { UserPoolClient } = await idp.send(
        new CreateUserPoolClientCommand({
          UserPoolId: poolId,
          ClientName: name,
          ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
        }),
      );
      clientIds.push(UserPoolClient?.ClientId as string);
    }
    for (const username of ['alice', 'bob']) {
      await idp.send(
        new AdminCreateUserCommand({
          UserPoolId: poolId,
          Username: username,
          TemporaryPassword: 'Temp-Passw0rd!',
          MessageAction: 'SUPPRESS',
        }),
      );
      await idp.send(
        new AdminSetUserPasswordCommand({
          UserPoolId: poolId,
          Username: username,
          Password: PASSWORD,
          Permanent: true,
        }),
      );
    }
    for (const group of ['admins', 'customers']) {
      await idp.send(new CreateGroupCommand({ UserPoolId: poolId, GroupName: group }));
      await idp.send(
        new AdminAddUserToGroupCommand({ UserPoolId: poolId, Username: 'alice', GroupName: group }),
      );
    }
    return { poolId, clientIds };
  }

  async function signIn(client: string, username: string): Promise<string> {
    const result = await idp.send(
      new InitiateAuthCommand({
        ClientId: client,
        AuthFlow: 'USER_PASSWORD_AUTH',
        AuthParameters: { USERNAME: username, PASSWORD: PASSWORD },
      }),
    );
    return result.AuthenticationResult?.AccessToken as string;
  }

  beforeAll(async () => {
    moto = await startMoto();
    emulator = {
      endpoint: moto.endpoint,
      region: 'us-east-1',
      accessKeyId: 'testing',
      secretAccessKey: 'testing',
    };
    idp = new CognitoIdentityProviderClient({
      endpoint: emulator.endpoint,
      region: emulator.region,
      credentials: { accessKeyId: emulator.accessKeyId, secretAccessKey: emulator.secretAccessKey },
    });
    const pool = await createPoolWithUser('local');
    userPoolId = pool.poolId;
    clientId = pool.clientIds[0];
    accessToken = await signIn(clientId, 'alice');
    otherClientToken = await signIn(pool.clientIds[1], 'alice');
    const otherPool = await createPoolWithUser('other');
    otherPoolToken = await signIn(otherPool.clientIds[0], 'alice');

    const common = {
      routes: routesFor(userPoolId),
      gatewayResponses: errorResponses(SERVICE),
      identity: { userPoolId, userPoolClientId: clientId, groups: ['admins', 'customers'] },
      emulator,
      invoke: fakeInvoke(calls),
      port: 0,
      log: (line: string) => logLines.push(line),
    };
    gateway = new LocalApiGateway(common);
    baseUrl = (await gateway.start()).url;
    scopedGateway = new LocalApiGateway({ ...common, extraScopes });
    scopedUrl = (await scopedGateway.start()).url;
  });

  afterAll(async () => {
    await gateway?.stop();
    await scopedGateway?.stop();
    idp?.destroy();
    await moto?.stop();
  });

  beforeEach(() => {
    calls.length = 0;
  });

  const lastCall = () => calls[calls.length - 1];

  it('reads access tokens as moto issues them', () => {
    const claims = JSON.parse(Buffer.from(accessToken.split('.')[1], 'base64url').toString('utf8'));
    expect(JSON.parse(Buffer.from(accessToken.split('.')[0], 'base64url').toString('utf8'))).toMatchObject({
      alg: 'RS256',
      kid: 'dummy',
    });
    expect(claims).toMatchObject({
      iss: `https://cognito-idp.us-east-1.amazonaws.com/${userPoolId}`,
      token_use: 'access',
      client_id: clientId,
      username: 'alice',
      scope: USER_SCOPE,
    });
    // moto lists a user's groups in no fixed order.
    expect([...claims['cognito:groups']].sort()).toEqual(['admins', 'customers']);
  });

  it('serves a public route and logs one access line', async () => {
    logLines.length = 0;
    const reply = await send(`${baseUrl}/orders/health`);
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({ functionKey: 'health' });
    expect(reply.headers['x-function']).toBe('health');
    expect(reply.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    const requestId = lastCall().event.requestContext.requestId;
    expect(reply.headers['x-amzn-requestid']).toBe(requestId);
    expect(logLines).toEqual([
      expect.stringMatching(new RegExp(`^GET /orders/health 200 \\d+ms ${requestId}`)),
    ]);
  });

  it('accepts the stage prefix and builds the Lambda proxy event', async () => {
    const reply = await send(`${baseUrl}/orders/v1/health?x=1&x=2&y=3`, {
      headers: { 'X-Correlation-Id': 'c-1' },
    });
    expect(reply.status).toBe(200);
    const { event } = lastCall();
    expect(event).toMatchObject({
      resource: '/health',
      path: '/health',
      httpMethod: 'GET',
      queryStringParameters: { x: '2', y: '3' },
      multiValueQueryStringParameters: { x: ['1', '2'], y: ['3'] },
      pathParameters: null,
      body: null,
      isBase64Encoded: false,
      requestContext: {
        stage: 'v1',
        path: '/orders/v1/health',
        resourcePath: '/health',
        httpMethod: 'GET',
        identity: { sourceIp: '127.0.0.1' },
        authorizer: null,
      },
    });
    expect(event.headers['X-Correlation-Id']).toBe('c-1');
    expect(event.multiValueHeaders['X-Correlation-Id']).toEqual(['c-1']);
    expect(event.requestContext.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('prefers literal segments over parameters', async () => {
    expect((await send(`${baseUrl}/orders/orders/search`)).json).toEqual({ functionKey: 'search' });
  });

  it('answers 401 with the UNAUTHORIZED template when the token is missing', async () => {
    const reply = await send(`${baseUrl}/orders/orders?customerId=c1`);
    expect(reply.status).toBe(401);
    expect(reply.headers['content-type']).toBe('application/json');
    expect(reply.json).toEqual({
      error: {
        code: 'UNAUTHORIZED',
        message: 'Unauthorized',
        requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      },
    });
    expect(reply.headers['x-amzn-requestid']).toBe(reply.json.error.requestId);
    expect(calls).toHaveLength(0);
  });

  it('passes a valid moto token (raw or Bearer) and hands the claims to the handler', async () => {
    for (const authorization of [accessToken, `Bearer ${accessToken}`]) {
      const reply = await send(`${baseUrl}/orders/orders?customerId=c1`, {
        headers: { Authorization: authorization },
      });
      expect(reply.status).toBe(200);
    }
    const { claims } = lastCall().event.requestContext.authorizer;
    expect(claims).toMatchObject({
      client_id: clientId,
      username: 'alice',
      scope: USER_SCOPE,
      token_use: 'access',
      iss: `https://cognito-idp.us-east-1.amazonaws.com/${userPoolId}`,
    });
    expect(String(claims['cognito:groups']).split(',').sort()).toEqual(['admins', 'customers']);
    expect(typeof claims.sub).toBe('string');
    expect(claims.exp).toMatch(/^[A-Z][a-z]{2} [A-Z][a-z]{2} \d{2} \d{2}:\d{2}:\d{2} UTC \d{4}$/);
    expect(Object.values(claims).every((v) => typeof v === 'string')).toBe(true);
  });

  it('accepts a token of another client of the same pool', async () => {
    const reply = await send(`${baseUrl}/orders/orders?customerId=c1`, {
      headers: { Authorization: otherClientToken },
    });
    expect(reply.status).toBe(200);
  });

  it('rejects a token of another pool, a tampered token and garbage with 401', async () => {
    const [header, payload, signature] = accessToken.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    const tampered = `${header}.${b64url({ ...claims, scope: `${USER_SCOPE} ${READ_SCOPE}` })}.${signature}`;
    for (const token of [otherPoolToken, tampered, 'not-a-jwt', `${header}.${payload}.AAAA`]) {
      const reply = await send(`${baseUrl}/orders/orders/42`, { headers: { Authorization: token } });
      expect(reply.status).toBe(401);
      expect(reply.json.error.code).toBe('UNAUTHORIZED');
    }
    expect(calls).toHaveLength(0);
  });

  it('answers 403 when the token lacks every scope of the route', async () => {
    const reply = await send(`${baseUrl}/orders/orders/42`, { headers: { Authorization: accessToken } });
    expect(reply.status).toBe(403);
    expect(reply.json.error).toMatchObject({ code: 'FORBIDDEN' });
    expect(calls).toHaveLength(0);
  });

  it('adds the scopes a pre-token-generation trigger would grant, once per token', async () => {
    extraScopes.mockClear();
    for (let i = 0; i < 2; i++) {
      const reply = await send(`${scopedUrl}/orders/orders/42`, { headers: { Authorization: accessToken } });
      expect(reply.status).toBe(200);
    }
    expect(extraScopes).toHaveBeenCalledTimes(1);
    expect(extraScopes.mock.calls[0][0]).toMatchObject({ username: 'alice', client_id: clientId });
    const { event } = lastCall();
    expect(event.pathParameters).toEqual({ id: '42' });
    expect(event.resource).toBe('/orders/{id}');
    expect(event.path).toBe('/orders/42');
    expect(event.requestContext.authorizer.claims.scope).toBe(`${USER_SCOPE} ${READ_SCOPE}`);
    const bob = await signIn(clientId, 'bob');
    expect((await send(`${scopedUrl}/orders/orders/42`, { headers: { Authorization: bob } })).status).toBe(
      403,
    );
  });

  it('decodes path parameters', async () => {
    await send(`${scopedUrl}/orders/orders/a%20b`, { headers: { Authorization: accessToken } });
    expect(lastCall().event.pathParameters).toEqual({ id: 'a b' });
  });

  it('answers 400 when a required query parameter is missing', async () => {
    const reply = await send(`${baseUrl}/orders/orders`, { headers: { Authorization: accessToken } });
    expect(reply.status).toBe(400);
    expect(reply.json.error).toMatchObject({
      code: 'VALIDATION_FAILED',
      message: 'Missing required request parameters: [customerId]',
    });
    expect(calls).toHaveLength(0);
  });

  it('validates the body against the schema before invoking the handler', async () => {
    const post = (body: string) =>
      send(`${baseUrl}/orders/orders`, {
        method: 'POST',
        headers: { Authorization: accessToken, 'Content-Type': 'application/json' },
        body,
      });
    for (const body of [
      '{"lines": [',
      '',
      JSON.stringify({ lines: [] }),
      JSON.stringify({ lines: [{ sku: 'x' }] }),
    ]) {
      const reply = await post(body);
      expect(reply.status).toBe(400);
      expect(reply.json.error).toMatchObject({ code: 'VALIDATION_FAILED', message: 'Invalid request body' });
    }
    expect(calls).toHaveLength(0);
    expect(logLines.some((l) => /BAD_REQUEST_BODY: .*\/lines\/0\/sku: must match the pattern/.test(l))).toBe(
      true,
    );

    const body = JSON.stringify({ lines: [{ sku: 'SKU-1', quantity: 2 }] });
    const reply = await post(body);
    expect(reply.status).toBe(201);
    expect(lastCall().event.body).toBe(body);
  });

  it('answers 404 for unknown routes, methods and services', async () => {
    for (const url of [`${baseUrl}/orders/nope`, `${baseUrl}/orders/health/extra`]) {
      const reply = await send(url);
      expect(reply.status).toBe(404);
      expect(reply.json.error).toMatchObject({
        code: 'ROUTE_NOT_FOUND',
        message: 'Missing Authentication Token',
      });
    }
    expect((await send(`${baseUrl}/orders/health`, { method: 'DELETE' })).status).toBe(404);
    const unknown = await send(`${baseUrl}/payments/health`);
    expect(unknown.status).toBe(404);
    expect(unknown.json.error).toMatchObject({
      code: 'ROUTE_NOT_FOUND',
      message: expect.stringContaining('orders'),
    });
    expect(calls).toHaveLength(0);
  });

  it('answers 502 when the handler throws or returns a malformed response, and logs it', async () => {
    for (const path of ['boom', 'malformed']) {
      const reply = await send(`${baseUrl}/orders/${path}`);
      expect(reply.status).toBe(502);
      expect(reply.json.error).toMatchObject({ code: 'UPSTREAM_ERROR', message: 'Internal server error' });
    }
    expect(logLines.some((l) => l.includes('boom failed: Error: handler exploded'))).toBe(true);
  });

  it('handles requests concurrently', async () => {
    const started = Date.now();
    const replies = await Promise.all(Array.from({ length: 5 }, () => send(`${baseUrl}/orders/slow`)));
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(Date.now() - started).toBeLessThan(1_200);
  });

  describe('hostile input', () => {
    const names = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'];

    it('reads query and header names like __proto__ as plain names and passes them on as API Gateway does', async () => {
      const query = names.map((n, i) => `${n}=${i}&${n}=${i}b`).join('&');
      const headers = Object.fromEntries(names.map((n) => [n, `h-${n}`]));
      const reply = await send(`${baseUrl}/orders/health?${query}`, { headers });
      expect(reply.status).toBe(200);
      const { event } = lastCall();
      const plain = JSON.parse(JSON.stringify(event));
      for (const [i, name] of names.entries()) {
        expect(Object.hasOwn(event.queryStringParameters, name)).toBe(true);
        expect(plain.queryStringParameters[name]).toBe(`${i}b`);
        expect(plain.multiValueQueryStringParameters[name]).toEqual([`${i}`, `${i}b`]);
        expect(plain.headers[name]).toBe(`h-${name}`);
        expect(plain.multiValueHeaders[name]).toEqual([`h-${name}`]);
      }
      for (const record of ['headers', 'multiValueHeaders', 'queryStringParameters']) {
        expect(Object.getPrototypeOf(event[record])).toBe(Object.prototype);
      }
    });

    it('routes, authorizes and validates requests carrying such names', async () => {
      const unauthorized = await send(`${baseUrl}/orders/orders?__proto__=1&customerId=c1`, {
        headers: { __proto__: 'x', constructor: 'y' } as unknown as Record<string, string>,
      });
      expectErrorShape(unauthorized, 401, 'UNAUTHORIZED');
      const missing = await send(`${baseUrl}/orders/orders?constructor=1&toString=2`, {
        headers: { Authorization: accessToken, toString: 'z' },
      });
      expectErrorShape(missing, 400, 'VALIDATION_FAILED');
      const listed = await send(`${baseUrl}/orders/orders?constructor=1&customerId=c1`, {
        headers: { Authorization: accessToken, valueOf: 'z' },
      });
      expect(listed.status).toBe(200);
      expect(lastCall().event.queryStringParameters).toEqual({ constructor: '1', customerId: 'c1' });
    });

    it('answers 413 PAYLOAD_TOO_LARGE to a body over 10 MiB without reading all of it', async () => {
      const { reply, sentBeforeAnswer } = await streamUntilAnswered(
        `${baseUrl}/orders/health`,
        Buffer.alloc(1024 * 1024, 'a'),
        64 * 1024 * 1024,
      );
      expectErrorShape(reply, 413, 'PAYLOAD_TOO_LARGE');
      expect(sentBeforeAnswer).toBeLessThan(40 * 1024 * 1024);
      expect(calls).toHaveLength(0);
    });

    it('answers 413 at once to a Content-Length over 10 MiB', async () => {
      const reply = await sendRaw(
        `${baseUrl}/orders/health`,
        `POST /orders/health HTTP/1.1\r\nContent-Length: ${20 * 1024 * 1024}`,
      );
      expectErrorShape(reply, 413, 'PAYLOAD_TOO_LARGE');
      expect(calls).toHaveLength(0);
    });

    it('still accepts a body of exactly 10 MiB', async () => {
      const body = 'a'.repeat(10 * 1024 * 1024);
      const reply = await send(`${baseUrl}/orders/health`, { method: 'POST', body });
      expect(reply.status).toBe(404); // POST /health is no route: the body was read, the route looked up
      expectErrorShape(reply, 404, 'ROUTE_NOT_FOUND');
    });

    it('answers an unknown method in the documented shape', async () => {
      for (const method of ['FOO', 'GETT', 'get']) {
        const reply = await sendRaw(baseUrl, `${method} /orders/health HTTP/1.1`);
        expectErrorShape(reply, 400);
      }
    });

    it('answers known methods no route has in the documented shape', async () => {
      for (const method of ['PATCH', 'PUT', 'OPTIONS', 'PROPFIND', 'TRACE', 'CONNECT', 'M-SEARCH']) {
        const reply = await sendRaw(baseUrl, `${method} /orders/health HTTP/1.1`);
        expectErrorShape(reply, 404, 'ROUTE_NOT_FOUND');
      }
      expect(calls).toHaveLength(0);
    });

    it('answers an HTTP/1.1 request without a Host header in the documented shape', async () => {
      const { port } = new URL(baseUrl);
      const reply = await new Promise<Reply>((resolve, reject) => {
        const socket = connect(Number(port), '127.0.0.1');
        let text = '';
        socket.on('data', (c: Buffer) => (text += c.toString('utf8')));
        socket.on('error', reject);
        socket.on('close', () => {
          const [head, ...rest] = text.split('\r\n\r\n');
          const body = head.includes('chunked') ? dechunk(rest.join('\r\n\r\n')) : rest.join('\r\n\r\n');
          const contentType = /\r\ncontent-type: *([^\r]*)/i.exec(head)?.[1];
          const json = (() => {
            try {
              return JSON.parse(body);
            } catch {
              return undefined;
            }
          })();
          resolve({
            status: Number(head.split(' ')[1]),
            headers: { 'content-type': contentType },
            text: body,
            json,
          });
        });
        socket.end('GET /orders/health HTTP/1.1\r\nConnection: close\r\n\r\n');
      });
      expectErrorShape(reply, 400);
      expect(calls).toHaveLength(0);
    });

    it('still delivers an early answer when bytes that are no request follow it', async () => {
      for (const connection of ['close', 'keep-alive']) {
        const reply = await sendRaw(
          baseUrl,
          `GET /orders/health?q=${'L'.repeat(11_000)} HTTP/1.1\r\nConnection: ${connection}`,
          '{}\r\n\r\n',
        );
        expectErrorShape(reply, 414);
      }
    });

    it('logs a path with encoded control characters on one line, escaped', async () => {
      logLines.length = 0;
      const reply = await send(`${baseUrl}/orders/health%0D%0AGET%20/orders/forged%20200%09x`);
      expectErrorShape(reply, 404, 'ROUTE_NOT_FOUND');
      expect(logLines).toHaveLength(1);
      expect(logLines[0]).not.toMatch(/[\r\n\t]/);
      expect(logLines[0]).toContain('/orders/health\\r\\nGET /orders/forged 200\\tx 404');
    });

    it('answers malformed requests in the documented shape', async () => {
      for (const head of [
        'GET /orders/health HTTP/1.1\r\nBad Header: x',
        'GET /orders/health HTTP/1.1\r\nContent-Length: nope',
        'GET /orders/health HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 1',
        'GET /orders/he alth HTTP/1.1',
      ]) {
        const reply = await sendRaw(baseUrl, head);
        expectErrorShape(reply, 400);
      }
    });

    it("applies API Gateway's URL and header size limits in the documented shape", async () => {
      const long = 'a'.repeat(20_000);
      expectErrorShape(await sendRaw(baseUrl, `GET /orders/orders/${long} HTTP/1.1`), 414);
      expectErrorShape(await sendRaw(baseUrl, `GET /orders/health?q=${long} HTTP/1.1`), 414);
      expectErrorShape(await sendRaw(baseUrl, `GET /orders/${'b'.repeat(200_000)} HTTP/1.1`), 431);
      const bigHeaders = await send(`${baseUrl}/orders/health`, { headers: { 'x-big': long } });
      expectErrorShape(bigHeaders, 431);
      const manyHeaders = Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`x-h${i}`, 'vvvvv']));
      expectErrorShape(await send(`${baseUrl}/orders/health`, { headers: manyHeaders }), 431);
      expect(calls).toHaveLength(0);
      // Long but within the limits: reaches the route.
      const within = await send(`${baseUrl}/orders/orders/search?q=${'c'.repeat(9_000)}`);
      expect(within.status).toBe(200);
      expect(lastCall().event.queryStringParameters.q).toHaveLength(9_000);
    });
  });

  describe('AWS_IAM routes', () => {
    const path = '/orders/v1/internal/reserve';
    const body = JSON.stringify({ orderId: 'o-1' });

    it('rejects unsigned requests with 403', async () => {
      const reply = await send(`${baseUrl}${path}`, { method: 'POST', body });
      expect(reply.status).toBe(403);
      expect(reply.json.error.code).toBe('FORBIDDEN');
      expect(calls).toHaveLength(0);
    });

    it('accepts a request signed with the emulator credentials and passes the caller', async () => {
      const headers = await signedHeaders(baseUrl, path, emulator, emulator.region, body, { a: 'b c' });
      const reply = await send(`${baseUrl}${path}?a=b%20c`, { method: 'POST', headers, body });
      expect(reply.status).toBe(200);
      expect(lastCall().event.requestContext.identity).toMatchObject({
        accessKey: 'testing',
        userArn: expect.stringMatching(/^arn:aws:iam::\d{12}:/),
        caller: expect.any(String),
      });
      expect(lastCall().event.body).toBe(body);
    });

    it('rejects a wrong secret, a changed body and an unknown key with 403', async () => {
      const wrongSecret = await signedHeaders(
        baseUrl,
        path,
        { accessKeyId: 'testing', secretAccessKey: 'wrong' },
        emulator.region,
        body,
      );
      const wrong = await send(`${baseUrl}${path}`, { method: 'POST', headers: wrongSecret, body });
      expect(wrong.status).toBe(403);
      expect(wrong.json.error.code).toBe('INVALID_SIGNATURE');

      const good = await signedHeaders(baseUrl, path, emulator, emulator.region, body);
      const changed = await send(`${baseUrl}${path}`, {
        method: 'POST',
        headers: good,
        body: '{"orderId":"o-2"}',
      });
      expect(changed.status).toBe(403);

      const unknownKey = await signedHeaders(
        baseUrl,
        path,
        { accessKeyId: 'AKIAOTHER', secretAccessKey: 'testing' },
        emulator.region,
        body,
      );
      expect((await send(`${baseUrl}${path}`, { method: 'POST', headers: unknownKey, body })).status).toBe(
        403,
      );
      expect(calls).toHaveLength(0);
    });
  });

  describe('with its own signing key (expiry and claim checks)', () => {
    const poolId = 'us-east-1_LocalTest';
    const webClient = 'local-web-client';
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk: JsonWebKey = { ...publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'RS256', use: 'sig' };
    let jwksServer: Server;
    let jwksRequests = 0;
    let ownGateway: LocalApiGateway;
    let ownUrl: string;

    function token(overrides: Record<string, unknown> = {}, header: Record<string, unknown> = {}): string {
      const now = Math.floor(Date.now() / 1000);
      const claims = {
        iss: `https://cognito-idp.us-east-1.amazonaws.com/${poolId}`,
        sub: randomUUID(),
        client_id: webClient,
        token_use: 'access',
        scope: READ_SCOPE,
        username: 'carol',
        iat: now,
        exp: now + 3600,
        ...overrides,
      };
      const signed = `${b64url({ alg: 'RS256', kid: 'k1', ...header })}.${b64url(claims)}`;
      return `${signed}.${sign('RSA-SHA256', Buffer.from(signed), privateKey).toString('base64url')}`;
    }

    beforeAll(async () => {
      // Stands in for the emulator: the pool's JWKS, and DescribeUserPoolClient knowing no client.
      jwksServer = createServer((req, res) => {
        if (req.method === 'GET' && req.url === `/${poolId}/.well-known/jwks.json`) {
          jwksRequests++;
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
          return;
        }
        req.resume();
        res
          .writeHead(400, { 'content-type': 'application/x-amz-json-1.1' })
          .end(JSON.stringify({ __type: 'ResourceNotFoundException', message: 'no such client' }));
      });
      await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
      const endpoint = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}`;
      ownGateway = new LocalApiGateway({
        routes: routesFor(poolId),
        gatewayResponses: errorResponses(SERVICE),
        identity: { userPoolId: poolId, userPoolClientId: webClient, groups: [] },
        emulator: { ...emulator, endpoint },
        invoke: fakeInvoke(calls),
        port: 0,
      });
      ownUrl = (await ownGateway.start()).url;
    });

    afterAll(async () => {
      await ownGateway?.stop();
      await new Promise((resolve) => jwksServer?.close(resolve));
    });

    const get = (authorization: string) =>
      send(`${ownUrl}/orders/orders/7`, { headers: { Authorization: authorization } });

    it('accepts a valid token and fetches the JWKS once', async () => {
      expect((await get(token())).status).toBe(200);
      expect((await get(`Bearer ${token()}`)).status).toBe(200);
      expect(jwksRequests).toBe(1);
    });

    it('refuses a token it has accepted before once the token has expired', async () => {
      const fresh = token({ jti: randomUUID() });
      try {
        expect((await get(fresh)).status).toBe(200);
        expect((await get(fresh)).status).toBe(200);
        // Two hours on, the remembered token is past its exp (one hour).
        jest.spyOn(Date, 'now').mockReturnValue(Date.now() + 2 * 3_600_000);
        const reply = await get(fresh);
        expect(reply.status).toBe(401);
        expect(reply.json.error.code).toBe('TOKEN_EXPIRED');
      } finally {
        jest.restoreAllMocks();
      }
    });

    it('answers 401 with the EXPIRED_TOKEN template for an expired token', async () => {
      const reply = await get(token({ exp: Math.floor(Date.now() / 1000) - 1 }));
      expect(reply.status).toBe(401);
      expect(reply.json.error).toMatchObject({
        code: 'TOKEN_EXPIRED',
        message: 'The incoming token has expired',
      });
    });

    it('rejects wrong issuer, id tokens, unknown clients, unknown keys and other algorithms', async () => {
      const bad = [
        token({ iss: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other' }),
        token({ token_use: 'id' }),
        token({ client_id: 'not-a-client' }),
        token({}, { kid: 'k2' }),
        token({}, { alg: 'HS256' }),
      ];
      for (const t of bad) {
        const reply = await get(t);
        expect(reply.status).toBe(401);
        expect(reply.json.error.code).toBe('UNAUTHORIZED');
      }
      expect(calls).toHaveLength(0);
    });
  });
});
