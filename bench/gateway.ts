/**
 * Benchmark section "local gateway": what the local API Gateway itself costs per request, apart from the
 * handlers, the function runner and the emulator: CPU of the gateway's process and latency of `GET` with a
 * token it has verified before, `POST` with a body validated against the orders model, and `GET` with a token
 * it has never seen (JWT signature verification). The handler is a stub answering at once; the pool's JWKS
 * comes from a stand-in server.
 *
 * The gateway runs in a process of its own (this file with `--serve`) so that its CPU is measured apart from
 * the load generator's. Try it alone with `npx tsx bench/gateway.ts [--quick]`.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createPrivateKey, generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LocalApiGateway } from '../local/api-gateway';
import type { LocalRoute, RouteAuthorization } from '../local/model';
import type { Budget, SectionResult } from './report';
import { runAlone } from './report';
import { fixed, percentile } from './stats';
import { RequestSchema } from '../lib/constructs/request-schema';
import { PlaceOrderInput } from '../functions/orders/domain/order';

/** The budget: the gateway's own CPU per request (stub handler), with a verified token. */
const MAX_CPU_MS_PER_REQUEST = 1;
const POOL = 'us-east-1_GatewayBench';
const CLIENT = 'bench-client';
const SCOPE = 'api/orders.read';
/** Requests per case before measuring (not measured). */
const WARM_UP = 500;
/** Routes besides the measured ones, so that routing has a table of a realistic size to search. */
const OTHER_ROUTES = 30;
/** The request model of POST /orders, as the constructs render it from PlaceOrderInput (CloudFormation's shape). */
const PLACE_ORDER_SCHEMA = (() => {
  const { schema, ...rest } = RequestSchema.fromZod(PlaceOrderInput);
  return { $schema: schema, ...rest };
})();
const ORDER_BODY = JSON.stringify({
  lines: Array.from({ length: 5 }, (_, i) => ({ sku: `SKU-${i + 1}`, quantity: i + 1 })),
});

type Case = 'GET, verified token' | 'POST, validated body' | 'GET, new token';

/** One measured case. */
interface Measured {
  readonly name: Case;
  readonly requests: number;
  readonly cpuMsPerRequest: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** Messages of the gateway process. */
type FromServer =
  | { readonly type: 'ready'; readonly port: number; readonly privateKey: string }
  | { readonly type: 'cpu'; readonly micros: number };

/**
 * Measures the local gateway alone.
 * @param options - `quick`: fewer requests
 */
export async function gatewaySection(options: { quick?: boolean } = {}): Promise<SectionResult> {
  const requests = options.quick ? 1_000 : 5_000;
  const newTokens = options.quick ? 200 : 1_000;
  const child = spawn(process.execPath, ['--import', 'tsx', __filename, '--serve'], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  try {
    const ready = await next(child, 'ready');
    const privateKey = createPrivateKey(ready.privateKey);
    const cpu = async () => (await ask(child, 'cpu')).micros;
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const send = (method: string, path: string, token: string, body?: string) =>
      new Promise<number>((resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port: ready.port,
            method,
            path,
            agent,
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    const verified = accessToken(privateKey);
    const plans: ReadonlyArray<{ name: Case; method: string; path: string; body?: string; count: number }> = [
      { name: 'GET, verified token', method: 'GET', path: '/orders/v1/orders/42', count: requests },
      {
        name: 'POST, validated body',
        method: 'POST',
        path: '/orders/orders',
        body: ORDER_BODY,
        count: requests,
      },
      { name: 'GET, new token', method: 'GET', path: '/orders/orders/42', count: newTokens },
    ];
    const results: Measured[] = [];
    for (const plan of plans) {
      const tokens =
        plan.name === 'GET, new token'
          ? Array.from({ length: plan.count }, () => accessToken(privateKey))
          : undefined;
      // Warm-up (not measured): the same kind of request.
      for (let i = 0; i < WARM_UP; i++) {
        const status = await send(
          plan.method,
          plan.path,
          tokens ? accessToken(privateKey) : verified,
          plan.body,
        );
        if (status !== 200) throw new Error(`${plan.name}: HTTP ${status} while warming up`);
      }
      const latencies: number[] = [];
      const before = await cpu();
      for (let i = 0; i < plan.count; i++) {
        const started = process.hrtime.bigint();
        const status = await send(plan.method, plan.path, tokens ? tokens[i] : verified, plan.body);
        latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
        if (status !== 200) throw new Error(`${plan.name}: HTTP ${status}`);
      }
      const micros = (await cpu()) - before;
      latencies.sort((a, b) => a - b);
      results.push({
        name: plan.name,
        requests: plan.count,
        cpuMsPerRequest: micros / 1000 / plan.count,
        p50Ms: percentile(latencies, 50),
        p99Ms: percentile(latencies, 99),
      });
      console.error(
        `[gateway] ${plan.name}: ${fixed(micros / 1000 / plan.count, 3)} ms CPU/request, ` +
          `p50 ${fixed(percentile(latencies, 50), 3)} ms`,
      );
    }
    agent.destroy();
    const budgets: Budget[] = results
      .filter((r) => r.name !== 'GET, new token')
      .map((r) => ({
        name: `local gateway CPU per request, ${r.name}`,
        limit: `≤ ${MAX_CPU_MS_PER_REQUEST} ms (stub handler)`,
        actual: `${fixed(r.cpuMsPerRequest, 3)} ms`,
        ok: r.cpuMsPerRequest <= MAX_CPU_MS_PER_REQUEST,
      }));
    return {
      id: 'gateway',
      title: 'Local gateway alone: CPU and latency per request (stub handler)',
      headers: ['Case', 'Requests', 'Gateway CPU ms/req', 'p50 ms', 'p99 ms'],
      rows: results.map((r) => [
        r.name,
        r.requests,
        fixed(r.cpuMsPerRequest, 3),
        fixed(r.p50Ms, 3),
        fixed(r.p99Ms, 3),
      ]),
      budgets,
      notes: [
        'The gateway (local/api-gateway.ts) runs in a process of its own with a stub handler that answers at once; ' +
          `${OTHER_ROUTES + 2} routes of one service, Cognito-authorized; the pool's JWKS from a stand-in server.`,
        `One client with one keep-alive connection sends the requests one after the other, after ${WARM_UP} warm-up ` +
          'requests per case; CPU is the gateway process’s user + system time over the case (process.cpuUsage), per request.',
        'GET, verified token: routing, a token the gateway has verified before (cached until it expires), scope check, ' +
          'proxy event. POST, validated body: the same plus the body (5 order lines) validated against the orders model. ' +
          'GET, new token: each request carries a token the gateway has not seen (RS256 signature verified with jose).',
      ],
      data: { results },
    };
  } finally {
    child.kill();
  }
}

function accessToken(privateKey: KeyObject): string {
  const now = Math.floor(Date.now() / 1000);
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const signed =
    `${b64({ alg: 'RS256', kid: 'k1' })}.` +
    b64({
      iss: `https://cognito-idp.us-east-1.amazonaws.com/${POOL}`,
      sub: randomUUID(),
      client_id: CLIENT,
      token_use: 'access',
      scope: SCOPE,
      iat: now,
      exp: now + 3600,
    });
  return `${signed}.${sign('RSA-SHA256', Buffer.from(signed), privateKey).toString('base64url')}`;
}

function next<T extends FromServer['type']>(
  child: ChildProcess,
  type: T,
): Promise<Extract<FromServer, { type: T }>> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: FromServer) => {
      if (message.type !== type) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(message as Extract<FromServer, { type: T }>);
    };
    const onExit = (code: number | null) => reject(new Error(`the gateway process exited (${code})`));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

function ask<T extends FromServer['type']>(
  child: ChildProcess,
  type: T,
): Promise<Extract<FromServer, { type: T }>> {
  const answer = next(child, type);
  child.send({ type });
  return answer;
}

/** The gateway process: a stand-in JWKS server and the gateway with a stub handler. */
async function serve(): Promise<void> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'RS256', use: 'sig' };
  const jwks = createServer((_req, res) =>
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })),
  );
  await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}`;
  const authorization: RouteAuthorization = { type: 'COGNITO_USER_POOLS', userPoolId: POOL, scopes: [SCOPE] };
  const route = (method: string, resourcePath: string, extra: Partial<LocalRoute> = {}): LocalRoute => ({
    service: 'orders',
    method,
    resourcePath,
    authorization,
    functionKey: `${method} ${resourcePath}`,
    requiredParameters: [],
    validateBody: false,
    stage: 'v1',
    ...extra,
  });
  const routes = [
    ...Array.from({ length: OTHER_ROUTES }, (_, i) => route(i % 2 ? 'GET' : 'PUT', `/things${i}/{id}`)),
    route('GET', '/orders/{id}', { requiredParameters: ['method.request.path.id'] }),
    route('POST', '/orders', { requestSchema: PLACE_ORDER_SCHEMA, validateBody: true }),
  ];
  const gateway = new LocalApiGateway({
    routes,
    gatewayResponses: [],
    identity: { userPoolId: POOL, userPoolClientId: CLIENT, groups: [] },
    emulator: { endpoint, region: 'us-east-1', accessKeyId: 'bench', secretAccessKey: 'bench' },
    invoke: async () => ({ statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{}' }),
    port: 0,
  });
  const { port } = await gateway.start();
  const send = (message: FromServer) => process.send?.(message);
  process.on('message', (message: { type: string }) => {
    if (message.type === 'cpu') {
      const { user, system } = process.cpuUsage();
      send({ type: 'cpu', micros: user + system });
    }
  });
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready', port, privateKey: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() });
}

if (require.main === module) {
  if (process.argv.includes('--serve')) {
    serve().catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
  } else {
    runAlone(gatewaySection({ quick: process.argv.includes('--quick') }));
  }
}
