import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { lambdaContext } from '../../api-event';
import { enterTracedLambda, FakeDaemon, newInvocationTrace, saveEnv, TRACING_ENV } from './fake-daemon';
import type { InvocationTrace, SegmentDocument } from './fake-daemon';
import type * as ServiceClientModuleTypes from '../../../../functions/shared/resilience/service-client';

/**
 * Trace-header propagation of `ServiceClient` under Powertools Tracer in a Lambda function with active
 * tracing. Tracer and X-Ray SDK read the environment when loaded, so the code under test is imported in
 * `beforeAll`, after the environment is set.
 */
type ServiceClientModule = typeof ServiceClientModuleTypes;

const HANDLER = 'index.handler';

let daemon: FakeDaemon;
let server: Server;
let baseUrl: string;
let received: IncomingHttpHeaders[] = [];
let handle: (req: IncomingMessage, res: ServerResponse) => void;
let restoreEnv: () => void;
let clients: ServiceClientModule;
/** A handler that makes one call (with its retries) to users and returns the status. */
let handler: (path: string, context: Context) => Promise<number>;

const users = () =>
  new clients.ServiceClient({
    name: 'users',
    baseUrl,
    region: 'eu-west-1',
    credentials: async () => ({ accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' }),
    retry: { maxAttempts: 2, sleep: () => Promise.resolve() },
  });

beforeAll(async () => {
  restoreEnv = saveEnv(TRACING_ENV);
  daemon = await FakeDaemon.start();
  server = createServer((req, res) => {
    received.push(req.headers);
    req.resume().on('end', () => handle(req, res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/`;
  enterTracedLambda(daemon, HANDLER);
  clients = await import('../../../../functions/shared/resilience/service-client');
  const { captureLambdaHandler, tracer } = await import('../../../../functions/shared/tracing');
  handler = middy(async (path: string, _context: Context) => (await users().get(path)).status).use(
    captureLambdaHandler(tracer),
  );
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await daemon.stop();
  restoreEnv();
});

beforeEach(() => {
  received = [];
  handle = (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"id":"c-1"}');
});

function invocation(sampled = true): InvocationTrace {
  const trace = newInvocationTrace(sampled);
  process.env._X_AMZN_TRACE_ID = trace.header;
  return trace;
}

function traceHeaderFields(header: string | string[] | undefined): Record<string, string> {
  return Object.fromEntries(
    String(header)
      .split(';')
      .map((field) => field.split('=') as [string, string]),
  );
}

function split(docs: SegmentDocument[]): { root: SegmentDocument; calls: SegmentDocument[] } {
  const root = docs.find((d) => d.name === `## ${HANDLER}`);
  if (!root) throw new Error('no handler subsegment');
  return { root, calls: docs.filter((d) => d !== root) };
}

describe('ServiceClient in a traced invocation', () => {
  it('sends the call as a remote subsegment and passes the trace on outside the signature', async () => {
    const trace = invocation();
    expect(await handler('customers/c-1?fields=email', lambdaContext)).toBe(200);

    const { root, calls } = split(await daemon.documentsOf(trace.root, 2));
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({
      name: 'users',
      namespace: 'remote',
      type: 'subsegment',
      trace_id: trace.root,
      parent_id: root.id,
      http: {
        request: { method: 'GET', url: `${baseUrl}customers/c-1` },
        response: { status: 200, content_length: '{"id":"c-1"}'.length },
      },
    });
    expect(calls[0]).not.toHaveProperty('error');
    expect(calls[0]).not.toHaveProperty('fault');

    expect(traceHeaderFields(received[0]['x-amzn-trace-id'])).toEqual({
      Root: trace.root,
      Parent: calls[0].id,
      Sampled: '1',
      Lineage: 'a87bd80c:1',
    });
    expect(String(received[0].authorization)).toMatch(/SignedHeaders=[a-z0-9;-]+,/);
    expect(String(received[0].authorization)).not.toMatch(/x-amzn-trace-id/);
  });

  it('gives each attempt its own subsegment and header: a 503 is a fault, its retry a success', async () => {
    let calls = 0;
    handle = (_req, res) => (++calls === 1 ? res.writeHead(503).end() : res.writeHead(200).end('{}'));
    const trace = invocation();
    expect(await handler('customers/c-1', lambdaContext)).toBe(200);

    const { root, calls: attempts } = split(await daemon.documentsOf(trace.root, 3));
    expect(attempts.map((a) => [a.http?.response?.status, a.fault])).toEqual([
      [503, true],
      [200, undefined],
    ]);
    expect(attempts.every((a) => a.parent_id === root.id)).toBe(true);
    expect(received.map((h) => traceHeaderFields(h['x-amzn-trace-id']).Parent)).toEqual(
      attempts.map((a) => a.id),
    );
  });

  it('flags a 404 answer as an error, not a fault', async () => {
    handle = (_req, res) => res.writeHead(404).end();
    const trace = invocation();
    expect(await handler('customers/nobody', lambdaContext)).toBe(404);
    const { calls } = split(await daemon.documentsOf(trace.root, 2));
    expect(calls[0]).toMatchObject({ error: true, http: { response: { status: 404 } } });
    expect(calls[0]).not.toHaveProperty('fault');
  });

  it('flags a 429 answer as a throttle', async () => {
    handle = (_req, res) => res.writeHead(429).end();
    const trace = invocation();
    await expect(handler('customers/c-1', lambdaContext)).rejects.toThrow(clients.DependencyError);
    const { calls } = split(await daemon.documentsOf(trace.root, 3));
    expect(calls).toHaveLength(2);
    for (const call of calls) expect(call).toMatchObject({ throttle: true, error: true });
  });

  it('records a connection failure as a fault with its cause', async () => {
    handle = (req) => req.socket.destroy();
    const trace = invocation();
    await expect(handler('customers/c-1', lambdaContext)).rejects.toThrow(clients.DependencyError);
    const { root, calls } = split(await daemon.documentsOf(trace.root, 3));
    expect(calls).toHaveLength(2);
    for (const call of calls) {
      expect(call).toMatchObject({ fault: true, http: { request: { method: 'GET' } } });
      expect(call.http?.response).toBeUndefined();
      expect(call.cause?.exceptions[0]).toMatchObject({ type: 'Error', message: 'socket hang up' });
    }
    expect(root).toMatchObject({ fault: true });
    expect(root.cause?.exceptions[0].type).toBe('DependencyError');
  });

  it('replaces a trace header the caller set, and keeps it out of the signature', async () => {
    const trace = invocation();
    const status = await handler('customers/c-1', lambdaContext);
    expect(status).toBe(200);
    expect(
      (await users().get('customers/c-1', { headers: { 'x-amzn-trace-id': 'Root=forged' } })).status,
    ).toBe(200);
    expect(traceHeaderFields(received[1]['x-amzn-trace-id']).Root).toBe(trace.root);
    expect(String(received[1].authorization)).not.toMatch(/x-amzn-trace-id/);
  });

  it('passes an unsampled invocation’s decision on (Sampled=0) and sends nothing to the daemon', async () => {
    const untraced = invocation(false);
    expect(await handler('customers/c-1', lambdaContext)).toBe(200);
    expect(traceHeaderFields(received[0]['x-amzn-trace-id'])).toMatchObject({
      Root: untraced.root,
      Sampled: '0',
      Lineage: 'a87bd80c:1',
    });
    const before = daemon.documents.length;
    const traced = invocation();
    await handler('customers/c-1', lambdaContext);
    await daemon.documentsOf(traced.root, 2);
    expect(daemon.documents.slice(before).every((d) => d.trace_id === traced.root)).toBe(true);
  });
});
