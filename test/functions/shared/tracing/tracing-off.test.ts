import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { apiEvent, lambdaContext } from '../../api-event';
import { FakeDaemon, newInvocationTrace, saveEnv, TRACING_ENV } from './fake-daemon';
import type * as KitTypes from '../../../../functions/shared/index';

/**
 * Where there is no X-Ray, Powertools Tracer must switch itself off: no subsegments, no trace headers, no
 * datagrams, and handlers that work as before. The local runtime runs bundles with Lambda's variables but
 * without `AWS_EXECUTION_ENV`; tests and operators switch tracing off with `POWERTOOLS_TRACE_ENABLED=false`.
 */
type Kit = typeof KitTypes;

let daemon: FakeDaemon;
let server: Server;
let baseUrl: string;
let received: IncomingHttpHeaders[] = [];
let restoreEnv: () => void;

beforeAll(async () => {
  restoreEnv = saveEnv(TRACING_ENV);
  daemon = await FakeDaemon.start();
  server = createServer((req, res) => {
    received.push(req.headers);
    req.resume().on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await daemon.stop();
  restoreEnv();
});

beforeEach(() => {
  received = [];
});

const ENVIRONMENTS: [string, Record<string, string | undefined>][] = [
  [
    'the local runtime (Lambda’s variables, no AWS_EXECUTION_ENV)',
    { LAMBDA_TASK_ROOT: process.cwd(), AWS_EXECUTION_ENV: undefined, POWERTOOLS_TRACE_ENABLED: undefined },
  ],
  [
    'a Lambda function with POWERTOOLS_TRACE_ENABLED=false',
    {
      LAMBDA_TASK_ROOT: process.cwd(),
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
      POWERTOOLS_TRACE_ENABLED: 'false',
    },
  ],
];

describe.each(ENVIRONMENTS)('in %s', (_name, environment) => {
  let kit: Kit;

  beforeAll(async () => {
    for (const [key, value] of Object.entries(environment)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    process.env.AWS_XRAY_DAEMON_ADDRESS = daemon.address;
    process.env._HANDLER = 'index.handler';
    await jest.isolateModulesAsync(async () => {
      kit = await import('../../../../functions/shared/index');
    });
  });

  it('switches the tracer off and leaves the shared DynamoDB client uninstrumented', () => {
    expect(kit.tracer.isTracingEnabled()).toBe(false);
    expect(kit.documentClient.middlewareStack.identify().filter((m) => m.startsWith('XRaySDK'))).toEqual([]);
  });

  it('runs routes and service calls without trace headers and sends nothing to a daemon', async () => {
    const trace = newInvocationTrace();
    process.env._X_AMZN_TRACE_ID = trace.header;
    const users = new kit.ServiceClient({
      name: 'users',
      baseUrl,
      region: 'eu-west-1',
      credentials: async () => ({ accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' }),
    });
    const route = kit.httpRoute({ authenticated: false }, async () => ({
      statusCode: 200,
      body: { status: (await users.get('customers/c-1')).status },
    }));

    const result = await route(apiEvent({ headers: { 'X-Correlation-Id': 'corr-1' } }), lambdaContext);
    expect(result).toMatchObject({ statusCode: 200, body: '{"status":200}' });
    expect(received).toHaveLength(1);
    expect(received[0]).not.toHaveProperty('x-amzn-trace-id');
    // Give a datagram that would have been sent time to arrive.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(daemon.datagrams).toEqual([]);
  });
});
