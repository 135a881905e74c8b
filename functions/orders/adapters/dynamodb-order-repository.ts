import { createHash } from 'node:crypto';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { OrderCancelled, OrderConfirmed, OrderPlaced, OrderRejected } from '../../contracts/events';
import { ConflictError, UnprocessableError } from '../../shared/errors';
import type { TableLayout } from '../../shared/events/transaction';
import {
  AlreadyProcessedError,
  DomainTransaction,
  keyOf,
  processedResult,
  TransactionConflictError,
} from '../../shared/events/transaction';
import type { Order, OrderStatus } from '../domain/order';
import type { OrderEvent, OrderRepository, PlaceResult } from '../domain/ports';
import { ConcurrentChangeError } from '../domain/ports';

/** Name of the global secondary index on (customerId, createdAt). */
export const BY_CUSTOMER_INDEX = 'byCustomer';

/**
 * Orders in the orders table (`pk = ORDER#{id}`), written with their events in one transaction through the
 * outbox. Listing by customer uses the `byCustomer` index.
 */
export class DynamoDbOrderRepository implements OrderRepository {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly layout: TableLayout,
    private readonly source: string,
  ) {}

  async get(id: string): Promise<Order | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.layout.tableName,
        Key: keyOf(this.layout, `ORDER#${id}`),
        ConsistentRead: true,
      }),
    );
    return Item ? toOrder(Item) : undefined;
  }

  async listByCustomer(customerId: string, limit: number): Promise<Order[]> {
    const { Items = [] } = await this.client.send(
      new QueryCommand({
        TableName: this.layout.tableName,
        IndexName: BY_CUSTOMER_INDEX,
        KeyConditionExpression: 'customerId = :c',
        ExpressionAttributeValues: { ':c': customerId },
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    return Items.map(toOrder);
  }

  async findReplay(
    customerId: string,
    idempotencyKey: string,
    lines: Order['lines'],
  ): Promise<Order | undefined> {
    const first = await processedResult(
      this.client,
      this.layout,
      `ORDER-REQUEST#${customerId}#${idempotencyKey}`,
    );
    if (!first) return undefined;
    if (first.requestHash !== hashOf(lines)) {
      throw new UnprocessableError(
        'IDEMPOTENCY_KEY_REUSED',
        'This Idempotency-Key was used for a different order',
      );
    }
    return this.get(String(first.orderId));
  }

  async place(order: Order, correlationId: string, idempotencyKey?: string): Promise<PlaceResult> {
    const tx = this.tx(correlationId);
    tx.put(
      'order',
      { ...tx.key(`ORDER#${order.id}`), itemType: 'Order', ...order },
      {
        expression: 'attribute_not_exists(#pk)',
        names: { '#pk': this.layout.partitionKey },
      },
    );
    tx.publish(OrderPlaced, { orderId: order.id, customerId: order.customerId, lines: order.lines });
    const marker = idempotencyKey ? `ORDER-REQUEST#${order.customerId}#${idempotencyKey}` : undefined;
    const requestHash = hashOf(order.lines);
    if (marker) tx.idempotent(marker, { orderId: order.id, requestHash });
    try {
      await tx.commit(this.client);
      return { order, replayed: false };
    } catch (error) {
      if (
        marker &&
        error instanceof TransactionConflictError &&
        error.reasons.includes('TransactionConflict')
      ) {
        throw new ConflictError(
          'IDEMPOTENCY_KEY_IN_USE',
          'A request with this Idempotency-Key is being processed; retry shortly',
        );
      }
      if (!(error instanceof AlreadyProcessedError) || !marker) throw error;
      const first = await processedResult(this.client, this.layout, marker);
      const existing = first && (await this.get(String(first.orderId)));
      if (!existing) throw error;
      if (first.requestHash !== requestHash) {
        throw new UnprocessableError(
          'IDEMPOTENCY_KEY_REUSED',
          'This Idempotency-Key was used for a different order',
        );
      }
      return { order: existing, replayed: true };
    }
  }

  async changeStatus(
    next: Order,
    expectedStatus: OrderStatus,
    expectedVersion: number,
    event: OrderEvent,
    correlationId: string,
    cause?: string,
  ): Promise<void> {
    const tx = this.tx(correlationId);
    tx.update(
      'order',
      tx.key(`ORDER#${next.id}`),
      'SET #status = :to, #version = :next, updatedAt = :at' +
        (next.rejectionReason ? ', rejectionReason = :reason' : ''),
      {
        expression: '#status = :from AND #version = :expected',
        values: { ':from': expectedStatus, ':expected': expectedVersion },
      },
      {
        ':to': next.status,
        ':next': next.version,
        ':at': next.updatedAt,
        ...(next.rejectionReason ? { ':reason': next.rejectionReason } : {}),
      },
      { '#status': 'status', '#version': 'version' },
    );
    publishEvent(tx, event);
    if (cause) tx.idempotent(cause);
    try {
      await tx.commit(this.client);
    } catch (error) {
      const orderConflict =
        error instanceof TransactionConflictError &&
        error.labels.some(
          (label, i) =>
            label === 'order' && ['ConditionalCheckFailed', 'TransactionConflict'].includes(error.reasons[i]),
        );
      if (orderConflict) throw new ConcurrentChangeError(next.id);
      throw error;
    }
  }

  private tx(correlationId: string): DomainTransaction {
    return new DomainTransaction(this.layout, this.source, correlationId);
  }
}

function publishEvent(tx: DomainTransaction, event: OrderEvent): void {
  const { order } = event;
  switch (event.type) {
    case 'OrderPlaced':
      tx.publish(OrderPlaced, { orderId: order.id, customerId: order.customerId, lines: order.lines });
      return;
    case 'OrderConfirmed':
      tx.publish(OrderConfirmed, { orderId: order.id, customerId: order.customerId });
      return;
    case 'OrderRejected':
      tx.publish(OrderRejected, { orderId: order.id, customerId: order.customerId, reason: event.reason });
      return;
    case 'OrderCancelled':
      tx.publish(OrderCancelled, { orderId: order.id, customerId: order.customerId });
      return;
  }
}

/** A stable fingerprint of the order lines, to tell a retried request from a different one reusing its key. */
function hashOf(lines: Order['lines']): string {
  return createHash('sha256')
    .update(JSON.stringify(lines.map((l) => [l.sku, l.quantity])))
    .digest('hex');
}

function toOrder(item: Record<string, unknown>): Order {
  return {
    id: String(item.id),
    customerId: String(item.customerId),
    lines: (item.lines as Order['lines']).map((l) => ({ sku: String(l.sku), quantity: Number(l.quantity) })),
    status: item.status as OrderStatus,
    createdAt: String(item.createdAt),
    updatedAt: String(item.updatedAt),
    version: Number(item.version),
    ...(item.rejectionReason ? { rejectionReason: String(item.rejectionReason) } : {}),
  };
}
