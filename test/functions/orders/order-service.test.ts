import { OrderStatus, TRANSITIONS, canTransition, transition } from '../../../functions/orders/domain/order';
import { OrderService, TransitionOutcome } from '../../../functions/orders/domain/order-service';
import { DependencyUnavailableError, ErrorKind } from '../../../functions/shared/errors';
import { FixedCustomerDirectory, InMemoryOrderRepository } from './in-memory-order-repository';

const alice = { userId: 'alice-0001', groups: [] };
const admin = { userId: 'admin-0001', groups: ['admins'] };
const LINES = { lines: [{ sku: 'SKU-1', quantity: 2 }] };

function setup(directory = new FixedCustomerDirectory(true), maxLinesPerOrder?: number) {
  const repository = new InMemoryOrderRepository();
  let n = 0;
  let clock = Date.parse('2026-11-21T10:00:00Z');
  const service = new OrderService(
    repository,
    directory,
    () => new Date((clock += 1000)),
    () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`,
    maxLinesPerOrder === undefined ? undefined : { maxLinesPerOrder: async () => maxLinesPerOrder },
  );
  return { repository, service };
}

describe('order state machine', () => {
  it('allows exactly the saga transitions', () => {
    const allowed = Object.entries(TRANSITIONS).flatMap(([from, tos]) => tos.map((to) => `${from}->${to}`));
    expect(allowed.sort()).toEqual([
      'CONFIRMED->CANCELLED',
      'PENDING->CANCELLED',
      'PENDING->CONFIRMED',
      'PENDING->REJECTED',
    ]);
  });

  it.each([
    [OrderStatus.REJECTED, OrderStatus.CONFIRMED],
    [OrderStatus.CANCELLED, OrderStatus.CONFIRMED],
    [OrderStatus.CONFIRMED, OrderStatus.REJECTED],
    [OrderStatus.CONFIRMED, OrderStatus.PENDING],
  ])('refuses %s → %s', (from, to) => {
    expect(canTransition(from, to)).toBe(false);
    const order = {
      id: 'o',
      customerId: 'c',
      lines: [],
      status: from,
      createdAt: '',
      updatedAt: '',
      version: 3,
    };
    expect(() => transition(order, to, new Date())).toThrow(/cannot become/);
  });
});

describe('OrderService', () => {
  it('places a PENDING order for the caller and records OrderPlaced with the correlation id', async () => {
    const { service, repository } = setup();
    const { order, replayed } = await service.place(alice, LINES, 'corr-1');
    expect(replayed).toBe(false);
    expect(order).toMatchObject({
      customerId: alice.userId,
      status: OrderStatus.PENDING,
      version: 1,
      lines: LINES.lines,
    });
    expect(repository.events).toEqual([{ type: 'OrderPlaced', order, correlationId: 'corr-1' }]);
  });

  it('refuses an order from a customer without a profile (422) and stores nothing', async () => {
    const { service, repository } = setup(new FixedCustomerDirectory(false));
    await expect(service.place(alice, LINES, 'c')).rejects.toMatchObject({
      kind: ErrorKind.UNPROCESSABLE,
      code: 'CUSTOMER_PROFILE_REQUIRED',
    });
    expect(repository.orders.size).toBe(0);
  });

  it('refuses an order with more lines than the configured limit (422 TOO_MANY_ORDER_LINES), storing nothing', async () => {
    const { service, repository } = setup(undefined, 2);
    const three = { lines: ['SKU-1', 'SKU-2', 'SKU-3'].map((sku) => ({ sku, quantity: 1 })) };
    await expect(service.place(alice, three, 'c')).rejects.toMatchObject({
      kind: ErrorKind.UNPROCESSABLE,
      code: 'TOO_MANY_ORDER_LINES',
      message: 'An order may have at most 2 lines; this one has 3',
    });
    expect(repository.orders.size).toBe(0);
    await expect(service.place(alice, { lines: three.lines.slice(0, 2) }, 'c')).resolves.toMatchObject({
      replayed: false,
    });
  });

  it('allows the schema bound of 50 lines when no limit is configured', async () => {
    const { service } = setup();
    const fifty = { lines: Array.from({ length: 50 }, (_, i) => ({ sku: `SKU-${i}`, quantity: 1 })) };
    await expect(service.place(alice, fifty, 'c')).resolves.toMatchObject({ replayed: false });
  });

  it('falls back to 503 DEPENDENCY_UNAVAILABLE when users cannot answer, and stores nothing', async () => {
    const { service, repository } = setup(
      new FixedCustomerDirectory(new DependencyUnavailableError('users', 30)),
    );
    await expect(service.place(alice, LINES, 'c')).rejects.toMatchObject({
      kind: ErrorKind.UNAVAILABLE,
      retryAfterSeconds: 30,
    });
    expect(repository.orders.size).toBe(0);
  });

  it('returns the first order for a repeated idempotency key', async () => {
    const { service, repository } = setup();
    const first = await service.place(alice, LINES, 'c', 'key-12345678');
    const second = await service.place(alice, LINES, 'c', 'key-12345678');
    expect(second).toEqual({ order: first.order, replayed: true });
    expect(repository.orders.size).toBe(1);
    expect(repository.events).toHaveLength(1);
  });

  it('answers a retried request from the store even while users is unavailable', async () => {
    const repository = new InMemoryOrderRepository();
    const up = new OrderService(
      repository,
      new FixedCustomerDirectory(true),
      () => new Date(),
      () => '00000000-0000-4000-8000-000000000001',
    );
    const first = await up.place(alice, LINES, 'c', 'key-12345678');
    const down = new OrderService(
      repository,
      new FixedCustomerDirectory(new DependencyUnavailableError('users', 30)),
      () => new Date(),
      () => 'x',
    );
    await expect(down.place(alice, LINES, 'c', 'key-12345678')).resolves.toEqual({
      order: first.order,
      replayed: true,
    });
  });

  it('saga: stock reserved confirms a pending order and records OrderConfirmed', async () => {
    const { service, repository } = setup();
    const { order } = await service.place(alice, LINES, 'c');
    await expect(service.confirm(order.id, 'corr-2', 'EVENT#e1')).resolves.toBe(TransitionOutcome.APPLIED);
    expect(repository.orders.get(order.id)).toMatchObject({ status: OrderStatus.CONFIRMED, version: 2 });
    expect(repository.events.map((e) => e.type)).toEqual(['OrderPlaced', 'OrderConfirmed']);
  });

  it('saga: stock rejected rejects a pending order with the reason and records OrderRejected', async () => {
    const { service, repository } = setup();
    const { order } = await service.place(alice, LINES, 'c');
    await service.reject(order.id, 'INSUFFICIENT_STOCK', 'c', 'EVENT#e1');
    expect(repository.orders.get(order.id)).toMatchObject({
      status: OrderStatus.REJECTED,
      rejectionReason: 'INSUFFICIENT_STOCK',
    });
    expect(repository.events.at(-1)).toMatchObject({ type: 'OrderRejected', reason: 'INSUFFICIENT_STOCK' });
  });

  it('saga: never confirms a rejected order', async () => {
    const { service, repository } = setup();
    const { order } = await service.place(alice, LINES, 'c');
    await service.reject(order.id, 'INSUFFICIENT_STOCK', 'c', 'EVENT#e1');
    await expect(service.confirm(order.id, 'c', 'EVENT#e2')).resolves.toBe(TransitionOutcome.REFUSED);
    expect(repository.orders.get(order.id)?.status).toBe(OrderStatus.REJECTED);
    expect(repository.events.map((e) => e.type)).toEqual(['OrderPlaced', 'OrderRejected']);
  });

  it('saga: a repeated confirmation is already done and records nothing new', async () => {
    const { service, repository } = setup();
    const { order } = await service.place(alice, LINES, 'c');
    await service.confirm(order.id, 'c', 'EVENT#e1');
    await expect(service.confirm(order.id, 'c', 'EVENT#e1')).resolves.toBe(TransitionOutcome.ALREADY_DONE);
    expect(repository.events).toHaveLength(2);
  });

  it('lets the customer cancel a confirmed order, recording OrderCancelled', async () => {
    const { service, repository } = setup();
    const { order } = await service.place(alice, LINES, 'c');
    await service.confirm(order.id, 'c', 'EVENT#e1');
    await expect(service.cancel(alice, order.id, 'c')).resolves.toMatchObject({
      status: OrderStatus.CANCELLED,
    });
    expect(repository.events.at(-1)?.type).toBe('OrderCancelled');
  });

  it('refuses to cancel a rejected order (409) and keeps it rejected', async () => {
    const { service, repository } = setup();
    const { order } = await service.place(alice, LINES, 'c');
    await service.reject(order.id, 'INSUFFICIENT_STOCK', 'c', 'EVENT#e1');
    await expect(service.cancel(alice, order.id, 'c')).rejects.toMatchObject({
      kind: ErrorKind.CONFLICT,
      code: 'INVALID_ORDER_TRANSITION',
    });
    expect(repository.orders.get(order.id)?.status).toBe(OrderStatus.REJECTED);
  });

  it("hides other customers' orders (404) but shows them to admins", async () => {
    const { service } = setup();
    const { order } = await service.place(alice, LINES, 'c');
    await expect(service.get({ userId: 'bob-0001', groups: [] }, order.id)).rejects.toMatchObject({
      kind: ErrorKind.NOT_FOUND,
    });
    await expect(service.get(admin, order.id)).resolves.toMatchObject({ id: order.id });
  });

  it("refuses to list another customer's orders", async () => {
    const { service } = setup();
    await expect(
      service.listForCustomer({ userId: 'bob-0001', groups: [] }, alice.userId),
    ).rejects.toMatchObject({ kind: ErrorKind.FORBIDDEN });
  });
});
