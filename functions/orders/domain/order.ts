import * as z from 'zod/mini';
import '../../shared/schema';
import { Quantity, Sku } from '../../contracts/events';
import { ConflictError } from '../../shared/errors';

/** The order saga's states. */
export enum OrderStatus {
  PENDING = 'PENDING',
  CONFIRMED = 'CONFIRMED',
  REJECTED = 'REJECTED',
  CANCELLED = 'CANCELLED',
}

/**
 * The only state changes an order may make (the saga's state machine):
 * PENDING → CONFIRMED (stock reserved) | REJECTED (stock rejected) | CANCELLED (by the customer);
 * CONFIRMED → CANCELLED. REJECTED and CANCELLED are final.
 */
export const TRANSITIONS: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  [OrderStatus.PENDING]: [OrderStatus.CONFIRMED, OrderStatus.REJECTED, OrderStatus.CANCELLED],
  [OrderStatus.CONFIRMED]: [OrderStatus.CANCELLED],
  [OrderStatus.REJECTED]: [],
  [OrderStatus.CANCELLED]: [],
};

export interface OrderLine {
  readonly sku: string;
  readonly quantity: number;
}

export interface Order {
  readonly id: string;
  readonly customerId: string;
  readonly lines: readonly OrderLine[];
  readonly status: OrderStatus;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly version: number;
  readonly rejectionReason?: string;
}

/**
 * The most lines any order may have: the request schema's bound, checked by the gateway. Each environment
 * configures its own limit up to this one (the `maxLinesPerOrder` setting).
 */
export const MAX_ORDER_LINES = 50;

/** Body of `POST /orders`. */
export const PlaceOrderInput = z.strictObject({
  lines: z
    .array(z.strictObject({ sku: Sku, quantity: Quantity }))
    .check(z.minLength(1), z.maxLength(MAX_ORDER_LINES)),
});
export type PlaceOrderInput = z.infer<typeof PlaceOrderInput>;

/** Path parameters of `/orders/{id}`. */
export const OrderPath = z.object({ id: z.uuid('an order id (UUID)') });

/** The transition is not allowed by the state machine. */
export class InvalidTransitionError extends ConflictError {
  constructor(
    public readonly orderId: string,
    public readonly from: OrderStatus,
    public readonly to: OrderStatus,
  ) {
    super('INVALID_ORDER_TRANSITION', `Order ${orderId} is ${from} and cannot become ${to}`);
  }
}

/** Whether `from → to` is allowed. */
export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** The order after the transition to `to`; throws {@link InvalidTransitionError} if the state machine forbids it. */
export function transition(order: Order, to: OrderStatus, now: Date, rejectionReason?: string): Order {
  if (!canTransition(order.status, to)) throw new InvalidTransitionError(order.id, order.status, to);
  return {
    ...order,
    status: to,
    updatedAt: now.toISOString(),
    version: order.version + 1,
    ...(rejectionReason ? { rejectionReason } : {}),
  };
}
