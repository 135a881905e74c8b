import { decodeOutboxData } from '../../functions/shared/events/outbox-format';
import { randomUUID } from 'node:crypto';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { StockRejected, StockReleased, StockReserved } from '../../functions/contracts/events';
import { DynamoDbStockStore } from '../../functions/inventory/adapters/dynamodb-stock-store';
import type { ReserveOutcome } from '../../functions/inventory/domain/ports';
import type { ReservationLine } from '../../functions/inventory/domain/stock';
import { AlreadyProcessedError, TransactionConflictError } from '../../functions/shared/events/transaction';
import type { Moto } from '../support/moto';
import { createTable, dynamoClientFor, startMoto, scanAll as scanAllItems } from '../support/moto';

type Item = Record<string, unknown>;

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

/** A store over a new, empty table, with the given stock already set. */
async function freshStore(available: Record<string, number> = {}) {
  const tableName = `inventory-${randomUUID()}`;
  await createTable(client, tableName);
  const store = new DynamoDbStockStore(client, { tableName, partitionKey: 'pk' }, 'shop.inventory');
  for (const [sku, quantity] of Object.entries(available)) await store.setAvailable(sku, quantity);
  return { store, tableName };
}

/** Every item stored in the table. */
const scanAll = (tableName: string): Promise<Item[]> => scanAllItems(client, tableName);

async function getItem(tableName: string, pk: string): Promise<Item | undefined> {
  const { Item } = await client.send(
    new GetCommand({ TableName: tableName, Key: { pk }, ConsistentRead: true }),
  );
  return Item;
}

/** Stored available/reserved of a SKU, read back from the table. */
async function storedStock(tableName: string, sku: string) {
  const item = await getItem(tableName, `SKU#${sku}`);
  return item && { available: item.available, reserved: item.reserved };
}

const outboxOf = (items: Item[]) => items.filter((i) => i.itemType === 'OUTBOX');
const reservationsOf = (items: Item[]) => items.filter((i) => i.itemType === 'Reservation');
const dataOf = (item: Item): unknown => decodeOutboxData(String(item.data));

describe('DynamoDbStockStore against DynamoDB (moto)', () => {
  it('reserves every line: stock moves to reserved, with the reservation, one StockReserved and a marker', async () => {
    const { store, tableName } = await freshStore({ 'SKU-A': 10, 'SKU-B': 3 });
    const orderId = randomUUID();
    const lines = [
      { sku: 'SKU-A', quantity: 4 },
      { sku: 'SKU-B', quantity: 3 },
    ];
    const before = Math.floor(Date.now() / 1000);

    const outcome = await store.reserve(orderId, lines, 'corr-1', 'event-1');

    expect(outcome).toEqual({ kind: 'RESERVED', lines });
    expect(await storedStock(tableName, 'SKU-A')).toEqual({ available: 6, reserved: 4 });
    expect(await storedStock(tableName, 'SKU-B')).toEqual({ available: 0, reserved: 3 });
    expect(await getItem(tableName, `RESERVATION#${orderId}`)).toMatchObject({
      orderId,
      lines,
      status: 'RESERVED',
    });
    const outbox = outboxOf(await scanAll(tableName));
    expect(outbox).toHaveLength(1);
    expect(outbox[0]).toMatchObject({
      pk: `OUTBOX#${outbox[0].eventId}`,
      itemType: 'OUTBOX',
      eventType: 'StockReserved',
      eventVersion: 1,
      eventSource: 'shop.inventory',
      correlationId: 'corr-1',
    });
    expect(outbox[0].expiresAt).toBeGreaterThan(before);
    expect(StockReserved.schema.parse(dataOf(outbox[0]))).toEqual({ orderId, lines });
    expect(await getItem(tableName, 'PROCESSED#event-1')).toMatchObject({ itemType: 'PROCESSED' });
  });

  it('reserves nothing when a line is short or the SKU is unknown, and stores StockRejected naming it', async () => {
    const { store, tableName } = await freshStore({ 'SKU-A': 2, 'SKU-B': 5 });
    const shortOrder = randomUUID();
    const unknownOrder = randomUUID();

    const short = await store.reserve(
      shortOrder,
      [
        { sku: 'SKU-A', quantity: 3 },
        { sku: 'SKU-B', quantity: 1 },
      ],
      'corr-short',
      'event-short',
    );
    const unknown = await store.reserve(
      unknownOrder,
      [
        { sku: 'SKU-B', quantity: 1 },
        { sku: 'SKU-UNKNOWN', quantity: 1 },
      ],
      'corr-unknown',
      'event-unknown',
    );

    expect(short).toEqual({ kind: 'REJECTED', reason: 'INSUFFICIENT_STOCK', unavailableSkus: ['SKU-A'] });
    expect(unknown).toEqual({
      kind: 'REJECTED',
      reason: 'INSUFFICIENT_STOCK',
      unavailableSkus: ['SKU-UNKNOWN'],
    });
    expect(await storedStock(tableName, 'SKU-A')).toEqual({ available: 2, reserved: 0 });
    expect(await storedStock(tableName, 'SKU-B')).toEqual({ available: 5, reserved: 0 });
    expect(await getItem(tableName, 'SKU#SKU-UNKNOWN')).toBeUndefined();
    const items = await scanAll(tableName);
    expect(reservationsOf(items)).toEqual([]);
    const rejections = outboxOf(items).map((item) => ({
      type: item.eventType,
      correlationId: item.correlationId,
      data: StockRejected.schema.parse(dataOf(item)),
    }));
    expect(rejections).toHaveLength(2);
    expect(rejections).toEqual(
      expect.arrayContaining([
        {
          type: 'StockRejected',
          correlationId: 'corr-short',
          data: { orderId: shortOrder, reason: 'INSUFFICIENT_STOCK', unavailableSkus: ['SKU-A'] },
        },
        {
          type: 'StockRejected',
          correlationId: 'corr-unknown',
          data: { orderId: unknownOrder, reason: 'INSUFFICIENT_STOCK', unavailableSkus: ['SKU-UNKNOWN'] },
        },
      ]),
    );
  });

  it('never oversells under concurrency: 12 concurrent orders for 5 units reserve exactly 5', async () => {
    const { store, tableName } = await freshStore({ 'SKU-HOT': 5 });
    const orderIds = Array.from({ length: 12 }, () => randomUUID());

    // All 12 deliveries are in flight at once and interleave freely (a rejection is a second transaction).
    // They reach the emulator over many connections; local/emulator.ts serializes DynamoDB requests so each
    // transaction applies atomically, as DynamoDB does (plain moto 5.2 threads could interleave them).
    const outcomes = await Promise.all(
      orderIds.map((orderId) => reserveAsRedelivered(store, orderId, [{ sku: 'SKU-HOT', quantity: 1 }])),
    );

    const reservedOrders = orderIds.filter((_, i) => outcomes[i].kind === 'RESERVED');
    expect(reservedOrders).toHaveLength(5);
    expect(outcomes.filter((o) => o.kind === 'REJECTED')).toEqual(
      Array(7).fill({ kind: 'REJECTED', reason: 'INSUFFICIENT_STOCK', unavailableSkus: ['SKU-HOT'] }),
    );
    // Never negative, and available + reserved is still the 5 units there were.
    expect(await storedStock(tableName, 'SKU-HOT')).toEqual({ available: 0, reserved: 5 });
    const items = await scanAll(tableName);
    const reservations = reservationsOf(items);
    expect(reservations.every((r) => r.status === 'RESERVED')).toBe(true);
    expect(reservations.map((r) => r.orderId).sort()).toEqual([...reservedOrders].sort());
    const outbox = outboxOf(items);
    expect(outbox).toHaveLength(12);
    const reservedEvents = outbox.filter((e) => e.eventType === 'StockReserved');
    expect(reservedEvents.map((e) => StockReserved.schema.parse(dataOf(e)).orderId).sort()).toEqual(
      [...reservedOrders].sort(),
    );
    expect(outbox.filter((e) => e.eventType === 'StockRejected')).toHaveLength(7);
    expect(items.filter((i) => i.itemType === 'PROCESSED')).toHaveLength(12);
  });

  it('gives a redelivered OrderPlaced (same cause) one effect: the repeat is AlreadyProcessed', async () => {
    const { store, tableName } = await freshStore({ 'SKU-A': 10 });
    const orderId = randomUUID();
    const lines = [{ sku: 'SKU-A', quantity: 2 }];
    await store.reserve(orderId, lines, 'corr-1', 'event-1');

    await expect(store.reserve(orderId, lines, 'corr-1', 'event-1')).rejects.toBeInstanceOf(
      AlreadyProcessedError,
    );

    expect(await storedStock(tableName, 'SKU-A')).toEqual({ available: 8, reserved: 2 });
    const items = await scanAll(tableName);
    expect(outboxOf(items).map((e) => e.eventType)).toEqual(['StockReserved']);
    expect(reservationsOf(items)).toHaveLength(1);
  });

  it('gives the stock back on release, and a second release (other cause) changes nothing', async () => {
    const { store, tableName } = await freshStore({ 'SKU-A': 10, 'SKU-B': 4 });
    const orderId = randomUUID();
    const lines = [
      { sku: 'SKU-A', quantity: 4 },
      { sku: 'SKU-B', quantity: 1 },
    ];
    await store.reserve(orderId, lines, 'corr-1', 'placed-1');

    expect(await store.release(orderId, 'corr-1', 'rejected-1')).toEqual({ kind: 'RELEASED', lines });

    expect(await storedStock(tableName, 'SKU-A')).toEqual({ available: 10, reserved: 0 });
    expect(await storedStock(tableName, 'SKU-B')).toEqual({ available: 4, reserved: 0 });
    expect(await getItem(tableName, `RESERVATION#${orderId}`)).toMatchObject({ status: 'RELEASED', lines });
    const released = outboxOf(await scanAll(tableName)).filter((e) => e.eventType === 'StockReleased');
    expect(released).toHaveLength(1);
    expect(released[0].correlationId).toBe('corr-1');
    expect(StockReleased.schema.parse(dataOf(released[0]))).toEqual({ orderId, lines });

    expect(await store.release(orderId, 'corr-1', 'cancelled-1')).toEqual({ kind: 'ALREADY_RELEASED' });

    expect(await storedStock(tableName, 'SKU-A')).toEqual({ available: 10, reserved: 0 });
    expect(await storedStock(tableName, 'SKU-B')).toEqual({ available: 4, reserved: 0 });
    expect(
      outboxOf(await scanAll(tableName))
        .map((e) => e.eventType)
        .sort(),
    ).toEqual(['StockReleased', 'StockReserved']);
  });

  it('leaves a RELEASED tombstone when the release comes first, so a late reserve reserves nothing', async () => {
    const { store, tableName } = await freshStore({ 'SKU-A': 10 });
    const orderId = randomUUID();

    expect(await store.release(orderId, 'corr-1', 'cancelled-1')).toEqual({ kind: 'NOTHING_RESERVED' });
    expect(await getItem(tableName, `RESERVATION#${orderId}`)).toMatchObject({
      status: 'RELEASED',
      lines: [],
    });

    const late = await store.reserve(orderId, [{ sku: 'SKU-A', quantity: 3 }], 'corr-1', 'placed-1');

    expect(late).toEqual({ kind: 'REJECTED', reason: 'ORDER_ALREADY_RELEASED', unavailableSkus: [] });
    expect(await storedStock(tableName, 'SKU-A')).toEqual({ available: 10, reserved: 0 });
    expect(await getItem(tableName, `RESERVATION#${orderId}`)).toMatchObject({
      status: 'RELEASED',
      lines: [],
    });
    const outbox = outboxOf(await scanAll(tableName));
    expect(outbox.map((e) => e.eventType)).toEqual(['StockRejected']);
    expect(StockRejected.schema.parse(dataOf(outbox[0]))).toEqual({
      orderId,
      reason: 'ORDER_ALREADY_RELEASED',
      unavailableSkus: [],
    });
  });

  it('reserves stock items written without a reserved count (if_not_exists), instead of failing forever', async () => {
    const { store, tableName } = await freshStore();
    await client.send(
      new PutCommand({ TableName: tableName, Item: { pk: 'SKU#SKU-OLD', sku: 'SKU-OLD', available: 2 } }),
    );
    const outcome = await store.reserve(randomUUID(), [{ sku: 'SKU-OLD', quantity: 2 }], 'c', 'event-old');
    expect(outcome.kind).toBe('RESERVED');
    expect(await storedStock(tableName, 'SKU-OLD')).toEqual({ available: 0, reserved: 2 });
  });

  it('an OrderPlaced redelivered under another id (marker expired) keeps the reservation and publishes nothing new', async () => {
    const { store, tableName } = await freshStore({ 'SKU-A': 5 });
    const orderId = randomUUID();
    await store.reserve(orderId, [{ sku: 'SKU-A', quantity: 2 }], 'c', 'event-first');
    const again = await store.reserve(orderId, [{ sku: 'SKU-A', quantity: 2 }], 'c', 'event-redriven');
    expect(again).toEqual({ kind: 'RESERVED', lines: [{ sku: 'SKU-A', quantity: 2 }] });
    expect(await storedStock(tableName, 'SKU-A')).toEqual({ available: 3, reserved: 2 });
    const outbox = outboxOf(await scanAll(tableName));
    expect(outbox.map((o) => o.eventType)).toEqual(['StockReserved']);
  });
});

/**
 * One OrderPlaced delivery per order (own cause id). DynamoDB cancels a transaction that collides with another
 * in flight (`TransactionConflict`); the adapter rethrows that as TransactionConflictError so that SQS
 * redelivers the message. moto 5.2 does not emulate such conflicts, but should one occur, this helper does
 * what SQS would: it retries the call, up to 5 attempts in all.
 */
async function reserveAsRedelivered(
  store: DynamoDbStockStore,
  orderId: string,
  lines: ReservationLine[],
): Promise<ReserveOutcome> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await store.reserve(orderId, lines, `corr-${orderId}`, `placed-${orderId}`);
    } catch (error) {
      if (!(error instanceof TransactionConflictError) || attempt >= 5) throw error;
    }
  }
}
