import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import type { JsonWebKey } from 'node:crypto';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CognitoAuthorizer } from '../../../local/gateway/cognito';
import type { IncomingRequest } from '../../../local/gateway/request';

const POOL = 'us-east-1_GatewayTest';
const CLIENT = 'app-client';
const OTHER_CLIENT = 'other-client';
const SCOPE = 'api/payments.read';

function keyPair(kid: string) {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk: JsonWebKey = { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
  return { privateKey, jwk, kid };
}

const first = keyPair('k1');
const rotated = keyPair('k2');

function b64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function token(overrides: Record<string, unknown> = {}, key = first): string {
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    iss: `https://cognito-idp.us-east-1.amazonaws.com/${POOL}`,
    sub: randomUUID(),
    client_id: CLIENT,
    token_use: 'access',
    scope: SCOPE,
    iat: now,
    exp: now + 3600,
    ...overrides,
  };
  const signed = `${b64url({ alg: 'RS256', kid: key.kid })}.${b64url(claims)}`;
  return `${signed}.${sign('RSA-SHA256', Buffer.from(signed), key.privateKey).toString('base64url')}`;
}

function withToken(value: string): IncomingRequest {
  const headers = Object.create(null) as Record<string, string>;
  headers.Authorization = `Bearer ${value}`;
  return {
    requestId: randomUUID(),
    method: 'GET',
    rawPath: '/payments/p/1',
    calledPath: '/payments/p/1',
    rawQuery: '',
    headers,
    multiValueHeaders: Object.create(null) as Record<string, string[]>,
    query: Object.create(null) as Record<string, string>,
    multiValueQuery: Object.create(null) as Record<string, string[]>,
    body: Buffer.alloc(0),
    sourceIp: '127.0.0.1',
  };
}

describe('CognitoAuthorizer', () => {
  let server: Server;
  let endpoint: string;
  /** What the stand-in emulator serves as the pool's JWKS; undefined answers 503. */
  let keys: JsonWebKey[] | undefined;
  let jwksRequests = 0;
  let clientLookups = 0;
  const failures: string[] = [];
  let authorizer: CognitoAuthorizer;

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.method === 'GET' && req.url === `/${POOL}/.well-known/jwks.json`) {
        jwksRequests++;
        if (!keys) res.writeHead(503).end();
        else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys }));
        return;
      }
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        clientLookups++;
        const input = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { ClientId?: string };
        const json = { 'content-type': 'application/x-amz-json-1.1' };
        if (input.ClientId === OTHER_CLIENT) {
          res.writeHead(200, json).end(JSON.stringify({ UserPoolClient: { ClientId: OTHER_CLIENT } }));
        } else {
          res
            .writeHead(400, json)
            .end(JSON.stringify({ __type: 'ResourceNotFoundException', message: 'no' }));
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  beforeEach(() => {
    keys = [first.jwk];
    jwksRequests = 0;
    clientLookups = 0;
    failures.length = 0;
    authorizer = new CognitoAuthorizer({
      emulator: { endpoint, region: 'us-east-1', accessKeyId: 'testing', secretAccessKey: 'testing' },
      identity: { userPoolId: POOL, userPoolClientId: CLIENT, groups: [] },
      log: (line) => failures.push(line),
    });
  });

  afterEach(() => {
    authorizer.close();
    jest.restoreAllMocks();
  });

  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
  });

  const authorize = (value: string, scopes: string[] = [SCOPE]) =>
    authorizer.authorize(POOL, scopes, withToken(value));

  it('passes the claims as API Gateway formats them and checks the token once', async () => {
    const value = token({ 'cognito:groups': ['a', 'b'] });
    const result = await authorize(value);
    expect(result).toMatchObject({
      ok: true,
      claims: { scope: SCOPE, 'cognito:groups': 'a,b', client_id: CLIENT },
    });
    expect(result.ok && result.claims?.exp).toMatch(/^\w{3} \w{3} \d{2} \d{2}:\d{2}:\d{2} UTC \d{4}$/);
    await authorize(value);
    expect(jwksRequests).toBe(1);
  });

  it('answers 403 when the token has none of the scopes', async () => {
    expect(await authorize(token(), ['api/payments.write'])).toMatchObject({
      ok: false,
      rejection: { types: ['ACCESS_DENIED'], status: 403 },
    });
  });

  it('calls an expired access token expired, and an expired id token unauthorized', async () => {
    const past = Math.floor(Date.now() / 1000) - 10;
    expect(await authorize(token({ exp: past }))).toMatchObject({
      ok: false,
      rejection: { types: ['EXPIRED_TOKEN', 'UNAUTHORIZED'], status: 401 },
    });
    expect(await authorize(token({ exp: past, token_use: 'id' }))).toMatchObject({
      ok: false,
      rejection: { types: ['UNAUTHORIZED'], status: 401, reason: 'token_use is id, not access' },
    });
  });

  it('fails (500) while the pool keys cannot be fetched, and recovers once they can', async () => {
    keys = undefined;
    expect(await authorize(token())).toMatchObject({
      ok: false,
      rejection: { types: ['AUTHORIZER_FAILURE'], status: 500 },
    });
    expect(failures.some((line) => line.includes(`JWKS of ${POOL}`))).toBe(true);
    keys = [first.jwk];
    expect(await authorize(token())).toMatchObject({ ok: true });
  });

  it('fetches the keys again for an unknown key id, at most every 10 s', async () => {
    expect(await authorize(token({}, rotated))).toMatchObject({ ok: false, rejection: { status: 401 } });
    keys = [first.jwk, rotated.jwk];
    expect(await authorize(token({}, rotated))).toMatchObject({ ok: false, rejection: { status: 401 } });
    expect(jwksRequests).toBe(1);
    const now = Date.now();
    jest.spyOn(Date, 'now').mockReturnValue(now + 11_000);
    expect(await authorize(token({}, rotated))).toMatchObject({ ok: true });
    expect(jwksRequests).toBe(2);
  });

  it('looks another client of the pool up once, and refuses clients the pool does not have', async () => {
    expect(await authorize(token({ client_id: OTHER_CLIENT }))).toMatchObject({ ok: true });
    expect(await authorize(token({ client_id: OTHER_CLIENT }))).toMatchObject({ ok: true });
    expect(clientLookups).toBe(1);
    expect(await authorize(token({ client_id: 'stranger' }))).toMatchObject({
      ok: false,
      rejection: { types: ['UNAUTHORIZED'], reason: `client stranger is not a client of ${POOL}` },
    });
    expect(await authorize(token())).toMatchObject({ ok: true });
    expect(clientLookups).toBe(2);
  });

  it('refuses tokens that are not JWTs, carry no key id or use another algorithm', async () => {
    const [, payload, signature] = token().split('.');
    for (const value of [
      'garbage',
      `${b64url({ alg: 'RS256' })}.${payload}.${signature}`,
      `${b64url({ alg: 'HS256', kid: 'k1' })}.${payload}.${signature}`,
    ]) {
      expect(await authorize(value)).toMatchObject({ ok: false, rejection: { types: ['UNAUTHORIZED'] } });
    }
  });
});
