import { ConflictError } from '../../shared/errors';
import type { Order, OrderStatus } from './order';

/** An event the repository stores atomically with a state change (published through the outbox). */
export type OrderEvent =
  | { readonly type: 'OrderPlaced'; readonly order: Order }
  | { readonly type: 'OrderConfirmed'; readonly order: Order }
  | { readonly type: 'OrderRejected'; readonly order: Order; readonly reason: string }
  | { readonly type: 'OrderCancelled'; readonly order: Order };

/** Result of placing an order: `replayed` when an earlier request with the same idempotency key placed it. */
export interface PlaceResult {
  readonly order: Order;
  readonly replayed: boolean;
}

/** Limits of the orders service that come from its runtime configuration (AppConfig settings). */
export interface OrderSettings {
  /** The most lines an order may have in this environment (at most {@link MAX_ORDER_LINES}). */
  maxLinesPerOrder(): Promise<number>;
}

/** Where orders live. Every write stores the new state and its event together, or neither. */
export interface OrderRepository {
  get(id: string): Promise<Order | undefined>;
  listByCustomer(customerId: string, limit: number): Promise<Order[]>;
  /** Stores a new order and OrderPlaced; with `idempotencyKey`, a repeat returns the first order instead. */
  /**
   * The order an earlier request with this Idempotency-Key placed, if any; throws 422 IDEMPOTENCY_KEY_REUSED
   * if that request had other lines.
   */
  findReplay(customerId: string, idempotencyKey: string, lines: Order['lines']): Promise<Order | undefined>;
  place(order: Order, correlationId: string, idempotencyKey?: string): Promise<PlaceResult>;
  /**
   * Stores `next` only if the stored order is still `expectedStatus` at `expectedVersion`, with its event.
   * `cause` (the id of the event that caused the change) makes the change idempotent.
   * Throws {@link ConcurrentChangeError} if the order changed meanwhile.
   */
  changeStatus(
    next: Order,
    expectedStatus: OrderStatus,
    expectedVersion: number,
    event: OrderEvent,
    correlationId: string,
    cause?: string,
  ): Promise<void>;
}

/** The order changed between read and write (409: the client may read it again and retry). */
export class ConcurrentChangeError extends ConflictError {
  constructor(public readonly orderId: string) {
    super(
      'ORDER_CHANGED',
      `Order ${orderId} changed while this request was processed; read it again and retry`,
    );
  }
}

/** Whether a customer (a users-service profile) exists. */
export interface CustomerDirectory {
  /** Throws {@link CustomerDirectoryUnavailableError} when the answer cannot be had. */
  exists(customerId: string): Promise<boolean>;
}

export type Clock = () => Date;
export type IdGenerator = () => string;
