import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { handler } from '../../../functions/orders/handlers/on-stock-result';
import { lambdaContext } from '../api-event';
import { busRecord, pipedEnvelope, rawRecord, sqsEvent } from '../sqs-event';

const ddb = mockClient(DynamoDBDocumentClient);
const ORDER_ID = '0b8f5c1e-8d5f-4c5e-9a46-2f6c1c0f0001';
const pending = {
  pk: `ORDER#${ORDER_ID}`,
  id: ORDER_ID,
  customerId: 'c-1',
  lines: [{ sku: 'SKU-1', quantity: 1 }],
  status: 'PENDING',
  createdAt: '2026-11-21T09:00:00.000Z',
  updatedAt: '2026-11-21T09:00:00.000Z',
  version: 1,
};
const reserved = pipedEnvelope(
  'StockReserved',
  { orderId: ORDER_ID, lines: [{ sku: 'SKU-1', quantity: 1 }] },
  'evt-1',
);

beforeEach(() => ddb.reset());

describe('orders stock-results consumer', () => {
  it('confirms the order with a guarded update, OrderConfirmed in the outbox and the event marked processed', async () => {
    ddb.on(GetCommand).resolves({ Item: pending });
    ddb.on(TransactWriteCommand).resolves({});
    const result = await handler(sqsEvent(busRecord('m-1', reserved, 'StockReserved')), lambdaContext);
    expect(result).toEqual({ batchItemFailures: [] });
    const items = ddb.commandCalls(TransactWriteCommand)[0].args[0].input.TransactItems!;
    expect(items[0].Update).toMatchObject({
      ConditionExpression: '#status = :from AND #version = :expected',
      ExpressionAttributeValues: expect.objectContaining({
        ':from': 'PENDING',
        ':expected': 1,
        ':to': 'CONFIRMED',
      }),
    });
    expect(items[1].Put?.Item).toMatchObject({ eventType: 'OrderConfirmed', correlationId: 'corr-saga' });
    expect(items[2].Put?.Item).toMatchObject({ pk: 'PROCESSED#EVENT#evt-1' });
  });

  it('treats a redelivered event whose work was committed as done (no batch failure)', async () => {
    ddb.on(GetCommand).resolves({ Item: pending });
    ddb.on(TransactWriteCommand).rejects(
      new TransactionCanceledException({
        message: 'cancelled',
        $metadata: {},
        CancellationReasons: [{ Code: 'None' }, { Code: 'None' }, { Code: 'ConditionalCheckFailed' }],
      }),
    );
    const result = await handler(sqsEvent(busRecord('m-1', reserved, 'StockReserved')), lambdaContext);
    expect(result).toEqual({ batchItemFailures: [] });
  });

  it('reports only the failing messages of a batch: poison ones and ones that break their contract', async () => {
    ddb.on(GetCommand).resolves({ Item: pending });
    ddb.on(TransactWriteCommand).resolves({});
    const breaksContract = pipedEnvelope('StockReserved', { orderId: 'not-a-uuid', lines: [] }, 'evt-2');
    const unknownType = pipedEnvelope('SomethingElse', {}, 'evt-3');
    const result = await handler(
      sqsEvent(
        busRecord('ok', reserved, 'StockReserved'),
        rawRecord('not-json', '{oops'),
        busRecord('bad-contract', breaksContract, 'StockReserved'),
        busRecord('unknown', unknownType, 'SomethingElse'),
      ),
      lambdaContext,
    );
    expect(result.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual([
      'bad-contract',
      'not-json',
      'unknown',
    ]);
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(1);
  });

  it('leaves a rejected order rejected when a late StockReserved arrives (refused, not retried)', async () => {
    ddb.on(GetCommand).resolves({ Item: { ...pending, status: 'REJECTED', version: 2 } });
    const result = await handler(sqsEvent(busRecord('m-1', reserved, 'StockReserved')), lambdaContext);
    expect(result).toEqual({ batchItemFailures: [] });
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  it('retries a message whose write failed for another reason', async () => {
    ddb.on(GetCommand).resolves({ Item: pending });
    ddb.on(TransactWriteCommand).rejects(new Error('ProvisionedThroughputExceededException'));
    const result = await handler(sqsEvent(busRecord('m-1', reserved, 'StockReserved')), lambdaContext);
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }] });
  });
});

describe('orders stock-results consumer, unknown orders', () => {
  it('acknowledges a stock result for an order that does not exist instead of retrying it forever', async () => {
    ddb.on(GetCommand).resolves({});
    const result = await handler(sqsEvent(busRecord('m-unknown', reserved, 'StockReserved')), lambdaContext);
    expect(result).toEqual({ batchItemFailures: [] });
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });
});
