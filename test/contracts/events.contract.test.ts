import * as fs from 'node:fs';
import * as path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { safeParse } from 'zod/mini';
import type { EventContract } from '../../functions/contracts/events';
import { EVENT_CONTRACTS, jsonSchemaOf } from '../../functions/contracts/events';
import { DynamoDbStockStore } from '../../functions/inventory/adapters/dynamodb-stock-store';
import { DynamoDbOrderRepository } from '../../functions/orders/adapters/dynamodb-order-repository';
import type { Order } from '../../functions/orders/domain/order';
import { OrderStatus } from '../../functions/orders/domain/order';
import { EnvelopeSchema } from '../../functions/shared/events/envelope';
import { loadEnvironmentConfig } from '../../lib/config/environments';
import { outboxInputTemplate } from '../../lib/constructs/transactional-outbox';
import { renderEventCatalogue } from '../../lib/stacks/event-catalogue';
import { shopServices } from '../../lib/stacks/shop-system';
import { newImageOf, renderPipeTemplate } from '../support/pipe';

const config = loadEnvironmentConfig('dev');
const services = shopServices(config);
const ddb = mockClient(DynamoDBDocumentClient);
const client = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const ORDER_ID = '0b8f5c1e-8d5f-4c5e-9a46-2f6c1c0f0001';

beforeEach(() => ddb.reset());

/** Every outbox item the producer code wrote, turned into bus envelopes exactly as the pipe would. */
function publishedEnvelopes(): unknown[] {
  return ddb
    .commandCalls(TransactWriteCommand)
    .flatMap((call) => call.args[0].input.TransactItems ?? [])
    .map((item) => item.Put?.Item)
    .filter((item): item is Record<string, unknown> => item?.itemType === 'OUTBOX')
    .map((item) => JSON.parse(renderPipeTemplate(outboxInputTemplate(), newImageOf(item))));
}

/** The contract a consumer of `type` parses with (consumers import the same contract objects). */
function consumerContract(type: string): EventContract {
  const contract = EVENT_CONTRACTS.find((c) => c.type === type);
  if (!contract) throw new Error(`No contract for ${type}`);
  return contract;
}

function expectSatisfiesConsumers(envelopes: unknown[], expectedTypes: string[]) {
  expect(envelopes.map((e) => (e as { type: string }).type).sort()).toEqual([...expectedTypes].sort());
  for (const raw of envelopes) {
    const envelope = EnvelopeSchema.parse(raw);
    const contract = consumerContract(envelope.type);
    expect(envelope.version).toBe(contract.version);
    const parsed = safeParse(contract.schema, envelope.data);
    expect({ type: envelope.type, issues: parsed.success ? [] : parsed.error.issues }).toEqual({
      type: envelope.type,
      issues: [],
    });
  }
}

describe('event contracts between services', () => {
  it('every subscribed event is declared as published by its producer', () => {
    for (const consumer of services) {
      for (const subscription of consumer.subscriptions ?? []) {
        for (const event of subscription.events) {
          const producer = services.find((s) => s.serviceName === event.producer);
          expect({
            consumer: `${consumer.serviceName}/${subscription.id}`,
            event: `${event.producer}.${event.type}`,
            published: producer?.publishes?.includes(event),
          }).toEqual({
            consumer: `${consumer.serviceName}/${subscription.id}`,
            event: `${event.producer}.${event.type}`,
            published: true,
          });
        }
      }
    }
  });

  it('every published event is one of the catalogued contracts and names the publishing service as its producer', () => {
    for (const service of services) {
      for (const contract of service.publishes ?? []) {
        expect({ type: contract.type, catalogued: EVENT_CONTRACTS.includes(contract) }).toEqual({
          type: contract.type,
          catalogued: true,
        });
        expect({ type: contract.type, producer: contract.producer }).toEqual({
          type: contract.type,
          producer: service.serviceName,
        });
      }
    }
  });

  it('orders: the events the order repository writes satisfy the schemas inventory consumes', async () => {
    ddb.on(TransactWriteCommand).resolves({});
    const repository = new DynamoDbOrderRepository(
      client,
      { tableName: 't', partitionKey: 'pk' },
      'shop.orders',
    );
    const order: Order = {
      id: ORDER_ID,
      customerId: 'customer-1',
      lines: [{ sku: 'SKU-1', quantity: 2 }],
      status: OrderStatus.PENDING,
      createdAt: '2026-11-21T10:00:00.000Z',
      updatedAt: '2026-11-21T10:00:00.000Z',
      version: 1,
    };
    await repository.place(order, 'corr-1', 'idem-key-1');
    const confirmed = { ...order, status: OrderStatus.CONFIRMED, version: 2 };
    await repository.changeStatus(
      confirmed,
      OrderStatus.PENDING,
      1,
      { type: 'OrderConfirmed', order: confirmed },
      'corr-1',
      'EVENT#1',
    );
    const rejected = {
      ...order,
      status: OrderStatus.REJECTED,
      version: 2,
      rejectionReason: 'INSUFFICIENT_STOCK',
    };
    await repository.changeStatus(
      rejected,
      OrderStatus.PENDING,
      1,
      { type: 'OrderRejected', order: rejected, reason: 'INSUFFICIENT_STOCK' },
      'corr-1',
    );
    const cancelled = { ...order, status: OrderStatus.CANCELLED, version: 3 };
    await repository.changeStatus(
      cancelled,
      OrderStatus.CONFIRMED,
      2,
      { type: 'OrderCancelled', order: cancelled },
      'corr-1',
    );
    expectSatisfiesConsumers(publishedEnvelopes(), [
      'OrderPlaced',
      'OrderConfirmed',
      'OrderRejected',
      'OrderCancelled',
    ]);
  });

  it('inventory: the events the stock store writes satisfy the schemas orders consumes', async () => {
    ddb.on(TransactWriteCommand).resolves({});
    ddb.on(GetCommand).resolves({
      Item: { pk: `RESERVATION#${ORDER_ID}`, lines: [{ sku: 'SKU-1', quantity: 2 }], status: 'RESERVED' },
    });
    const store = new DynamoDbStockStore(client, { tableName: 't', partitionKey: 'pk' }, 'shop.inventory');
    await store.reserve(ORDER_ID, [{ sku: 'SKU-1', quantity: 2 }], 'corr-1', 'EVENT#1');
    await store.release(ORDER_ID, 'corr-1', 'EVENT#2');
    expectSatisfiesConsumers(publishedEnvelopes(), ['StockReserved', 'StockReleased']);
  });

  it('carries the correlation id from the producer into the envelope', async () => {
    ddb.on(TransactWriteCommand).resolves({});
    const store = new DynamoDbStockStore(client, { tableName: 't', partitionKey: 'pk' }, 'shop.inventory');
    await store.reserve(ORDER_ID, [{ sku: 'SKU-1', quantity: 1 }], 'corr-from-the-api', 'EVENT#1');
    expect(publishedEnvelopes().map((e) => (e as { correlationId: string }).correlationId)).toEqual([
      'corr-from-the-api',
    ]);
  });

  it('exports every contract as a JSON Schema object', () => {
    for (const contract of EVENT_CONTRACTS) {
      const schema = jsonSchemaOf(contract);
      expect({
        type: contract.type,
        schemaType: schema.type,
        required: Array.isArray(schema.required),
      }).toEqual({
        type: contract.type,
        schemaType: 'object',
        required: true,
      });
    }
  });

  it('docs/events.md is the catalogue generated from the current contracts (run `npm run catalogue`)', () => {
    const file = fs.readFileSync(path.join(__dirname, '..', '..', 'docs', 'events.md'), 'utf8');
    expect(file).toBe(renderEventCatalogue(config.appName, services));
  });
});

describe('publishing discipline', () => {
  it('no function calls EventBridge PutEvents directly: events leave only through the outbox', () => {
    const root = path.join(__dirname, '..', '..', 'functions');
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(full);
        else if (
          /\.ts$/.test(entry.name) &&
          /PutEventsCommand|@aws-sdk\/client-eventbridge|EventBridgeClient/.test(
            fs.readFileSync(full, 'utf8'),
          )
        ) {
          offenders.push(path.relative(root, full));
        }
      }
    };
    walk(root);
    expect(offenders).toEqual([]);
  });
});
