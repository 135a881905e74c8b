import * as z from 'zod/mini';
import '../../shared/schema';
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

const sku = z.string().check(z.regex(/^[A-Z0-9][A-Z0-9-]{1,39}$/, 'an upper-case SKU such as SKU-123'));

/** Body of `POST /orders`. */
export const PlaceOrderInput = z.strictObject({
  lines: z
    .array(z.strictObject({ sku, quantity: z.int().check(z.minimum(1), z.maximum(1000)) }))
    .check(z.minLength(1), z.maxLength(50)),
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

/** Lines with the same SKU merged, in SKU order (a stock reservation touches each SKU once). */
export function mergeLines(lines: readonly OrderLine[]): OrderLine[] {
  const totals = new Map<string, number>();
  for (const line of lines) totals.set(line.sku, (totals.get(line.sku) ?? 0) + line.quantity);
  return [...totals].sort(([a], [b]) => a.localeCompare(b)).map(([s, quantity]) => ({ sku: s, quantity }));
}
