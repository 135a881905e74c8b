import type { Order, OrderStatus } from '../../../functions/orders/domain/order';
import type {
  CustomerDirectory,
  OrderEvent,
  OrderRepository,
  PlaceResult,
} from '../../../functions/orders/domain/ports';
import { ConcurrentChangeError } from '../../../functions/orders/domain/ports';
import { AlreadyProcessedError } from '../../../functions/shared/events/transaction';

/** In-memory OrderRepository with the DynamoDB adapter's guarantees (atomic state + event, idempotency, version checks). */
export class InMemoryOrderRepository implements OrderRepository {
  readonly orders = new Map<string, Order>();
  readonly events: Array<OrderEvent & { correlationId: string }> = [];
  private readonly markers = new Map<string, string>();

  async get(id: string): Promise<Order | undefined> {
    return this.orders.get(id);
  }

  async listByCustomer(customerId: string, limit: number): Promise<Order[]> {
    return [...this.orders.values()]
      .filter((o) => o.customerId === customerId)
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
      .slice(0, limit);
  }

  async findReplay(customerId: string, idempotencyKey: string): Promise<Order | undefined> {
    const orderId = this.markers.get(`ORDER-REQUEST#${customerId}#${idempotencyKey}`);
    return orderId ? this.orders.get(orderId) : undefined;
  }

  async place(order: Order, correlationId: string, idempotencyKey?: string): Promise<PlaceResult> {
    const marker = idempotencyKey && `ORDER-REQUEST#${order.customerId}#${idempotencyKey}`;
    if (marker && this.markers.has(marker))
      return { order: this.orders.get(this.markers.get(marker)!)!, replayed: true };
    this.orders.set(order.id, order);
    this.events.push({ type: 'OrderPlaced', order, correlationId });
    if (marker) this.markers.set(marker, order.id);
    return { order, replayed: false };
  }

  async changeStatus(
    next: Order,
    expectedStatus: OrderStatus,
    expectedVersion: number,
    event: OrderEvent,
    correlationId: string,
    cause?: string,
  ): Promise<void> {
    if (cause && this.markers.has(cause)) throw new AlreadyProcessedError(cause);
    const current = this.orders.get(next.id);
    if (!current || current.status !== expectedStatus || current.version !== expectedVersion)
      throw new ConcurrentChangeError(next.id);
    this.orders.set(next.id, next);
    this.events.push({ ...event, correlationId });
    if (cause) this.markers.set(cause, next.id);
  }
}

/** A customer directory with a fixed answer, or one that is down. */
export class FixedCustomerDirectory implements CustomerDirectory {
  constructor(private readonly answer: boolean | Error) {}

  async exists(): Promise<boolean> {
    if (this.answer instanceof Error) throw this.answer;
    return this.answer;
  }
}
