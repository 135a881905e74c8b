import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  DeleteItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  CreateEventBusCommand,
  EventBridgeClient,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { EnvelopeSchema } from '../../functions/shared/events/envelope';
import { outboxInputTemplate, TransactionalOutbox } from '../../lib/constructs/transactional-outbox';
import type { EmulatorEndpoint, LocalPipe } from '../../local/model';
import {
  matchesPattern,
  OutboxPipe,
  renderInputTemplate,
  resolvePath,
  validatePattern,
} from '../../local/outbox-pipe';
import type { Moto } from '../support/moto';
import { startMoto } from '../support/moto';
import { newImageOf, renderPipeTemplate } from '../support/pipe';

const SOURCE = 'shop.orders';
const EVENT_TYPES = ['OrderPlaced', 'OrderCancelled'];

/** The pipe's filter, template, source and detail-type exactly as the TransactionalOutbox construct writes them. */
function synthesizedPipe(): Pick<LocalPipe, 'filterPatterns' | 'inputTemplate' | 'source' | 'detailType'> {
  const stack = new Stack(new App(), 'Outbox');
  const table = new dynamodb.Table(stack, 'Table', {
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    stream: dynamodb.StreamViewType.NEW_IMAGE,
  });
  new TransactionalOutbox(stack, 'Outbox', {
    table,
    eventBus: new events.EventBus(stack, 'Bus'),
    source: SOURCE,
    eventTypes: EVENT_TYPES,
    encryptionKey: new kms.Key(stack, 'Key'),
  });
  const [pipe] = Object.values(Template.fromStack(stack).findResources('AWS::Pipes::Pipe')) as Array<{
    Properties: {
      SourceParameters: { FilterCriteria: { Filters: Array<{ Pattern: string }> } };
      TargetParameters: {
        InputTemplate: string;
        EventBridgeEventBusParameters: { Source: string; DetailType: string };
      };
    };
  }>;
  const { SourceParameters, TargetParameters } = pipe.Properties;
  return {
    filterPatterns: SourceParameters.FilterCriteria.Filters.map(
      (f) => JSON.parse(f.Pattern) as Record<string, unknown>,
    ),
    inputTemplate: TargetParameters.InputTemplate,
    source: TargetParameters.EventBridgeEventBusParameters.Source,
    detailType: TargetParameters.EventBridgeEventBusParameters.DetailType,
  };
}

describe('EventBridge pattern matching', () => {
  const record = {
    eventName: 'INSERT',
    dynamodb: { NewImage: { itemType: { S: 'OUTBOX' }, eventType: { S: 'OrderPlaced' }, n: { N: '5' } } },
    tags: ['a', 'b'],
    count: 7,
    nothing: null,
  };

  it.each([
    [{ eventName: ['INSERT'] }, true],
    [{ eventName: ['MODIFY', 'INSERT'] }, true],
    [{ eventName: ['MODIFY'] }, false],
    [{ dynamodb: { NewImage: { itemType: { S: ['OUTBOX'] }, eventType: { S: ['OrderPlaced'] } } } }, true],
    [{ dynamodb: { NewImage: { itemType: { S: ['ORDER'] } } } }, false],
    [{ dynamodb: { NewImage: { eventType: { S: [{ prefix: 'Order' }] } } } }, true],
    [{ dynamodb: { NewImage: { eventType: { S: [{ prefix: 'Payment' }] } } } }, false],
    [{ dynamodb: { NewImage: { eventType: { S: [{ suffix: 'Placed' }] } } } }, true],
    [{ dynamodb: { NewImage: { eventId: { S: [{ exists: false }] } } } }, true],
    [{ dynamodb: { NewImage: { eventId: { S: [{ exists: true }] } } } }, false],
    [{ dynamodb: { NewImage: { eventType: { S: [{ exists: true }] } } } }, true],
    [{ dynamodb: { OldImage: { eventType: { S: [{ exists: false }] } } } }, true],
    // exists matches leaves only.
    [{ dynamodb: [{ exists: true }] }, false],
    [{ eventName: [{ 'anything-but': 'REMOVE' }] }, true],
    [{ eventName: [{ 'anything-but': ['REMOVE', 'INSERT'] }] }, false],
    [{ eventName: [{ 'anything-but': { prefix: 'IN' } }] }, false],
    [{ eventName: [{ 'equals-ignore-case': 'insert' }] }, true],
    [{ tags: ['b'] }, true],
    [{ tags: ['c'] }, false],
    [{ count: [7] }, true],
    [{ count: ['7'] }, false],
    [{ count: [{ numeric: ['>', 5, '<=', 7] }] }, true],
    [{ count: [{ numeric: ['<', 5] }] }, false],
    [{ nothing: [null] }, true],
    [{ missing: [null] }, false],
    [{}, true],
  ])('%j → %s', (pattern, expected) => {
    expect(matchesPattern(pattern as Record<string, unknown>, record)).toBe(expected);
  });

  it('rejects patterns using operators it does not implement', () => {
    expect(() => validatePattern({ a: [{ wildcard: '*x' }] })).toThrow(/Unsupported pattern operator/);
    expect(() => validatePattern({ a: 'INSERT' })).toThrow(/must be an array or an object/);
    expect(() => validatePattern({ a: { b: [{ prefix: 'x' }, 'y'] } })).not.toThrow();
  });
});

describe('input templates and JSON paths', () => {
  it('renders the outbox template like the test renderer does, escaping string values', () => {
    const item = {
      pk: 'OUTBOX#1',
      itemType: 'OUTBOX',
      eventId: 'e-1',
      eventType: 'OrderPlaced',
      eventVersion: 2,
      eventSource: SOURCE,
      occurredAt: '2026-01-02T03:04:05.000Z',
      correlationId: 'c-"quoted"',
      data: JSON.stringify({ orderId: 'o-1', note: 'line\nbreak "x"' }),
    };
    const template = outboxInputTemplate();
    const newImage = newImageOf(item);
    const rendered = renderInputTemplate(template, { dynamodb: { NewImage: newImage } }, { pipeName: 'p' });
    expect(rendered).toBe(renderPipeTemplate(template, newImage));
    expect(JSON.parse(rendered)).toEqual({
      id: 'e-1',
      type: 'OrderPlaced',
      version: '2',
      source: SOURCE,
      occurredAt: '2026-01-02T03:04:05.000Z',
      correlationId: 'c-"quoted"',
      data: item.data,
    });
  });

  it('inserts JSON outside quotes, and knows the reserved variables', () => {
    const event = { a: { b: [1, { c: 'x' }] }, s: 'text' };
    const template =
      '{"whole": <$.a>, "n": <$.a.b[0]>, "str": "<$.a.b[1]>", "missing": <$.nope>, "name": "<aws.pipes.pipe-name>", "e": <aws.pipes.event>, "lt": "a < b > c", "esc": "\\"<$.s>\\""}';
    expect(JSON.parse(renderInputTemplate(template, event, { pipeName: 'outbox' }))).toEqual({
      whole: { b: [1, { c: 'x' }] },
      n: 1,
      str: '{"c":"x"}',
      missing: null,
      name: 'outbox',
      e: event,
      lt: 'a < b > c',
      esc: '"text"',
    });
  });

  it('resolves JSON paths', () => {
    const data = { dynamodb: { NewImage: { eventType: { S: 'OrderPlaced' } } }, list: [{ x: 1 }] };
    expect(resolvePath('$.dynamodb.NewImage.eventType.S', data)).toBe('OrderPlaced');
    expect(resolvePath("$.list[0]['x']", data)).toBe(1);
    expect(resolvePath('$', data)).toBe(data);
    expect(resolvePath('$.nope.deeper', data)).toBeUndefined();
    expect(() => resolvePath('$..x', data)).toThrow(/Unsupported JSON path/);
  });
});

describe('OutboxPipe (against moto)', () => {
  let moto: Moto;
  let emulator: EmulatorEndpoint;
  let dynamo: DynamoDBClient;
  let sqs: SQSClient;
  let eventBridge: EventBridgeClient;
  let synthesized: ReturnType<typeof synthesizedPipe>;
  let counter = 0;
  const logs: string[] = [];

  beforeAll(async () => {
    moto = await startMoto();
    emulator = {
      endpoint: moto.endpoint,
      region: 'us-east-1',
      accessKeyId: 'testing',
      secretAccessKey: 'testing',
    };
    const config = {
      endpoint: moto.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    };
    dynamo = new DynamoDBClient(config);
    sqs = new SQSClient(config);
    eventBridge = new EventBridgeClient(config);
    synthesized = synthesizedPipe();
  });

  afterAll(async () => {
    for (const client of [dynamo, sqs, eventBridge]) client?.destroy();
    await moto?.stop();
  });

  /** A table with a NEW_IMAGE stream, a bus whose rule sends the service's events to a queue, and a DLQ. */
  async function outboxSystem(): Promise<{ pipe: LocalPipe; targetQueueUrl: string }> {
    const n = ++counter;
    const tableName = `orders-${n}`;
    await dynamo.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' },
      }),
    );
    const { Table } = await dynamo.send(new DescribeTableCommand({ TableName: tableName }));
    const eventBusName = `shop-${n}`;
    await eventBridge.send(new CreateEventBusCommand({ Name: eventBusName }));
    const targetQueueUrl = await queue(`subscriber-${n}`);
    await eventBridge.send(
      new PutRuleCommand({
        Name: `orders-to-subscriber-${n}`,
        EventBusName: eventBusName,
        EventPattern: JSON.stringify({ source: [SOURCE] }),
      }),
    );
    await eventBridge.send(
      new PutTargetsCommand({
        Rule: `orders-to-subscriber-${n}`,
        EventBusName: eventBusName,
        Targets: [{ Id: 'queue', Arn: await arnOf(targetQueueUrl) }],
      }),
    );
    return {
      targetQueueUrl,
      pipe: {
        name: `outbox-${n}`,
        tableName,
        streamArn: Table!.LatestStreamArn!,
        ...synthesized,
        eventBusName,
        batchSize: 10,
        maximumRetryAttempts: 2,
        deadLetterQueueUrl: await queue(`outbox-dlq-${n}`),
      },
    };
  }

  async function queue(name: string): Promise<string> {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
    return QueueUrl!;
  }

  async function arnOf(queueUrl: string): Promise<string> {
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
    );
    return Attributes!.QueueArn!;
  }

  async function bodies(queueUrl: string): Promise<Array<Record<string, unknown>>> {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 0 }),
    );
    return Messages.map((m) => JSON.parse(m.Body!) as Record<string, unknown>);
  }

  function outboxItem(eventId: string, eventType: string): Record<string, AttributeValue> {
    return newImageOf({
      pk: `OUTBOX#${eventId}`,
      itemType: 'OUTBOX',
      eventId,
      eventType,
      eventVersion: 1,
      eventSource: SOURCE,
      occurredAt: '2026-01-02T03:04:05.000Z',
      correlationId: `corr-${eventId}`,
      data: JSON.stringify({ orderId: `order-${eventId}`, total: 12.5 }),
      expiresAt: 1_900_000_000,
    });
  }

  async function put(tableName: string, item: Record<string, AttributeValue>): Promise<void> {
    await dynamo.send(new PutItemCommand({ TableName: tableName, Item: item }));
  }

  it('puts only outbox INSERTs of the declared types on the bus, as envelopes with source and detail-type', async () => {
    const { pipe, targetQueueUrl } = await outboxSystem();
    await put(pipe.tableName, outboxItem('e-1', 'OrderPlaced'));
    await put(pipe.tableName, outboxItem('e-2', 'InternalNote')); // not a declared event type
    await put(pipe.tableName, newImageOf({ pk: 'ORDER#1', itemType: 'ORDER', eventType: 'OrderPlaced' }));
    await dynamo.send(
      new UpdateItemCommand({
        TableName: pipe.tableName,
        Key: { pk: { S: 'OUTBOX#e-1' } },
        UpdateExpression: 'SET publishedNote = :x',
        ExpressionAttributeValues: { ':x': { S: 'MODIFY must not be published' } },
      }),
    );
    await put(pipe.tableName, outboxItem('e-3', 'OrderCancelled'));

    const outboxPipe = new OutboxPipe(pipe, emulator, { log: (l) => logs.push(l) });
    expect(await outboxPipe.poll()).toEqual({ read: 5, delivered: 2, deadLettered: 0 });

    const delivered = await bodies(targetQueueUrl);
    expect(delivered).toHaveLength(2);
    const byType = Object.fromEntries(delivered.map((e) => [e['detail-type'], e]));
    expect(Object.keys(byType).sort()).toEqual(['OrderCancelled', 'OrderPlaced']);
    const placed = byType.OrderPlaced;
    expect(placed.source).toBe(SOURCE);
    expect(placed.detail).toEqual({
      id: 'e-1',
      type: 'OrderPlaced',
      version: '1',
      source: SOURCE,
      occurredAt: '2026-01-02T03:04:05.000Z',
      correlationId: 'corr-e-1',
      data: JSON.stringify({ orderId: 'order-e-1', total: 12.5 }),
    });
    const envelope = EnvelopeSchema.parse(placed.detail);
    expect(envelope).toMatchObject({ version: 1, data: { orderId: 'order-e-1', total: 12.5 } });

    // The next poll continues after the last record read.
    expect(await outboxPipe.pollOnce()).toBe(0);
    await put(pipe.tableName, outboxItem('e-4', 'OrderPlaced'));
    expect(await outboxPipe.poll()).toEqual({ read: 1, delivered: 1, deadLettered: 0 });
    await outboxPipe.stop();
  });

  it('does not deliver an outbox INSERT whose item is no longer in the table (a write moto later undid)', async () => {
    const { pipe, targetQueueUrl } = await outboxSystem();
    await put(pipe.tableName, outboxItem('e-undone', 'OrderPlaced'));
    await dynamo.send(
      new DeleteItemCommand({ TableName: pipe.tableName, Key: { pk: { S: 'OUTBOX#e-undone' } } }),
    );
    await put(pipe.tableName, outboxItem('e-committed', 'OrderPlaced'));

    const outboxPipe = new OutboxPipe(pipe, emulator, { log: (l) => logs.push(l) });
    const result = await outboxPipe.poll();
    expect(result.delivered).toBe(1);
    expect((await bodies(targetQueueUrl)).map((b) => (b.detail as { id: string }).id)).toEqual([
      'e-committed',
    ]);
    expect(logs.some((l) => l.includes('its item is not in the table'))).toBe(true);
    await outboxPipe.stop();
  });

  it('after the retries sends the records it could not put to the dead-letter queue', async () => {
    const { pipe } = await outboxSystem();
    const broken: LocalPipe = { ...pipe, eventBusName: 'no-such-bus' };
    await put(pipe.tableName, outboxItem('e-9', 'OrderPlaced'));
    const lines: string[] = [];
    const outboxPipe = new OutboxPipe(broken, emulator, { log: (l) => lines.push(l), retryBaseDelayMs: 10 });
    expect(await outboxPipe.poll()).toEqual({ read: 1, delivered: 0, deadLettered: 1 });
    expect(lines.filter((l) => l.startsWith('PutEvents attempt'))).toHaveLength(3);

    const [record] = await bodies(pipe.deadLetterQueueUrl!);
    expect(record).toMatchObject({
      eventName: 'INSERT',
      eventSource: 'aws:dynamodb',
      eventSourceARN: pipe.streamArn,
      dynamodb: { NewImage: { eventId: { S: 'e-9' } } },
    });
    expect(await outboxPipe.pollOnce()).toBe(0);
    await outboxPipe.stop();
  });

  it('when started, keeps streaming new outbox items to the bus until stopped', async () => {
    const { pipe, targetQueueUrl } = await outboxSystem();
    const outboxPipe = new OutboxPipe(pipe, emulator, { log: (l) => logs.push(l), pollIntervalMs: 100 });
    outboxPipe.start();
    await put(pipe.tableName, outboxItem('e-20', 'OrderPlaced'));
    await put(pipe.tableName, outboxItem('e-21', 'OrderPlaced'));
    const received: Array<Record<string, unknown>> = [];
    const deadline = Date.now() + 10_000;
    while (received.length < 2 && Date.now() < deadline) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: targetQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      received.push(...Messages.map((m) => JSON.parse(m.Body!) as Record<string, unknown>));
    }
    const stopping = Date.now();
    await outboxPipe.stop();
    expect(Date.now() - stopping).toBeLessThan(1_000);
    expect(received.map((e) => (e.detail as { id: string }).id).sort()).toEqual(['e-20', 'e-21']);
  });
});
