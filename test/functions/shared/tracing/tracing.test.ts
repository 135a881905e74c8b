import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod/mini';
import { apiEvent, lambdaContext } from '../../api-event';
import { busRecord, rawRecord, sqsEvent } from '../../sqs-event';
import { enterTracedLambda, FakeDaemon, newInvocationTrace, saveEnv, TRACING_ENV } from './fake-daemon';
import type { InvocationTrace, SegmentDocument } from './fake-daemon';
import type * as KitTypes from '../../../../functions/shared/index';

/**
 * The kit's tracing as it runs in a Lambda function with active tracing: Powertools Tracer and the X-Ray
 * SDK in its Lambda mode, sending to a fake daemon. They read the environment when loaded, so the kit is
 * imported in `beforeAll`, after the environment is set.
 */
type Kit = typeof KitTypes;

const TABLE = 'orders-test';
const HANDLER = 'index.handler';

let daemon: FakeDaemon;
let dynamo: Server;
let dynamoRequests: { operation: string; headers: IncomingHttpHeaders }[] = [];
let answer: () => { status: number; body: unknown };
let restoreEnv: () => void;
let kit: Kit;
let route: ReturnType<Kit['httpRoute']>;

const OrderPlaced = {
  type: 'OrderPlaced',
  version: 1,
  producer: 'orders',
  description: 'test',
  schema: z.object({ orderId: z.string() }),
};

beforeAll(async () => {
  restoreEnv = saveEnv([
    ...TRACING_ENV,
    'AWS_ENDPOINT_URL_DYNAMODB',
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
  ]);
  daemon = await FakeDaemon.start();
  dynamo = createServer((req, res) => {
    req.resume().on('end', () => {
      dynamoRequests.push({
        operation: String(req.headers['x-amz-target']).split('.').pop() ?? '',
        headers: req.headers,
      });
      const { status, body } = answer();
      res
        .writeHead(status, {
          'content-type': 'application/x-amz-json-1.0',
          'x-amzn-requestid': `REQ${dynamoRequests.length}`,
        })
        .end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => dynamo.listen(0, '127.0.0.1', resolve));
  process.env.AWS_ENDPOINT_URL_DYNAMODB = `http://127.0.0.1:${(dynamo.address() as AddressInfo).port}`;
  process.env.AWS_ACCESS_KEY_ID = 'AKIDTEST';
  process.env.AWS_SECRET_ACCESS_KEY = 'secret';
  enterTracedLambda(daemon, HANDLER);
  kit = await import('../../../../functions/shared/index');
  // A route as the services write them: a read through the shared document client, or a write, or a bug.
  route = kit.httpRoute({ authenticated: false }, async ({ queryParameters }) => {
    if (queryParameters.fail === 'true') throw new TypeError('order total is not a number');
    if (queryParameters.write === 'true') {
      await kit.documentClient.send(new PutCommand({ TableName: TABLE, Item: { pk: 'ORDER#1' } }));
      return { statusCode: 201 };
    }
    const { Item } = await kit.documentClient.send(
      new GetCommand({ TableName: TABLE, Key: { pk: 'ORDER#1' } }),
    );
    return { statusCode: 200, body: { item: Item } };
  });
});

afterAll(async () => {
  dynamo.closeAllConnections();
  await new Promise<void>((resolve) => dynamo.close(() => resolve()));
  await daemon.stop();
  restoreEnv();
});

beforeEach(() => {
  dynamoRequests = [];
  answer = () => ({ status: 200, body: { Item: { pk: { S: 'ORDER#1' }, total: { N: '42' } } } });
});

/** Starts an invocation the way Lambda does: a fresh trace header in the environment. */
function invocation(sampled = true): InvocationTrace {
  const trace = newInvocationTrace(sampled);
  process.env._X_AMZN_TRACE_ID = trace.header;
  return trace;
}

function byName(docs: SegmentDocument[], name: string): SegmentDocument {
  const found = docs.find((d) => d.name === name);
  if (!found) throw new Error(`no document named ${name} among ${docs.map((d) => d.name).join(', ')}`);
  return found;
}

function traceHeaderFields(header: string | string[] | undefined): Record<string, string> {
  return Object.fromEntries(
    String(header)
      .split(';')
      .map((field) => field.split('=') as [string, string]),
  );
}

describe('the kit in a Lambda function with active tracing', () => {
  it('has Powertools Tracer switched on, for the service the environment names', () => {
    expect(kit.tracer.isTracingEnabled()).toBe(true);
    expect(kit.tracer.isTraceSampled()).toBe(false); // no invocation yet
  });

  it('captures the shared DynamoDB client once, with the X-Ray SDK middleware in the build step', () => {
    const names = kit.documentClient.middlewareStack.identify().filter((m) => m.startsWith('XRaySDK'));
    expect(names).toEqual(['XRaySDKInstrumentation - build']);
  });
});

describe('a traced HTTP route that reads DynamoDB', () => {
  // First in this block: the first invocation of the environment is its cold start.
  it('sends the handler subsegment under Lambda’s segment, annotated with ColdStart, Service and correlationId', async () => {
    const trace = invocation();
    const result = await route(
      apiEvent({ path: '/orders/1', headers: { 'X-Correlation-Id': 'corr-1' } }),
      lambdaContext,
    );
    expect(result.statusCode).toBe(200);

    const root = byName(await daemon.documentsOf(trace.root, 2), `## ${HANDLER}`);
    expect(root).toMatchObject({
      type: 'subsegment',
      trace_id: trace.root,
      parent_id: trace.parent,
      annotations: { ColdStart: true, Service: 'test', correlationId: 'corr-1' },
    });
    expect(root.end_time).toBeGreaterThanOrEqual(root.start_time);
    expect(root).not.toHaveProperty('fault');
    // The response may carry personal data: it is not recorded as metadata.
    expect(root).not.toHaveProperty('metadata');
  });

  it('annotates later invocations with ColdStart false, and with the request id when no correlation id came', async () => {
    const trace = invocation();
    await route(apiEvent({ path: '/orders/1' }), lambdaContext);
    const root = byName(await daemon.documentsOf(trace.root, 2), `## ${HANDLER}`);
    expect(root.annotations).toEqual({ ColdStart: false, Service: 'test', correlationId: 'req-123' });
  });

  it('sends the DynamoDB call as an aws subsegment of the handler’s, and passes the trace on to DynamoDB', async () => {
    const trace = invocation();
    await route(apiEvent({ path: '/orders/1' }), lambdaContext);

    const docs = await daemon.documentsOf(trace.root, 2);
    const root = byName(docs, `## ${HANDLER}`);
    const call = byName(docs, 'DynamoDB');
    expect(call).toMatchObject({
      type: 'subsegment',
      trace_id: trace.root,
      parent_id: root.id,
      namespace: 'aws',
      aws: { operation: 'GetItem', region: 'eu-west-1', table_name: TABLE, request_id: 'REQ1' },
      http: { response: { status: 200 } },
    });
    expect(call).not.toHaveProperty('error');
    expect(call).not.toHaveProperty('fault');

    expect(dynamoRequests.map((r) => r.operation)).toEqual(['GetItem']);
    expect(traceHeaderFields(dynamoRequests[0].headers['x-amzn-trace-id'])).toEqual({
      Root: trace.root,
      Parent: call.id,
      Sampled: '1',
      Lineage: 'a87bd80c:1',
    });
  });

  it('flags a DynamoDB 400 as an error of the call with its remote cause, not a fault', async () => {
    answer = () => ({
      status: 400,
      body: {
        __type: 'com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException',
        message: 'The conditional request failed',
      },
    });
    const trace = invocation();
    const result = await route(apiEvent({ queryStringParameters: { write: 'true' } }), lambdaContext);
    expect(result.statusCode).toBe(500);

    const call = byName(await daemon.documentsOf(trace.root, 2), 'DynamoDB');
    expect(call).toMatchObject({
      error: true,
      aws: { operation: 'PutItem', table_name: TABLE },
      http: { response: { status: 400 } },
    });
    expect(call).not.toHaveProperty('throttle');
    expect(call.cause?.exceptions[0]).toMatchObject({
      type: 'ConditionalCheckFailedException',
      message: 'The conditional request failed',
      remote: true,
    });
  });

  it('records an unhandled error as the fault of the handler subsegment, while the client gets its 500', async () => {
    const trace = invocation();
    const result = await route(apiEvent({ queryStringParameters: { fail: 'true' } }), lambdaContext);
    expect(result.statusCode).toBe(500);

    const [root] = await daemon.documentsOf(trace.root, 1);
    expect(root).toMatchObject({ name: `## ${HANDLER}`, parent_id: trace.parent, fault: true });
    expect(root.cause?.exceptions).toEqual([
      expect.objectContaining({ type: 'TypeError', message: 'order total is not a number' }),
    ]);
  });

  it('sends nothing for an invocation Lambda did not sample, and tells DynamoDB so (Sampled=0)', async () => {
    const untraced = invocation(false);
    expect((await route(apiEvent(), lambdaContext)).statusCode).toBe(200);
    expect(traceHeaderFields(dynamoRequests[0].headers['x-amzn-trace-id'])).toMatchObject({
      Root: untraced.root,
      Sampled: '0',
    });

    // Datagrams on one loopback socket arrive in order: once a later traced invocation's documents are in,
    // the untraced one's would be too.
    const before = daemon.documents.length;
    const traced = invocation();
    await route(apiEvent(), lambdaContext);
    await daemon.documentsOf(traced.root, 2);
    expect(daemon.documents.slice(before).map((d) => d.trace_id)).toEqual([traced.root, traced.root]);
    expect(daemon.documents.some((d) => d.trace_id === untraced.root)).toBe(false);
  });
});

describe('a traced event consumer', () => {
  const envelope = (id: string, correlationId: string) => ({
    id,
    type: 'OrderPlaced',
    version: 1,
    source: 'shop.orders',
    occurredAt: '2026-11-21T10:00:00.000Z',
    correlationId,
    data: { orderId: `o-${id}` },
  });

  it('sends one subsegment per event under the handler’s, annotated with its correlation id and event id', async () => {
    const handled: string[] = [];
    const consumer = kit.eventConsumer(
      kit.on(OrderPlaced, async (event) => {
        handled.push(event.data.orderId);
        if (event.id === 'e-2') throw new Error('stock service down');
      }),
    );
    const trace = invocation();
    const result = await consumer(
      sqsEvent(
        busRecord('m-1', envelope('e-1', 'corr-a'), 'OrderPlaced'),
        busRecord('m-2', envelope('e-2', 'corr-b'), 'OrderPlaced'),
        rawRecord('m-3', 'not json'),
      ),
      lambdaContext,
    );
    expect(result.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(['m-2', 'm-3']);
    expect(handled.sort()).toEqual(['o-e-1', 'o-e-2']);

    const docs = await daemon.documentsOf(trace.root, 3);
    const root = byName(docs, `## ${HANDLER}`);
    expect(root).toMatchObject({
      parent_id: trace.parent,
      annotations: { ColdStart: false, Service: 'test' },
    });
    const events = docs
      .filter((d) => d.name === '### OrderPlaced')
      .sort((a, b) => String(a.annotations?.eventId).localeCompare(String(b.annotations?.eventId)));
    expect(events).toHaveLength(2);
    expect(events.map((d) => [d.parent_id, d.annotations, d.fault])).toEqual([
      [root.id, { correlationId: 'corr-a', eventId: 'e-1' }, undefined],
      [root.id, { correlationId: 'corr-b', eventId: 'e-2' }, true],
    ]);
    expect(events[1].cause?.exceptions[0]).toMatchObject({ type: 'Error', message: 'stock service down' });
  });
});
