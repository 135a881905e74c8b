import { decodeOutboxData } from '../../functions/shared/events/outbox-format';
import { randomUUID } from 'node:crypto';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { OrderConfirmed, OrderPlaced, OrderRejected } from '../../functions/contracts/events';
import {
  BY_CUSTOMER_INDEX,
  DynamoDbOrderRepository,
} from '../../functions/orders/adapters/dynamodb-order-repository';
import { OrderStatus, transition } from '../../functions/orders/domain/order';
import type { Actor } from '../../functions/orders/domain/order-service';
import { OrderService, TransitionOutcome } from '../../functions/orders/domain/order-service';
import type { CustomerDirectory } from '../../functions/orders/domain/ports';
import { ConcurrentChangeError } from '../../functions/orders/domain/ports';
import { ErrorKind } from '../../functions/shared/errors';
import type { Moto } from '../support/moto';
import { createTable, dynamoClientFor, startMoto, scanAll as scanAllItems } from '../support/moto';

type Item = Record<string, unknown>;

/** A customer directory that knows every customer (the users service is not under test here). */
class EveryoneExists implements CustomerDirectory {
  async exists(): Promise<boolean> {
    return true;
  }
}

let moto: Moto;
let client: DynamoDBDocumentClient;

beforeAll(async () => {
  moto = await startMoto();
  client = dynamoClientFor(moto.endpoint);
}, 60_000);

afterAll(async () => {
  client?.destroy();
  await moto?.stop();
}, 30_000);

/** A repository and service over a new table with the byCustomer index; the clock ticks 1 s per call. */
async function freshOrders() {
  const tableName = `orders-${randomUUID()}`;
  await createTable(client, tableName, {
    gsi: { name: BY_CUSTOMER_INDEX, partitionKey: 'customerId', sortKey: 'createdAt' },
  });
  const repository = new DynamoDbOrderRepository(client, { tableName, partitionKey: 'pk' }, 'shop.orders');
  let tick = Date.parse('2025-03-01T12:00:00.000Z');
  const clock = () => new Date((tick += 1000));
  const service = new OrderService(repository, new EveryoneExists(), clock, randomUUID);
  return { tableName, repository, service, clock };
}

/** Every item stored in the table. */
const scanAll = (tableName: string): Promise<Item[]> => scanAllItems(client, tableName);

async function storedOrder(tableName: string, orderId: string): Promise<Item | undefined> {
  const key = { pk: `ORDER#${orderId}` };
  const { Item } = await client.send(
    new GetCommand({ TableName: tableName, Key: key, ConsistentRead: true }),
  );
  return Item;
}

/** The stored outbox events of one type. */
async function outboxEvents(tableName: string, eventType: string): Promise<Item[]> {
  return (await scanAll(tableName)).filter((i) => i.itemType === 'OUTBOX' && i.eventType === eventType);
}

const dataOf = (item: Item): unknown => decodeOutboxData(String(item.data));
const alice: Actor = { userId: 'customer-alice', groups: [] };
const bob: Actor = { userId: 'customer-bob', groups: [] };
const lines = [
  { sku: 'SKU-A', quantity: 2 },
  { sku: 'SKU-B', quantity: 1 },
];

describe('DynamoDbOrderRepository against DynamoDB (moto)', () => {
  it('stores a placed order as PENDING together with its OrderPlaced outbox event', async () => {
    const { tableName, service } = await freshOrders();

    const { order, replayed } = await service.place(alice, { lines }, 'corr-1');

    expect(replayed).toBe(false);
    expect(await storedOrder(tableName, order.id)).toMatchObject({
      itemType: 'Order',
      id: order.id,
      customerId: alice.userId,
      lines,
      status: 'PENDING',
      version: 1,
    });
    const placed = await outboxEvents(tableName, 'OrderPlaced');
    expect(placed).toHaveLength(1);
    expect(placed[0]).toMatchObject({ eventSource: 'shop.orders', eventVersion: 1, correlationId: 'corr-1' });
    expect(OrderPlaced.schema.parse(dataOf(placed[0]))).toEqual({
      orderId: order.id,
      customerId: alice.userId,
      lines,
    });
  });

  it('answers a repeated Idempotency-Key with the first order (replayed) and stores it once', async () => {
    const { tableName, service } = await freshOrders();

    const first = await service.place(alice, { lines }, 'corr-1', 'key-1');
    const second = await service.place(alice, { lines }, 'corr-2', 'key-1');

    expect(first.replayed).toBe(false);
    expect(second).toEqual({ order: first.order, replayed: true });
    const items = await scanAll(tableName);
    expect(items.filter((i) => i.itemType === 'Order').map((i) => i.id)).toEqual([first.order.id]);
    const placed = await outboxEvents(tableName, 'OrderPlaced');
    expect(placed.map((e) => OrderPlaced.schema.parse(dataOf(e)).orderId)).toEqual([first.order.id]);
  });

  it('refuses an Idempotency-Key reused for a different order (422) and stores nothing new', async () => {
    const { tableName, service } = await freshOrders();
    await service.place(alice, { lines }, 'corr-1', 'key-2');
    await expect(
      service.place(alice, { lines: [{ sku: 'SKU-OTHER', quantity: 9 }] }, 'corr-2', 'key-2'),
    ).rejects.toMatchObject({
      kind: ErrorKind.UNPROCESSABLE,
      code: 'IDEMPOTENCY_KEY_REUSED',
    });
    expect((await scanAll(tableName)).filter((i) => i.itemType === 'Order')).toHaveLength(1);
  });

  it("lists a customer's orders newest first, without other customers' orders (byCustomer index)", async () => {
    const { service } = await freshOrders();
    const placed: string[] = [];
    for (const actor of [alice, bob, alice, alice]) {
      const { order } = await service.place(actor, { lines }, 'corr');
      if (actor === alice) placed.push(order.id);
    }

    const listed = await service.listForCustomer(alice, alice.userId);

    expect(listed.map((o) => o.id)).toEqual([...placed].reverse());
    expect(listed.every((o) => o.customerId === alice.userId && o.status === OrderStatus.PENDING)).toBe(true);
  });

  describe('saga', () => {
    it('confirms a PENDING order with OrderConfirmed; a redelivered confirm is ALREADY_DONE, no 2nd event', async () => {
      const { tableName, service } = await freshOrders();
      const { order } = await service.place(alice, { lines }, 'corr-1');

      expect(await service.confirm(order.id, 'corr-1', 'stock-reserved-1')).toBe(TransitionOutcome.APPLIED);
      expect(await service.confirm(order.id, 'corr-1', 'stock-reserved-1')).toBe(
        TransitionOutcome.ALREADY_DONE,
      );

      expect(await storedOrder(tableName, order.id)).toMatchObject({ status: 'CONFIRMED', version: 2 });
      const confirmed = await outboxEvents(tableName, 'OrderConfirmed');
      expect(confirmed).toHaveLength(1);
      expect(OrderConfirmed.schema.parse(dataOf(confirmed[0]))).toEqual({
        orderId: order.id,
        customerId: alice.userId,
      });
    });

    it('refuses to reject a CONFIRMED order: it stays CONFIRMED and no OrderRejected is stored', async () => {
      const { tableName, service } = await freshOrders();
      const { order } = await service.place(alice, { lines }, 'corr-1');
      await service.confirm(order.id, 'corr-1', 'stock-reserved-1');

      const outcome = await service.reject(order.id, 'INSUFFICIENT_STOCK', 'corr-1', 'stock-rejected-1');

      expect(outcome).toBe(TransitionOutcome.REFUSED);
      const stored = await storedOrder(tableName, order.id);
      expect(stored).toMatchObject({ status: 'CONFIRMED', version: 2 });
      expect(stored).not.toHaveProperty('rejectionReason');
      expect(await outboxEvents(tableName, 'OrderRejected')).toEqual([]);
    });

    it('rejects a PENDING order with its reason and OrderRejected, then refuses to confirm it', async () => {
      const { tableName, service } = await freshOrders();
      const { order } = await service.place(alice, { lines }, 'corr-1');

      expect(await service.reject(order.id, 'INSUFFICIENT_STOCK', 'corr-1', 'stock-rejected-1')).toBe(
        TransitionOutcome.APPLIED,
      );
      expect(await service.confirm(order.id, 'corr-1', 'stock-reserved-1')).toBe(TransitionOutcome.REFUSED);

      expect(await storedOrder(tableName, order.id)).toMatchObject({
        status: 'REJECTED',
        rejectionReason: 'INSUFFICIENT_STOCK',
        version: 2,
      });
      const rejected = await outboxEvents(tableName, 'OrderRejected');
      expect(rejected).toHaveLength(1);
      expect(OrderRejected.schema.parse(dataOf(rejected[0]))).toEqual({
        orderId: order.id,
        customerId: alice.userId,
        reason: 'INSUFFICIENT_STOCK',
      });
      expect(await outboxEvents(tableName, 'OrderConfirmed')).toEqual([]);
    });
  });

  it('refuses a stale write: changeStatus from an outdated version throws and stores nothing', async () => {
    const { tableName, repository, service, clock } = await freshOrders();
    const { order: stale } = await service.place(alice, { lines }, 'corr-1');
    await service.confirm(stale.id, 'corr-1', 'stock-reserved-1');
    const itemsBefore = await scanAll(tableName);

    const cancelled = transition(stale, OrderStatus.CANCELLED, clock());
    const write = repository.changeStatus(
      cancelled,
      stale.status,
      stale.version,
      { type: 'OrderCancelled', order: cancelled },
      'corr-2',
      'stale-cause',
    );

    await expect(write).rejects.toBeInstanceOf(ConcurrentChangeError);
    expect(await storedOrder(tableName, stale.id)).toMatchObject({ status: 'CONFIRMED', version: 2 });
    const itemsAfter = await scanAll(tableName);
    expect(itemsAfter).toHaveLength(itemsBefore.length);
    expect(
      itemsAfter.filter((i) => i.eventType === 'OrderCancelled' || i.pk === 'PROCESSED#stale-cause'),
    ).toEqual([]);
  });
});
