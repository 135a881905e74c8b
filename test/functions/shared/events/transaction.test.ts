import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { OrderPlaced } from '../../../../functions/contracts/events';
import { EnvelopeSchema } from '../../../../functions/shared/events/envelope';
import { outboxInputTemplate } from '../../../../lib/constructs/transactional-outbox';
import {
  AlreadyProcessedError,
  DomainTransaction,
  TransactionConflictError,
} from '../../../../functions/shared/events/transaction';

const ddb = mockClient(DynamoDBDocumentClient);
const client = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const layout = { tableName: 'orders', partitionKey: 'pk' };
const NOW = new Date('2026-11-21T10:00:00.000Z');
const ORDER = {
  orderId: '0b8f5c1e-8d5f-4c5e-9a46-2f6c1c0f0001',
  customerId: 'c-1',
  lines: [{ sku: 'SKU-1', quantity: 1 }],
};

beforeEach(() => ddb.reset());

function cancelled(codes: string[]) {
  return new TransactionCanceledException({
    message: 'Transaction cancelled',
    $metadata: {},
    CancellationReasons: codes.map((Code) => ({ Code })),
  });
}

describe('DomainTransaction', () => {
  it('writes the state change and the outbox event in one TransactWriteItems call', async () => {
    ddb.on(TransactWriteCommand).resolves({});
    const tx = new DomainTransaction(layout, 'shop.orders', 'corr-1', () => NOW);
    tx.put('order', { pk: 'ORDER#1', status: 'PENDING' });
    const envelope = tx.publish(OrderPlaced, ORDER);
    await tx.commit(client);

    const calls = ddb.commandCalls(TransactWriteCommand);
    expect(calls).toHaveLength(1);
    const items = calls[0].args[0].input.TransactItems!;
    expect(items).toHaveLength(2);
    expect(items[0].Put?.Item).toEqual({ pk: 'ORDER#1', status: 'PENDING' });
    expect(items[1].Put).toEqual({
      TableName: 'orders',
      Item: {
        pk: `OUTBOX#${envelope.id}`,
        itemType: 'OUTBOX',
        eventId: envelope.id,
        eventType: 'OrderPlaced',
        eventVersion: 1,
        eventSource: 'shop.orders',
        occurredAt: '2026-11-21T10:00:00.000Z',
        correlationId: 'corr-1',
        data: `base64:${Buffer.from(JSON.stringify(ORDER)).toString('base64')}`,
        expiresAt: Math.floor(NOW.getTime() / 1000) + 86400,
      },
      ConditionExpression: 'attribute_not_exists(#pk)',
      ExpressionAttributeNames: { '#pk': 'pk' },
    });
  });

  it('refuses to publish data that breaks the contract, before writing anything', async () => {
    const tx = new DomainTransaction(layout, 'shop.orders', 'c');
    expect(() => tx.publish(OrderPlaced, { ...ORDER, lines: [] })).toThrow(/lines/);
    await tx.commit(client);
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  it('reports a repeated idempotency marker as AlreadyProcessedError', async () => {
    ddb.on(TransactWriteCommand).rejects(cancelled(['None', 'ConditionalCheckFailed']));
    const tx = new DomainTransaction(layout, 'shop.orders', 'c');
    tx.put('order', { pk: 'ORDER#1' });
    tx.idempotent('EVENT#e-1');
    await expect(tx.commit(client)).rejects.toEqual(new AlreadyProcessedError('EVENT#e-1'));
  });

  it('reports which labelled item failed its condition', async () => {
    ddb.on(TransactWriteCommand).rejects(cancelled(['ConditionalCheckFailed', 'None', 'None']));
    const tx = new DomainTransaction(layout, 'shop.inventory', 'c');
    tx.update('sku:SKU-1', { pk: 'SKU#SKU-1' }, 'SET available = available - :q', {
      expression: 'available >= :q',
      values: { ':q': 1 },
    });
    tx.put('reservation', { pk: 'RESERVATION#1' });
    tx.idempotent('EVENT#e-2');
    const error = await tx.commit(client).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransactionConflictError);
    expect((error as TransactionConflictError).failed('sku:SKU-1')).toBe(true);
    expect((error as TransactionConflictError).failed('reservation')).toBe(false);
  });

  it('uses the sort key too when the table has one', () => {
    const tx = new DomainTransaction({ ...layout, sortKey: 'sk' }, 's', 'c');
    expect(tx.key('A')).toEqual({ pk: 'A', sk: 'A' });
  });
});

describe('event envelope on the bus', () => {
  /**
   * Renders the pipe's input template for one outbox item under either reading of the Pipes guide: quoted
   * string placeholders either JSON-escaped or inserted as they are.
   */
  function renderPipe(item: Record<string, unknown>, escape: boolean): string {
    return outboxInputTemplate().replace(/<\$\.dynamodb\.NewImage\.(\w+)\.[SN]>/g, (_, name: string) => {
      const value = String(item[name]);
      return escape ? JSON.stringify(value).slice(1, -1) : value;
    });
  }

  it.each([true, false])(
    'delivers the same envelope whether the pipe escapes quoted values (%p) or not',
    async (escape) => {
      ddb.on(TransactWriteCommand).resolves({});
      const tricky = { ...ORDER, customerId: 'c-"1"\\ line\nbreak' };
      const tx = new DomainTransaction(layout, 'shop.orders', 'corr-1', () => NOW);
      const envelope = tx.publish(OrderPlaced, tricky);
      await tx.commit(client);
      const item = ddb.commandCalls(TransactWriteCommand)[0].args[0].input.TransactItems![0].Put!.Item!;
      const delivered = EnvelopeSchema.parse(JSON.parse(renderPipe(item, escape)));
      expect(delivered).toEqual({ ...envelope, data: tricky });
    },
  );

  it('accepts what the pipe delivers: version as a string and data as JSON text', () => {
    const parsed = EnvelopeSchema.parse({
      id: 'e-1',
      type: 'OrderPlaced',
      version: '1',
      source: 'shop.orders',
      occurredAt: '2026-11-21T10:00:00.000Z',
      correlationId: 'corr-1',
      data: JSON.stringify(ORDER),
    });
    expect(parsed.version).toBe(1);
    expect(parsed.data).toEqual(ORDER);
  });

  it('rejects an envelope without a correlation id', () => {
    expect(
      EnvelopeSchema.safeParse({
        id: 'e',
        type: 'OrderPlaced',
        version: 1,
        source: 's',
        occurredAt: '2026-11-21T10:00:00.000Z',
        data: {},
      }).success,
    ).toBe(false);
  });
});
