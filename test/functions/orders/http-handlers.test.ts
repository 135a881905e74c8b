import type { APIGatewayProxyResult } from 'aws-lambda';
import type { Order } from '../../../functions/orders/domain/order';
import { OrderStatus } from '../../../functions/orders/domain/order';
import type { handler as GetOrderHandler } from '../../../functions/orders/handlers/get-order';
import { apiEvent, lambdaContext, userClaims } from '../api-event';
import type { InMemoryOrderRepository } from './in-memory-order-repository';

// The handlers' wiring, over the in-memory repository (the DynamoDB adapter has its own tests).
jest.mock('../../../functions/orders/handlers/dependencies', () => {
  const { OrderService } = jest.requireActual('../../../functions/orders/domain/order-service');
  const memory = jest.requireActual('./in-memory-order-repository');
  const repository = new memory.InMemoryOrderRepository();
  const customers = { answer: true as boolean | Error };
  const directory = {
    exists: async () => {
      if (customers.answer instanceof Error) throw customers.answer;
      return customers.answer;
    },
  };
  let next = 0;
  const ids = () => `0b8f5c1e-8d5f-4c5e-9a46-2f6c1c0f${String(++next).padStart(4, '0')}`;
  return {
    orders: new OrderService(repository, directory, () => new Date('2026-11-21T09:00:00.000Z'), ids),
    repository,
    customers,
  };
});

// esbuild does not hoist jest.mock above imports: the handlers are loaded once the mock is registered.
type Handler = typeof GetOrderHandler;
let placeOrder: Handler;
let getOrder: Handler;
let listOrders: Handler;
let cancelOrder: Handler;
beforeAll(async () => {
  placeOrder = (await import('../../../functions/orders/handlers/place-order')).handler;
  getOrder = (await import('../../../functions/orders/handlers/get-order')).handler;
  listOrders = (await import('../../../functions/orders/handlers/list-orders')).handler;
  cancelOrder = (await import('../../../functions/orders/handlers/cancel-order')).handler;
});

const world = jest.requireMock('../../../functions/orders/handlers/dependencies') as {
  repository: InMemoryOrderRepository;
  customers: { answer: boolean | Error };
};

const ALICE = '11111111-aaaa-bbbb-cccc-000000000001';
const BOB = '11111111-aaaa-bbbb-cccc-000000000002';
const UNKNOWN_ORDER = '0b8f5c1e-8d5f-4c5e-9a46-2f6c1c0fffff';
const LINES = [{ sku: 'SKU-1', quantity: 2 }];

function json(result: APIGatewayProxyResult) {
  return JSON.parse(result.body);
}

function seed(order: Partial<Order> & { id: string; customerId: string }): Order {
  const full: Order = {
    lines: LINES,
    status: OrderStatus.PENDING,
    createdAt: '2026-11-20T09:00:00.000Z',
    updatedAt: '2026-11-20T09:00:00.000Z',
    version: 1,
    ...order,
  };
  world.repository.orders.set(full.id, full);
  return full;
}

beforeEach(() => {
  world.repository.orders.clear();
  world.repository.events.length = 0;
  (world.repository as unknown as { markers: Map<string, string> }).markers.clear();
  world.customers.answer = true;
});

describe('POST /orders', () => {
  it('places a PENDING order for the caller: 201, a location, OrderPlaced stored with the correlation id', async () => {
    const result = await placeOrder(
      apiEvent({
        method: 'POST',
        path: '/orders',
        body: { lines: LINES },
        claims: userClaims(ALICE),
        headers: { 'X-Correlation-Id': 'corr-1' },
      }),
      lambdaContext,
    );
    expect(result.statusCode).toBe(201);
    const body = json(result);
    expect(body).toEqual({
      id: expect.stringMatching(/^0b8f5c1e-8d5f-4c5e-9a46-2f6c1c0f\d{4}$/),
      customerId: ALICE,
      lines: LINES,
      status: 'PENDING',
      createdAt: '2026-11-21T09:00:00.000Z',
      updatedAt: '2026-11-21T09:00:00.000Z',
      version: 1,
    });
    expect(result.headers?.location).toBe(`/v1/orders/${body.id}`);
    expect(result.headers?.['idempotent-replayed']).toBeUndefined();
    expect(result.headers?.['x-correlation-id']).toBe('corr-1');
    expect(world.repository.events).toEqual([{ type: 'OrderPlaced', order: body, correlationId: 'corr-1' }]);
  });

  it('answers a retry with the same Idempotency-Key with the first order: 200 and idempotent-replayed', async () => {
    const event = apiEvent({
      method: 'POST',
      path: '/orders',
      body: { lines: LINES },
      claims: userClaims(ALICE),
      headers: { 'Idempotency-Key': 'key-12345' },
    });
    const first = await placeOrder(event, lambdaContext);
    const second = await placeOrder(event, lambdaContext);
    expect(first.statusCode).toBe(201);
    expect(second.statusCode).toBe(200);
    expect(second.headers?.['idempotent-replayed']).toBe('true');
    expect(json(second)).toEqual(json(first));
    expect(second.headers?.location).toBe(`/v1/orders/${json(first).id}`);
    expect(world.repository.orders.size).toBe(1);
    expect(world.repository.events).toHaveLength(1);
  });

  it('refuses a malformed Idempotency-Key with 400 before placing anything', async () => {
    expect.hasAssertions();
    for (const key of ['short', 'has space!', 'x'.repeat(65)]) {
      const result = await placeOrder(
        apiEvent({
          method: 'POST',
          path: '/orders',
          body: { lines: LINES },
          claims: userClaims(ALICE),
          headers: { 'Idempotency-Key': key },
        }),
        lambdaContext,
      );
      expect(result.statusCode).toBe(400);
      expect(json(result).error).toEqual({
        code: 'VALIDATION_FAILED',
        message: 'Idempotency-Key must be 8-64 letters, digits, - or _',
        requestId: 'req-123',
      });
    }
    expect(world.repository.orders.size).toBe(0);
  });

  it('refuses a body that breaks PlaceOrderInput with 400 and the failing paths', async () => {
    const result = await placeOrder(
      apiEvent({ method: 'POST', path: '/orders', body: { lines: [] }, claims: userClaims(ALICE) }),
      lambdaContext,
    );
    expect(result.statusCode).toBe(400);
    expect(json(result).error).toMatchObject({
      code: 'VALIDATION_FAILED',
      message: 'The request body is invalid',
      details: [expect.objectContaining({ path: 'lines' })],
    });
    const extra = await placeOrder(
      apiEvent({
        method: 'POST',
        path: '/orders',
        body: { lines: [{ sku: 'sku-lower', quantity: 0 }] },
        claims: userClaims(ALICE),
      }),
      lambdaContext,
    );
    expect(extra.statusCode).toBe(400);
    expect(
      json(extra)
        .error.details.map((d: { path: string }) => d.path)
        .sort(),
    ).toEqual(['lines.0.quantity', 'lines.0.sku']);
    expect(world.repository.orders.size).toBe(0);
  });

  it('answers 422 CUSTOMER_PROFILE_REQUIRED when the caller has no profile', async () => {
    world.customers.answer = false;
    const result = await placeOrder(
      apiEvent({ method: 'POST', path: '/orders', body: { lines: LINES }, claims: userClaims(ALICE) }),
      lambdaContext,
    );
    expect(result.statusCode).toBe(422);
    expect(json(result).error).toEqual({
      code: 'CUSTOMER_PROFILE_REQUIRED',
      message: 'Create your profile (POST /users/profiles) before ordering',
      requestId: 'req-123',
    });
    expect(world.repository.orders.size).toBe(0);
  });

  it('answers 401 to an anonymous call', async () => {
    const result = await placeOrder(
      apiEvent({ method: 'POST', path: '/orders', body: { lines: LINES } }),
      lambdaContext,
    );
    expect(result.statusCode).toBe(401);
    expect(json(result).error.code).toBe('UNAUTHORIZED');
    expect(world.repository.orders.size).toBe(0);
  });

  it('answers 500 INTERNAL_ERROR when the customer directory fails unexpectedly', async () => {
    world.customers.answer = new Error('boom');
    const result = await placeOrder(
      apiEvent({ method: 'POST', path: '/orders', body: { lines: LINES }, claims: userClaims(ALICE) }),
      lambdaContext,
    );
    expect(result.statusCode).toBe(500);
    expect(json(result)).toEqual({
      error: {
        code: 'INTERNAL_ERROR',
        message: 'Something went wrong; quote the request id when reporting it',
        requestId: 'req-123',
      },
    });
  });
});

describe('GET /orders/{id}', () => {
  const ID = '0b8f5c1e-8d5f-4c5e-9a46-2f6c1c0f0100';

  it("answers 200 with the caller's own order", async () => {
    const order = seed({ id: ID, customerId: ALICE });
    const result = await getOrder(
      apiEvent({ path: `/orders/${ID}`, pathParameters: { id: ID }, claims: userClaims(ALICE) }),
      lambdaContext,
    );
    expect(result.statusCode).toBe(200);
    expect(json(result)).toEqual(order);
  });

  it("answers 404 for another customer's order, as for a missing one (no existence leak)", async () => {
    expect.hasAssertions();
    seed({ id: ID, customerId: BOB });
    for (const id of [ID, UNKNOWN_ORDER]) {
      const result = await getOrder(
        apiEvent({ path: `/orders/${id}`, pathParameters: { id }, claims: userClaims(ALICE) }),
        lambdaContext,
      );
      expect(result.statusCode).toBe(404);
      expect(json(result).error).toEqual({
        code: 'ORDER_NOT_FOUND',
        message: `No order with id ${id}`,
        requestId: 'req-123',
      });
    }
  });

  it("lets an admin read any customer's order", async () => {
    const order = seed({ id: ID, customerId: BOB });
    const result = await getOrder(
      apiEvent({ path: `/orders/${ID}`, pathParameters: { id: ID }, claims: userClaims(ALICE, ['admins']) }),
      lambdaContext,
    );
    expect(result.statusCode).toBe(200);
    expect(json(result)).toEqual(order);
  });

  it('refuses an id that is not a UUID with 400', async () => {
    const result = await getOrder(
      apiEvent({ path: '/orders/abc', pathParameters: { id: 'abc' }, claims: userClaims(ALICE) }),
      lambdaContext,
    );
    expect(result.statusCode).toBe(400);
    expect(json(result).error).toMatchObject({
      code: 'VALIDATION_FAILED',
      message: 'The path parameters are invalid',
      details: [expect.objectContaining({ path: 'id' })],
    });
  });
});

describe('GET /orders?customerId=', () => {
  it("lists the caller's orders newest first for customerId=me and for their own id", async () => {
    expect.hasAssertions();
    const older = seed({ id: '0b8f5c1e-8d5f-4c5e-9a46-2f6c1c0f0201', customerId: ALICE });
    const newer = seed({
      id: '0b8f5c1e-8d5f-4c5e-9a46-2f6c1c0f0202',
      customerId: ALICE,
      createdAt: '2026-11-21T00:00:00.000Z',
    });
    seed({ id: '0b8f5c1e-8d5f-4c5e-9a46-2f6c1c0f0203', customerId: BOB });
    for (const customerId of ['me', ALICE]) {
      const result = await listOrders(
        apiEvent({ path: '/orders', queryStringParameters: { customerId }, claims: userClaims(ALICE) }),
        lambdaContext,
      );
      expect(result.statusCode).toBe(200);
      expect(json(result)).toEqual({ items: [newer, older] });
    }
  });

  it('answers 400 when customerId is missing', async () => {
    const result = await listOrders(apiEvent({ path: '/orders', claims: userClaims(ALICE) }), lambdaContext);
    expect(result.statusCode).toBe(400);
    expect(json(result).error).toEqual({
      code: 'VALIDATION_FAILED',
      message: 'The customerId query parameter is required',
      requestId: 'req-123',
    });
  });

  it("answers 403 for another customer's list, and lets an admin list it", async () => {
    const bobs = seed({ id: '0b8f5c1e-8d5f-4c5e-9a46-2f6c1c0f0301', customerId: BOB });
    const refused = await listOrders(
      apiEvent({ path: '/orders', queryStringParameters: { customerId: BOB }, claims: userClaims(ALICE) }),
      lambdaContext,
    );
    expect(refused.statusCode).toBe(403);
    expect(json(refused).error).toEqual({
      code: 'FORBIDDEN',
      message: "Only the customer or an administrator can list a customer's orders",
      requestId: 'req-123',
    });
    const admin = await listOrders(
      apiEvent({
        path: '/orders',
        queryStringParameters: { customerId: BOB },
        claims: userClaims(ALICE, ['admins']),
      }),
      lambdaContext,
    );
    expect(admin.statusCode).toBe(200);
    expect(json(admin)).toEqual({ items: [bobs] });
  });
});

describe('POST /orders/{id}/cancel', () => {
  const ID = '0b8f5c1e-8d5f-4c5e-9a46-2f6c1c0f0400';
  const cancel = (claims = userClaims(ALICE), id = ID) =>
    cancelOrder(
      apiEvent({
        method: 'POST',
        path: `/orders/${id}/cancel`,
        pathParameters: { id },
        claims,
        headers: { 'x-correlation-id': 'corr-cancel' },
      }),
      lambdaContext,
    );

  it('cancels a PENDING or CONFIRMED order: 200 with the new state, OrderCancelled stored', async () => {
    expect.hasAssertions();
    for (const status of [OrderStatus.PENDING, OrderStatus.CONFIRMED]) {
      world.repository.events.length = 0;
      seed({ id: ID, customerId: ALICE, status, version: 2 });
      const result = await cancel();
      expect(result.statusCode).toBe(200);
      const expected = {
        id: ID,
        customerId: ALICE,
        lines: LINES,
        status: 'CANCELLED',
        createdAt: '2026-11-20T09:00:00.000Z',
        updatedAt: '2026-11-21T09:00:00.000Z',
        version: 3,
      };
      expect(json(result)).toEqual(expected);
      expect(world.repository.events).toEqual([
        { type: 'OrderCancelled', order: expected, correlationId: 'corr-cancel' },
      ]);
    }
  });

  it('answers 409 INVALID_ORDER_TRANSITION for a REJECTED or CANCELLED order', async () => {
    expect.hasAssertions();
    for (const status of [OrderStatus.REJECTED, OrderStatus.CANCELLED]) {
      seed({ id: ID, customerId: ALICE, status });
      const result = await cancel();
      expect(result.statusCode).toBe(409);
      expect(json(result).error).toEqual({
        code: 'INVALID_ORDER_TRANSITION',
        message: `Order ${ID} is ${status} and cannot become CANCELLED`,
        requestId: 'req-123',
      });
    }
    expect(world.repository.events).toEqual([]);
  });

  it("answers 404 for another customer's order and leaves it alone", async () => {
    const bobs = seed({ id: ID, customerId: BOB });
    const result = await cancel();
    expect(result.statusCode).toBe(404);
    expect(json(result).error.code).toBe('ORDER_NOT_FOUND');
    expect(world.repository.orders.get(ID)).toEqual(bobs);
  });
});
