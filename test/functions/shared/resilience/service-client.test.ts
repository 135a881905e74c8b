import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent, createServer } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  BreakerState,
  CircuitBreaker,
  CircuitOpenError,
} from '../../../../functions/shared/resilience/circuit-breaker';
import {
  DependencyError,
  HttpMethod,
  ServiceClient,
} from '../../../../functions/shared/resilience/service-client';
import type { ServiceClientOptions } from '../../../../functions/shared/resilience/service-client';

const ACCESS_KEY = 'AKIDTESTEXAMPLE';
const SECRET_KEY = 'test-secret-key/EXAMPLE';
const SESSION_TOKEN = 'test-session-token';
const REGION = 'eu-west-1';

interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** The client's end of the connection the request came on. */
  readonly clientPort?: number;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

let server: Server;
let baseUrl: string;
let received: Received[] = [];
let handle: Handler;
const savedEnv: Record<string, string | undefined> = {};

function answer(res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}) {
  const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(text);
}

beforeAll(async () => {
  for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']) {
    savedEnv[name] = process.env[name];
  }
  process.env.AWS_ACCESS_KEY_ID = ACCESS_KEY;
  process.env.AWS_SECRET_ACCESS_KEY = SECRET_KEY;
  process.env.AWS_SESSION_TOKEN = SESSION_TOKEN;

  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        clientPort: req.socket.remotePort,
      });
      handle(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/`;
});

afterAll(async () => {
  server.closeAllConnections(); // includes the requests the timeout test left unanswered
  await new Promise<void>((resolve) => server.close(() => resolve()));
  for (const [name, value] of Object.entries(savedEnv)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

beforeEach(() => {
  received = [];
  handle = (_req, res) => answer(res, 200, { ok: true });
});

function client(options: Partial<ServiceClientOptions> = {}): ServiceClient {
  return new ServiceClient({
    name: 'users',
    baseUrl,
    region: REGION,
    ...options,
    retry: { sleep: () => Promise.resolve(), ...options.retry },
  });
}

/** RFC 3986 encoding, as the SigV4 specification defines it. */
function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

const sha256Hex = (data: string) => createHash('sha256').update(data, 'utf8').digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

/**
 * Recomputes the SigV4 signature of a request as the server received it, following the AWS specification
 * (not the client's signer), so that it proves what was sent is what was signed.
 */
function expectedSignature(request: Received): string {
  const authorization = String(request.headers.authorization);
  const signedHeaders = /SignedHeaders=([^,]+)/.exec(authorization)?.[1] ?? '';
  const scope = /Credential=[^/]+\/([^,]+)/.exec(authorization)?.[1] ?? '';
  const [date, region, service] = scope.split('/');
  const [rawPath, rawQuery = ''] = request.url.split('?');
  const canonicalPath = rawPath.split('/').map(uriEncode).join('/'); // non-S3: encode the sent path again
  const canonicalQuery = rawQuery
    .split('&')
    .filter(Boolean)
    .map((pair) => pair.split('=').map((part) => uriEncode(decodeURIComponent(part ?? ''))))
    .sort(([k1, v1], [k2, v2]) => (k1 === k2 ? (v1 < v2 ? -1 : 1) : k1 < k2 ? -1 : 1))
    .map(([k, v = '']) => `${k}=${v}`)
    .join('&');
  const canonicalHeaders = signedHeaders
    .split(';')
    .map((name) => `${name}:${String(request.headers[name]).trim().replace(/\s+/g, ' ')}\n`)
    .join('');
  const canonicalRequest = [
    request.method,
    canonicalPath,
    canonicalQuery,
    canonicalHeaders,
    signedHeaders,
    sha256Hex(request.body),
  ].join('\n');
  const amzDate = String(request.headers['x-amz-date']);
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  let key: Buffer = hmac(`AWS4${SECRET_KEY}`, date);
  for (const part of [region, service, 'aws4_request']) key = hmac(key, part);
  return createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');
}

describe('ServiceClient signing', () => {
  it('signs each request with SigV4 for execute-api, with x-amz-date and the session token', async () => {
    const response = await client().get('/profiles/me');
    expect(response).toMatchObject({ status: 200, body: { ok: true } });
    expect(received).toHaveLength(1);
    const { headers } = received[0];
    const amzDate = String(headers['x-amz-date']);
    expect(amzDate).toMatch(/^\d{8}T\d{6}Z$/);
    expect(headers.authorization).toMatch(
      new RegExp(
        `^AWS4-HMAC-SHA256 Credential=${ACCESS_KEY}/${amzDate.slice(0, 8)}/${REGION}/execute-api/aws4_request, ` +
          'SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*, Signature=[0-9a-f]{64}$',
      ),
    );
    expect(headers['x-amz-security-token']).toBe(SESSION_TOKEN);
    expect(String(headers.authorization)).toMatch(/SignedHeaders=[^,]*x-amz-date[^,]*x-amz-security-token/);
  });

  it('sends exactly what it signed: the signature verifies for a path and query that need encoding', async () => {
    await client().get(`profiles/${encodeURIComponent('a b')}?z=last&a=first&q=x y!&a=again`, {
      headers: { 'X-Correlation-Id': 'corr-1' },
    });
    const request = received[0];
    expect(request.url.split('?')[0]).toBe('/v1/profiles/a%20b');
    const query = new URLSearchParams(request.url.split('?')[1]);
    expect(query.getAll('a')).toEqual(['again', 'first']);
    expect(query.get('q')).toBe('x y!');
    expect(query.get('z')).toBe('last');
    expect(request.headers['x-correlation-id']).toBe('corr-1');
    expect(String(request.headers.authorization)).toMatch(/SignedHeaders=[^,]*x-correlation-id/);
    expect(String(request.headers.authorization)).toContain(`Signature=${expectedSignature(request)}`);
  });

  it('sends a User-Agent naming the library, its version and the client on every request, signed', async () => {
    // AWSManagedRulesCommonRuleSet (NoUserAgent_HEADER) blocks requests without a User-Agent.
    const { version } = JSON.parse(readFileSync(join(__dirname, '../../../../package.json'), 'utf8')) as {
      version: string;
    };
    let calls = 0;
    handle = (_req, res) => (++calls === 1 ? answer(res, 503) : answer(res, 200, { ok: true }));
    await client().get('profiles/me');
    await client({ name: 'inventory' }).request(HttpMethod.POST, 'reservations', { body: { n: 1 } });
    expect(received).toHaveLength(3);
    expect(received.map((r) => r.headers['user-agent'])).toEqual([
      `cdk-microservices/${version} users`,
      `cdk-microservices/${version} users`,
      `cdk-microservices/${version} inventory`,
    ]);
    for (const request of received) {
      expect(String(request.headers.authorization)).toMatch(/SignedHeaders=[^,]*user-agent/);
      expect(String(request.headers.authorization)).toContain(`Signature=${expectedSignature(request)}`);
    }
  });

  it('signs a fresh request for every attempt, and a JSON body with its hash', async () => {
    let calls = 0;
    handle = (_req, res) => (++calls === 1 ? answer(res, 429) : answer(res, 201, { id: 'o-1' }));
    const response = await client().request(HttpMethod.POST, 'orders', { body: { item: 'book' } });
    expect(response).toMatchObject({ status: 201, body: { id: 'o-1' } });
    expect(received).toHaveLength(2);
    for (const request of received) {
      expect(request.body).toBe('{"item":"book"}');
      expect(request.headers['content-type']).toBe('application/json');
      expect(String(request.headers.authorization)).toContain(`Signature=${expectedSignature(request)}`);
    }
  });

  it('joins baseUrl and path with exactly one slash, with or without slashes on either side', async () => {
    const withSlash = baseUrl;
    const withoutSlash = baseUrl.replace(/\/$/, '');
    for (const base of [withSlash, withoutSlash]) {
      for (const path of ['profiles/me', '/profiles/me']) await client({ baseUrl: base }).get(path);
    }
    expect(received.map((r) => r.url)).toEqual(Array(4).fill('/v1/profiles/me'));
  });

  it('refuses a path that climbs out of the base path, sending nothing', async () => {
    await expect(client().get('profiles/../../admin')).rejects.toThrow(/leaves/);
    await expect(client().get('%2e%2e/admin')).rejects.toThrow(/leaves/);
    expect(received).toHaveLength(0);
  });

  it('fails without counting a breaker failure when there are no credentials, sending nothing', async () => {
    const users = client({
      credentials: () => Promise.reject(new Error('no credentials')),
      breaker: new CircuitBreaker({ name: 'users', failureThreshold: 1 }),
    });
    await expect(users.get('profiles/me')).rejects.toThrow('no credentials');
    expect(users.breaker.state).toBe(BreakerState.CLOSED);
    expect(received).toHaveLength(0);
  });

  it.each([
    [{ baseUrl: 'not a url' }, /baseUrl must be an absolute http\(s\) URL, got "not a url"/],
    [{ baseUrl: 'ftp://example.com/' }, /baseUrl must be an absolute/],
    [{ baseUrl: 'https://example.com/v1?stage=x' }, /baseUrl must not have a query/],
    [{ timeoutMs: 0 }, /timeoutMs must be a finite number > 0, got 0/],
    [{ region: '' }, /region must be a non-empty string/],
    [
      { agent: new HttpsAgent() },
      /agent must be an http\.Agent for http:\/\/127\.0\.0\.1:\d+, got one for https:/,
    ],
  ])('fails for invalid options %p, naming the option', (options, message) => {
    expect(() => client(options)).toThrow(message);
  });
});

describe('ServiceClient responses', () => {
  it('returns a 404 instead of throwing, without retrying and without opening the breaker', async () => {
    handle = (_req, res) => answer(res, 404, { error: { code: 'PROFILE_NOT_FOUND' } });
    const users = client({ breaker: new CircuitBreaker({ name: 'users', failureThreshold: 2 }) });
    for (let i = 0; i < 3; i++) {
      const response = await users.get('profiles/nobody');
      expect(response.status).toBe(404);
      expect(response.body).toEqual({ error: { code: 'PROFILE_NOT_FOUND' } });
    }
    expect(received).toHaveLength(3);
    expect(users.breaker.state).toBe(BreakerState.CLOSED);
  });

  it('returns an empty body as undefined, a non-JSON body as text, and lower-cased headers', async () => {
    handle = (req, res) =>
      req.url?.endsWith('empty')
        ? answer(res, 204)
        : answer(res, 200, 'plain words', { 'content-type': 'text/plain', 'X-Request-Id': 'r-1' });
    await expect(client().get('empty')).resolves.toMatchObject({ status: 204, body: undefined });
    const text = await client().get('text');
    expect(text).toMatchObject({ status: 200, body: 'plain words' });
    expect(text.headers).toMatchObject({ 'content-type': 'text/plain', 'x-request-id': 'r-1' });
  });

  it('sends consecutive calls on one kept-alive connection, also across clients', async () => {
    await client().get('one');
    await client().request(HttpMethod.PUT, 'two', { body: { n: 2 } });
    await client().get('three');
    expect(received.map((r) => r.body)).toEqual(['', '{"n":2}', '']);
    expect(new Set(received.map((r) => r.clientPort)).size).toBe(1);
  });

  it('sends a request again on a fresh connection when a kept-alive one turns out closed, even a POST', async () => {
    const agent = new Agent({ keepAlive: true });
    const served = new WeakMap<object, number>();
    handle = (req, res) => {
      const count = served.get(req.socket) ?? 0;
      served.set(req.socket, count + 1);
      // The second request on a connection finds it closed, as after the server's idle timeout.
      if (count >= 1) req.socket.destroy();
      else answer(res, 200, { n: received.length });
    };
    const users = client({ agent, retry: { maxAttempts: 1 } });
    await expect(users.get('first')).resolves.toMatchObject({ status: 200 });
    const second = await users.request(HttpMethod.POST, 'second', { body: { n: 2 } });
    expect(second.status).toBe(200);
    expect(received.map((r) => r.url)).toEqual(['/v1/first', '/v1/second', '/v1/second']);
    expect(new Set(received.map((r) => r.clientPort)).size).toBe(2);
    agent.destroy();
  });

  it('does not send again when a fresh connection fails', async () => {
    handle = (req) => req.socket.destroy();
    const error = await client({ agent: new Agent({ keepAlive: true }), retry: { maxAttempts: 1 } })
      .request(HttpMethod.POST, 'once', { body: {} })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DependencyError);
    expect((error as Error).message).toMatch(/socket hang up/);
    expect(received).toHaveLength(1);
  });

  it('sends through the agent it is given', async () => {
    const agent = new Agent({ keepAlive: false });
    const created = jest.spyOn(agent, 'createConnection');
    await client({ agent }).get('one');
    await client({ agent }).get('two');
    expect(created).toHaveBeenCalledTimes(2);
    expect(new Set(received.map((r) => r.clientPort)).size).toBe(2);
    agent.destroy();
  });

  it('returns a redirect instead of following it', async () => {
    handle = (_req, res) => answer(res, 302, undefined, { location: '/v1/elsewhere' });
    const response = await client().get('moved');
    expect(response.status).toBe(302);
    expect(response.headers.location).toBe('/v1/elsewhere');
    expect(received.map((r) => r.url)).toEqual(['/v1/moved']);
  });

  it('succeeds after one retry when the server answers 503 and then 200', async () => {
    let calls = 0;
    handle = (_req, res) =>
      ++calls === 1 ? answer(res, 503, { message: 'busy' }) : answer(res, 200, { id: 7 });
    const retries: number[] = [];
    const users = client({
      retry: { sleep: () => Promise.resolve(), onRetry: (attempt) => retries.push(attempt) },
    });
    const response = await users.get('profiles/7');
    expect(response).toMatchObject({ status: 200, body: { id: 7 } });
    expect(received).toHaveLength(2);
    expect(retries).toEqual([1]);
    expect(users.breaker.state).toBe(BreakerState.CLOSED);
  });

  it('throws a retryable DependencyError with the status when every attempt answers 5xx', async () => {
    handle = (_req, res) => answer(res, 502);
    const error = await client({ retry: { maxAttempts: 2 } })
      .get('profiles/7')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DependencyError);
    expect(error).toMatchObject({ dependency: 'users', status: 502, retryable: true });
    expect(received).toHaveLength(2);
  });

  it('does not retry a POST that failed with 5xx, since it may have been processed', async () => {
    handle = (_req, res) => answer(res, 503);
    const error = await client()
      .request(HttpMethod.POST, 'orders', { body: { item: 'book' } })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 503, retryable: true });
    expect(received).toHaveLength(1);
  });

  it('turns a server that does not answer within timeoutMs into a retryable DependencyError', async () => {
    handle = () => undefined; // never answers
    const started = Date.now();
    const error = await client({ timeoutMs: 100, retry: { maxAttempts: 2 } })
      .get('slow')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DependencyError);
    expect(error).toMatchObject({ dependency: 'users', retryable: true, status: undefined });
    expect((error as Error).message).toMatch(/timed out after 100 ms/);
    expect(received).toHaveLength(2);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('turns a refused connection into a retryable DependencyError', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const error = await client({ baseUrl: `http://127.0.0.1:${port}/v1` })
      .get('profiles/me')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DependencyError);
    expect(error).toMatchObject({ retryable: true, status: undefined });
    expect((error as Error).message).toMatch(/failed/);
  });
});

describe('ServiceClient circuit breaker', () => {
  it('counts a call that failed after all its retries as one failure, and once OPEN sends nothing', async () => {
    handle = (_req, res) => answer(res, 503);
    const users = client({
      retry: { maxAttempts: 3 },
      breaker: new CircuitBreaker({ name: 'users', failureThreshold: 2, resetTimeoutMs: 60_000 }),
    });

    await expect(users.get('profiles/me')).rejects.toBeInstanceOf(DependencyError);
    expect(received).toHaveLength(3);
    expect(users.breaker.state).toBe(BreakerState.CLOSED);

    await expect(users.get('profiles/me')).rejects.toBeInstanceOf(DependencyError);
    expect(received).toHaveLength(6);
    expect(users.breaker.state).toBe(BreakerState.OPEN);

    const error = await users.get('profiles/me').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CircuitOpenError);
    expect(error).toMatchObject({ breaker: 'users' });
    expect(received).toHaveLength(6);
  });

  it('closes again when the half-open probe call succeeds', async () => {
    let time = 0;
    const users = client({
      retry: { maxAttempts: 1 },
      breaker: new CircuitBreaker({
        name: 'users',
        failureThreshold: 1,
        resetTimeoutMs: 1_000,
        now: () => time,
      }),
    });
    handle = (_req, res) => answer(res, 500);
    await expect(users.get('profiles/me')).rejects.toBeInstanceOf(DependencyError);
    expect(users.breaker.state).toBe(BreakerState.OPEN);
    time += 1_000;
    handle = (_req, res) => answer(res, 200, { ok: true });
    await expect(users.get('profiles/me')).resolves.toMatchObject({ status: 200 });
    expect(users.breaker.state).toBe(BreakerState.CLOSED);
    expect(received).toHaveLength(2);
  });

  it('creates a default breaker named after the client', () => {
    const users = client();
    expect(users.breaker).toBeInstanceOf(CircuitBreaker);
    expect(users.breaker.name).toBe('users');
    expect(users.breaker.state).toBe(BreakerState.CLOSED);
  });
});
