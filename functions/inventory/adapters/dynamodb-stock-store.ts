import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { StockRejected, StockReleased, StockReserved } from '../../contracts/events';
import type { TableLayout } from '../../shared/events/transaction';
import { DomainTransaction, keyOf, TransactionConflictError } from '../../shared/events/transaction';
import type { ReleaseOutcome, ReserveOutcome, StockStore } from '../domain/ports';
import type { Reservation, ReservationLine, StockItem } from '../domain/stock';
import { ReservationStatus } from '../domain/stock';

/**
 * Stock items (`pk = SKU#{sku}`) and reservations (`pk = RESERVATION#{orderId}`) in the inventory table.
 * A reservation is one transaction: a conditional decrement per SKU (`available >= quantity`), the
 * reservation record, the StockReserved event and the idempotency marker. DynamoDB applies all or none,
 * so concurrent orders can never oversell.
 */
export class DynamoDbStockStore implements StockStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly layout: TableLayout,
    private readonly source: string,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async get(sku: string): Promise<StockItem | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.layout.tableName,
        Key: keyOf(this.layout, `SKU#${sku}`),
        ConsistentRead: true,
      }),
    );
    return Item ? toStock(Item) : undefined;
  }

  async setAvailable(sku: string, available: number): Promise<StockItem> {
    const { Attributes } = await this.client.send(
      new UpdateCommand({
        TableName: this.layout.tableName,
        Key: keyOf(this.layout, `SKU#${sku}`),
        UpdateExpression:
          'SET available = :available, reserved = if_not_exists(reserved, :zero), sku = :sku, itemType = :type, updatedAt = :at',
        ExpressionAttributeValues: {
          ':available': available,
          ':zero': 0,
          ':sku': sku,
          ':type': 'Stock',
          ':at': this.clock().toISOString(),
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return toStock(Attributes!);
  }

  async getReservation(orderId: string): Promise<Reservation | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.layout.tableName,
        Key: keyOf(this.layout, `RESERVATION#${orderId}`),
        ConsistentRead: true,
      }),
    );
    return Item
      ? { orderId, lines: (Item.lines as ReservationLine[]) ?? [], status: Item.status as ReservationStatus }
      : undefined;
  }

  async reserve(
    orderId: string,
    lines: ReservationLine[],
    correlationId: string,
    cause: string,
  ): Promise<ReserveOutcome> {
    const tx = this.tx(correlationId).idempotent(cause);
    const at = this.clock().toISOString();
    for (const line of lines) {
      tx.update(
        `sku:${line.sku}`,
        keyOf(this.layout, `SKU#${line.sku}`),
        'SET available = available - :q, reserved = if_not_exists(reserved, :zero) + :q, updatedAt = :at',
        {
          expression: 'attribute_exists(#pk) AND available >= :q',
          values: { ':q': line.quantity },
          names: { '#pk': this.layout.partitionKey },
        },
        { ':at': at, ':zero': 0 },
      );
    }
    tx.put(
      'reservation',
      {
        ...keyOf(this.layout, `RESERVATION#${orderId}`),
        itemType: 'Reservation',
        orderId,
        lines,
        status: ReservationStatus.RESERVED,
        createdAt: at,
      },
      { expression: 'attribute_not_exists(#pk)', names: { '#pk': this.layout.partitionKey } },
    );
    tx.publish(StockReserved, { orderId, lines });
    try {
      await tx.commit(this.client);
      return { kind: 'RESERVED', lines };
    } catch (error) {
      if (!(error instanceof TransactionConflictError)) throw error;
      if (error.failed('reservation')) {
        const existing = await this.getReservation(orderId);
        if (existing?.status === ReservationStatus.RESERVED) {
          // The order already holds its stock (e.g. OrderPlaced redriven after its marker expired): no second effect.
          await this.tx(correlationId).idempotent(cause).commit(this.client);
          return { kind: 'RESERVED', lines: [...existing.lines] };
        }
      }
      const unavailableSkus = lines.filter((l) => error.failed(`sku:${l.sku}`)).map((l) => l.sku);
      const reason = error.failed('reservation')
        ? 'ORDER_ALREADY_RELEASED'
        : unavailableSkus.length > 0
          ? 'INSUFFICIENT_STOCK'
          : 'RESERVATION_CONFLICT';
      if (reason === 'RESERVATION_CONFLICT') throw error; // e.g. a throttled item: let the message be retried
      const rejection = this.tx(correlationId).idempotent(cause);
      rejection.publish(StockRejected, { orderId, reason, unavailableSkus });
      await rejection.commit(this.client);
      return { kind: 'REJECTED', reason, unavailableSkus };
    }
  }

  async release(orderId: string, correlationId: string, cause: string): Promise<ReleaseOutcome> {
    const reservation = await this.getReservation(orderId);
    const tx = this.tx(correlationId).idempotent(cause);
    const reservationKey = keyOf(this.layout, `RESERVATION#${orderId}`);
    const at = this.clock().toISOString();
    if (!reservation) {
      // The release overtook the reservation: leave a tombstone so a late OrderPlaced reserves nothing.
      tx.put(
        'reservation',
        {
          ...reservationKey,
          itemType: 'Reservation',
          orderId,
          lines: [],
          status: ReservationStatus.RELEASED,
          createdAt: at,
        },
        { expression: 'attribute_not_exists(#pk)', names: { '#pk': this.layout.partitionKey } },
      );
      await tx.commit(this.client);
      return { kind: 'NOTHING_RESERVED' };
    }
    if (reservation.status === ReservationStatus.RELEASED) {
      await tx.commit(this.client);
      return { kind: 'ALREADY_RELEASED' };
    }
    for (const line of reservation.lines) {
      tx.update(
        `sku:${line.sku}`,
        keyOf(this.layout, `SKU#${line.sku}`),
        'SET available = available + :q, reserved = reserved - :q, updatedAt = :at',
        { expression: 'reserved >= :q', values: { ':q': line.quantity } },
        { ':at': at },
      );
    }
    tx.update(
      'reservation',
      reservationKey,
      'SET #status = :released, releasedAt = :at',
      { expression: '#status = :reserved', values: { ':reserved': ReservationStatus.RESERVED } },
      { ':released': ReservationStatus.RELEASED, ':at': at },
      { '#status': 'status' },
    );
    tx.publish(StockReleased, { orderId, lines: [...reservation.lines] });
    await tx.commit(this.client);
    return { kind: 'RELEASED', lines: [...reservation.lines] };
  }

  private tx(correlationId: string): DomainTransaction {
    return new DomainTransaction(this.layout, this.source, correlationId, this.clock);
  }
}

function toStock(item: Record<string, unknown>): StockItem {
  return {
    sku: String(item.sku),
    available: Number(item.available),
    reserved: Number(item.reserved ?? 0),
    updatedAt: String(item.updatedAt),
  };
}
