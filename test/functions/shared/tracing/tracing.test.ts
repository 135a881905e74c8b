import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { Socket } from 'node:dgram';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { documentClient } from '../../../../functions/shared/dynamodb';
import { eventConsumer } from '../../../../functions/shared/events/consumer';
import { httpRoute } from '../../../../functions/shared/http';
import { traceAwsClient, withTracing } from '../../../../functions/shared/tracing';
import { apiEvent, lambdaContext } from '../../api-event';
import { rawRecord, sqsEvent } from '../../sqs-event';
import { DATAGRAM_HEADER, FakeDaemon, newInvocationTrace, saveEnv, TRACING_ENV } from './fake-daemon';
import type { InvocationTrace, SegmentDocument } from './fake-daemon';

const TABLE = 'orders-test';
const HANDLER = 'index.handler';

interface DynamoRequest {
  readonly operation: string;
  readonly headers: IncomingHttpHeaders;
}

interface DynamoAnswer {
  readonly status: number;
  readonly body: unknown;
}

let daemon: FakeDaemon;
let dynamo: Server;
let dynamoRequests: DynamoRequest[] = [];
let answer: (operation: string) => DynamoAnswer;

/** DynamoDB's JSON error answer: `status` with the exception type and message. */
const dynamoError = (status: number, type: string, message: string): DynamoAnswer => ({
  status,
  body: { __type: `com.amazonaws.dynamodb.v20120810#${type}`, message },
});
let documents: DynamoDBDocumentClient;
let restoreEnv: () => void;

/** A route as the services write them: one DynamoDB read or a conditional write. */
const handler = httpRoute({ authenticated: false }, async ({ queryParameters }) => {
  if (queryParameters.write === 'true') {
    await documents.send(
      new PutCommand({
        TableName: TABLE,
        Item: { pk: 'ORDER#1' },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    return { statusCode: 201 };
  }
  const { Item } = await documents.send(new GetCommand({ TableName: TABLE, Key: { pk: 'ORDER#1' } }));
  return { statusCode: 200, body: { item: Item } };
});

beforeAll(async () => {
  restoreEnv = saveEnv(TRACING_ENV);
  daemon = await FakeDaemon.start();
  dynamo = createServer((req, res) => {
    req.resume().on('end', () => {
      const operation = String(req.headers['x-amz-target']).split('.').pop() ?? '';
      dynamoRequests.push({ operation, headers: req.headers });
      const { status, body } = answer(operation);
      const text = JSON.stringify(body);
      res
        .writeHead(status, {
          'content-type': 'application/x-amz-json-1.0',
          'content-length': String(Buffer.byteLength(text)),
          'x-amzn-requestid': `REQ${dynamoRequests.length}`,
        })
        .end(text);
    });
  });
  await new Promise<void>((resolve) => dynamo.listen(0, '127.0.0.1', resolve));
  const client = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${(dynamo.address() as AddressInfo).port}`,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' },
    maxAttempts: 2,
  });
  documents = DynamoDBDocumentClient.from(traceAwsClient(client));
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
  process.env.AWS_XRAY_DAEMON_ADDRESS = daemon.address;
  process.env._HANDLER = HANDLER;
  delete process.env.POWERTOOLS_TRACE_ENABLED;
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

describe('a traced HTTP route that reads DynamoDB', () => {
  it('sends the handler subsegment under Lambda’s segment, annotated with ColdStart, Service and correlationId', async () => {
    const trace = invocation();
    const result = await handler(
      apiEvent({ path: '/orders/1', headers: { 'X-Correlation-Id': 'corr-1' } }),
      lambdaContext,
    );
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body)).toEqual({ item: { pk: 'ORDER#1', total: 42 } });

    const docs = await daemon.documentsOf(trace.root, 2);
    const root = byName(docs, `## ${HANDLER}`);
    expect(root).toMatchObject({
      type: 'subsegment',
      trace_id: trace.root,
      parent_id: trace.parent,
      annotations: { ColdStart: true, Service: 'test', correlationId: 'corr-1' },
    });
    expect(root.id).toMatch(/^[0-9a-f]{16}$/);
    expect(root.end_time).toBeGreaterThanOrEqual(root.start_time);
    expect(root.start_time).toBeGreaterThan(Date.now() / 1000 - 60);
    expect(root).not.toHaveProperty('fault');
    expect(root).not.toHaveProperty('in_progress');
  });

  it('sends the DynamoDB call as an aws subsegment of the handler’s, and passes the trace on to DynamoDB', async () => {
    const trace = invocation();
    await handler(apiEvent({ path: '/orders/1' }), lambdaContext);

    const docs = await daemon.documentsOf(trace.root, 2);
    const root = byName(docs, `## ${HANDLER}`);
    const call = byName(docs, 'DynamoDB');
    expect(call).toMatchObject({
      type: 'subsegment',
      trace_id: trace.root,
      parent_id: root.id,
      namespace: 'aws',
      aws: { operation: 'GetItem', region: 'eu-west-1', table_name: TABLE, request_id: 'REQ1', retries: 0 },
      http: { response: { status: 200 } },
    });
    expect(call.http?.response?.content_length).toBeGreaterThan(0);
    expect(call).not.toHaveProperty('error');
    expect(call).not.toHaveProperty('fault');
    expect(call.start_time).toBeGreaterThanOrEqual(root.start_time);
    expect(call.end_time).toBeLessThanOrEqual(root.end_time!);

    expect(dynamoRequests).toHaveLength(1);
    expect(dynamoRequests[0].operation).toBe('GetItem');
    expect(traceHeaderFields(dynamoRequests[0].headers['x-amzn-trace-id'])).toEqual({
      Root: trace.root,
      Parent: call.id,
      Sampled: '1',
      Lineage: 'a87bd80c:1',
    });
  });

  it('frames every document as the daemon protocol says: the format line, then the JSON document', async () => {
    const trace = invocation();
    const before = daemon.datagrams.length;
    await handler(apiEvent(), lambdaContext);
    await daemon.documentsOf(trace.root, 2);
    const datagrams = daemon.datagrams.slice(before);
    expect(datagrams).toHaveLength(2);
    for (const datagram of datagrams) {
      const [header, body] = datagram.split('\n');
      expect(header).toBe(DATAGRAM_HEADER);
      expect(JSON.parse(body).trace_id).toBe(trace.root);
    }
  });

  it('returns only once its documents have left the socket, since Lambda freezes the process right after', async () => {
    const send = Socket.prototype.send as (...args: unknown[]) => void;
    let unsent = 0;
    // Hold back each send's completion a little, so that a handler not waiting for it would return first.
    const spy = jest.spyOn(Socket.prototype, 'send').mockImplementation(function (this: Socket, ...args) {
      const callback = args.pop() as (error: Error | null, bytes: number) => void;
      unsent += 1;
      send.call(this, ...args, (error: Error | null, bytes: number) =>
        setTimeout(() => {
          unsent -= 1;
          callback(error, bytes);
        }, 50),
      );
    });
    try {
      const trace = invocation();
      await handler(apiEvent(), lambdaContext);
      expect(spy).toHaveBeenCalledTimes(2);
      expect(unsent).toBe(0);
      await daemon.documentsOf(trace.root, 2);
    } finally {
      spy.mockRestore();
    }
  });

  it('annotates later invocations with ColdStart false', async () => {
    const trace = invocation();
    await handler(apiEvent(), lambdaContext);
    const root = byName(await daemon.documentsOf(trace.root, 2), `## ${HANDLER}`);
    expect(root.annotations).toMatchObject({ ColdStart: false, Service: 'test' });
  });

  it('flags a conditional-check failure (400) as an error with its cause, not a fault', async () => {
    answer = () => dynamoError(400, 'ConditionalCheckFailedException', 'The conditional request failed');
    const trace = invocation();
    const result = await handler(
      apiEvent({ method: 'POST', queryStringParameters: { write: 'true' } }),
      lambdaContext,
    );
    expect(result.statusCode).toBe(500); // the route does not map it, so httpRoute answers 500

    const call = byName(await daemon.documentsOf(trace.root, 2), 'DynamoDB');
    expect(call).toMatchObject({
      error: true,
      aws: { operation: 'PutItem', table_name: TABLE, request_id: 'REQ1', retries: 0 },
      http: { response: { status: 400 } },
    });
    expect(call).not.toHaveProperty('fault');
    expect(call).not.toHaveProperty('throttle');
    expect(call.cause?.exceptions).toEqual([
      expect.objectContaining({
        type: 'ConditionalCheckFailedException',
        message: 'The conditional request failed',
        remote: true,
      }),
    ]);
  });

  it('flags DynamoDB throttling (400 ProvisionedThroughputExceededException) as throttle and error', async () => {
    answer = () =>
      dynamoError(
        400,
        'ProvisionedThroughputExceededException',
        'Rate of requests exceeds the allowed throughput',
      );
    const trace = invocation();
    await handler(apiEvent(), lambdaContext);
    const call = byName(await daemon.documentsOf(trace.root, 2), 'DynamoDB');
    expect(call).toMatchObject({ throttle: true, error: true, aws: { retries: 1 } });
    expect(call).not.toHaveProperty('fault');
  });

  it('flags a 500 as a fault, in one subsegment whose retries count the attempts, each sent with its trace', async () => {
    answer = () => dynamoError(500, 'InternalServerError', 'Internal server error');
    const trace = invocation();
    const result = await handler(apiEvent(), lambdaContext);
    expect(result.statusCode).toBe(500);

    const docs = await daemon.documentsOf(trace.root, 2);
    const calls = docs.filter((d) => d.name === 'DynamoDB');
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({
      fault: true,
      http: { response: { status: 500 } },
      aws: { operation: 'GetItem', retries: 1, request_id: 'REQ2' },
      cause: { exceptions: [expect.objectContaining({ type: 'InternalServerError', remote: true })] },
    });
    expect(dynamoRequests).toHaveLength(2);
    for (const request of dynamoRequests) {
      expect(traceHeaderFields(request.headers['x-amzn-trace-id']).Parent).toBe(calls[0].id);
    }
  });

  it('records an error the handler throws as a fault of its subsegment, with the cause, and rethrows it', async () => {
    const failing = withTracing(
      middy(async (_event: unknown, _context: Context): Promise<void> => {
        throw new TypeError('order total is not a number');
      }),
    );
    const trace = invocation();
    await expect(failing({}, lambdaContext)).rejects.toThrow('order total is not a number');

    const [root] = await daemon.documentsOf(trace.root, 1);
    expect(root).toMatchObject({ name: `## ${HANDLER}`, parent_id: trace.parent, fault: true });
    expect(root.cause?.exceptions).toHaveLength(1);
    const [exception] = root.cause!.exceptions;
    expect(exception).toMatchObject({ type: 'TypeError', message: 'order total is not a number' });
    expect(exception.id).toMatch(/^[0-9a-f]{16}$/);
    expect(exception.remote).toBeUndefined();
    expect(exception.stack?.[0].path).toMatch(/tracing\.test\.ts$/);
  });

  it('traces event consumers the same way', async () => {
    const consumer = eventConsumer();
    const trace = invocation();
    const result = await consumer(sqsEvent(rawRecord('m-1', 'not json')), lambdaContext);
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'm-1' }]);
    const [root] = await daemon.documentsOf(trace.root, 1);
    expect(root).toMatchObject({
      name: `## ${HANDLER}`,
      parent_id: trace.parent,
      annotations: { Service: 'test' },
    });
  });
});

describe('an invocation that is not traced', () => {
  /**
   * Proves that nothing was sent for `untraced`: a traced invocation runs after it, and datagrams on one
   * loopback socket arrive in order, so once the traced one's documents are in, the untraced one's would be.
   */
  async function expectNothingSentFor(untraced: InvocationTrace): Promise<void> {
    const before = daemon.documents.length;
    const traced = invocation();
    await handler(apiEvent(), lambdaContext);
    await daemon.documentsOf(traced.root, 2);
    const sent = daemon.documents.slice(before);
    expect(sent.map((d) => d.trace_id)).toEqual([traced.root, traced.root]);
    expect(daemon.documents.some((d) => d.trace_id === untraced.root)).toBe(false);
  }

  it('sends nothing and adds no trace header when Lambda did not sample it (Sampled=0)', async () => {
    const untraced = invocation(false);
    const result = await handler(apiEvent(), lambdaContext);
    expect(result.statusCode).toBe(200);
    expect(dynamoRequests).toHaveLength(1);
    expect(dynamoRequests[0].headers['x-amzn-trace-id']).toBeUndefined();
    await expectNothingSentFor(untraced);
  });

  it('sends nothing when there is no daemon address', async () => {
    const untraced = invocation();
    delete process.env.AWS_XRAY_DAEMON_ADDRESS;
    const result = await handler(apiEvent(), lambdaContext);
    expect(result.statusCode).toBe(200);
    expect(dynamoRequests[0].headers['x-amzn-trace-id']).toBeUndefined();
    process.env.AWS_XRAY_DAEMON_ADDRESS = daemon.address;
    await expectNothingSentFor(untraced);
  });

  it('sends nothing when tracing is switched off with POWERTOOLS_TRACE_ENABLED=false', async () => {
    const untraced = invocation();
    process.env.POWERTOOLS_TRACE_ENABLED = 'false';
    const result = await handler(apiEvent(), lambdaContext);
    expect(result.statusCode).toBe(200);
    delete process.env.POWERTOOLS_TRACE_ENABLED;
    await expectNothingSentFor(untraced);
  });

  it('works without any trace header at all', async () => {
    delete process.env._X_AMZN_TRACE_ID;
    const before = daemon.documents.length;
    const result = await handler(apiEvent(), lambdaContext);
    expect(result.statusCode).toBe(200);
    expect(dynamoRequests[0].headers['x-amzn-trace-id']).toBeUndefined();
    const traced = invocation();
    await handler(apiEvent(), lambdaContext);
    await daemon.documentsOf(traced.root, 2);
    expect(daemon.documents.slice(before).every((d) => d.trace_id === traced.root)).toBe(true);
  });
});

describe('the shared document client', () => {
  it('is instrumented once, in the build step', () => {
    const names = documentClient.middlewareStack
      .identify()
      .filter((m) => m.startsWith('xrayTracingMiddleware'));
    expect(names).toEqual(['xrayTracingMiddleware - build']);
  });

  it('keeps one middleware when a client is instrumented twice', () => {
    const client = traceAwsClient(traceAwsClient(new DynamoDBClient({ region: 'eu-west-1' })));
    const names = client.middlewareStack.identify().filter((m) => m.startsWith('xrayTracingMiddleware'));
    expect(names).toHaveLength(1);
  });
});
