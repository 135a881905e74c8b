import { ForbiddenError, NotFoundError, UnprocessableError } from '../../shared/errors';
import type { Order, PlaceOrderInput } from './order';
import { canTransition, InvalidTransitionError, MAX_ORDER_LINES, OrderStatus, transition } from './order';
import type {
  Clock,
  CustomerDirectory,
  IdGenerator,
  OrderEvent,
  OrderRepository,
  OrderSettings,
  PlaceResult,
} from './ports';

export const ADMIN_GROUP = 'admins';

export interface Actor {
  readonly userId: string;
  readonly groups: readonly string[];
}

/** What happened when an event asked for a state change. */
export enum TransitionOutcome {
  /** The order moved to the new state and its event was stored. */
  APPLIED = 'APPLIED',
  /** The order is already in that state (a redelivery): nothing to do. */
  ALREADY_DONE = 'ALREADY_DONE',
  /** The state machine forbids it (e.g. confirming a cancelled order): ignored, the order keeps its state. */
  REFUSED = 'REFUSED',
}

/** Settings when none are configured: the request schema's bound. */
const UNCONFIGURED: OrderSettings = { maxLinesPerOrder: () => Promise.resolve(MAX_ORDER_LINES) };

/** The order has more lines than this environment allows (a configured limit, below the schema's bound). */
export class TooManyOrderLinesError extends UnprocessableError {
  constructor(
    public readonly lines: number,
    public readonly limit: number,
  ) {
    super('TOO_MANY_ORDER_LINES', `An order may have at most ${limit} lines; this one has ${lines}`);
  }
}

/** Order use cases and the orders side of the saga, over the repository and customer-directory ports. */
export class OrderService {
  constructor(
    private readonly orders: OrderRepository,
    private readonly customers: CustomerDirectory,
    private readonly clock: Clock,
    private readonly newId: IdGenerator,
    private readonly settings: OrderSettings = UNCONFIGURED,
  ) {}

  /** Places an order for the caller after checking their profile exists (synchronous call to users). */
  async place(
    actor: Actor,
    input: PlaceOrderInput,
    correlationId: string,
    idempotencyKey?: string,
  ): Promise<PlaceResult> {
    // A retry of an accepted request is answered from the store, even while users is unavailable.
    if (idempotencyKey) {
      const earlier = await this.orders.findReplay(actor.userId, idempotencyKey, input.lines);
      if (earlier) return { order: earlier, replayed: true };
    }
    const limit = await this.settings.maxLinesPerOrder();
    if (input.lines.length > limit) throw new TooManyOrderLinesError(input.lines.length, limit);
    if (!(await this.customers.exists(actor.userId))) {
      throw new UnprocessableError(
        'CUSTOMER_PROFILE_REQUIRED',
        'Create your profile (POST /users/profiles) before ordering',
      );
    }
    const now = this.clock().toISOString();
    const order: Order = {
      id: this.newId(),
      customerId: actor.userId,
      lines: input.lines.map((l) => ({ sku: l.sku, quantity: l.quantity })),
      status: OrderStatus.PENDING,
      createdAt: now,
      updatedAt: now,
      version: 1,
    };
    return this.orders.place(order, correlationId, idempotencyKey);
  }

  async get(actor: Actor, id: string): Promise<Order> {
    const order = await this.orders.get(id);
    if (!order || !mayAccess(actor, order.customerId))
      throw new NotFoundError('ORDER_NOT_FOUND', `No order with id ${id}`);
    return order;
  }

  async listForCustomer(actor: Actor, customerId: string): Promise<Order[]> {
    if (!mayAccess(actor, customerId))
      throw new ForbiddenError("Only the customer or an administrator can list a customer's orders");
    return this.orders.listByCustomer(customerId, 50);
  }

  /** The customer cancels their order (PENDING or CONFIRMED); inventory then releases the reservation. */
  async cancel(actor: Actor, id: string, correlationId: string): Promise<Order> {
    const order = await this.get(actor, id);
    const next = transition(order, OrderStatus.CANCELLED, this.clock());
    await this.orders.changeStatus(
      next,
      order.status,
      order.version,
      { type: 'OrderCancelled', order: next },
      correlationId,
    );
    return next;
  }

  /** Saga: stock was reserved → confirm the order. */
  confirm(orderId: string, correlationId: string, cause: string): Promise<TransitionOutcome> {
    return this.move(orderId, OrderStatus.CONFIRMED, correlationId, cause, (order) => ({
      type: 'OrderConfirmed',
      order,
    }));
  }

  /** Saga: stock was rejected → reject the order (inventory reserved nothing). */
  reject(orderId: string, reason: string, correlationId: string, cause: string): Promise<TransitionOutcome> {
    return this.move(
      orderId,
      OrderStatus.REJECTED,
      correlationId,
      cause,
      (order) => ({ type: 'OrderRejected', order, reason }),
      reason,
    );
  }

  private async move(
    orderId: string,
    to: OrderStatus,
    correlationId: string,
    cause: string,
    event: (order: Order) => OrderEvent,
    reason?: string,
  ): Promise<TransitionOutcome> {
    const order = await this.orders.get(orderId);
    if (!order) throw new NotFoundError('ORDER_NOT_FOUND', `No order with id ${orderId}`);
    if (order.status === to) return TransitionOutcome.ALREADY_DONE;
    if (!canTransition(order.status, to)) return TransitionOutcome.REFUSED;
    const next = transition(order, to, this.clock(), reason);
    await this.orders.changeStatus(next, order.status, order.version, event(next), correlationId, cause);
    return TransitionOutcome.APPLIED;
  }
}

function mayAccess(actor: Actor, customerId: string): boolean {
  return actor.userId === customerId || actor.groups.includes(ADMIN_GROUP);
}

export { InvalidTransitionError };
