import * as z from 'zod/mini';
import '../../shared/schema';
import { ValidationError } from '../../shared/errors';
import { httpRoute } from '../../shared/http';
import { metrics } from '../../shared/powertools';
import { PlaceOrderInput } from '../domain/order';
import { orders } from './dependencies';

const IdempotencyKey = z.string().check(z.regex(/^[A-Za-z0-9_-]{8,64}$/));

/**
 * POST /orders — places an order for the caller (status PENDING) and publishes OrderPlaced. An
 * `Idempotency-Key` header makes retries safe: the same key returns the first order (200) instead of a new one.
 */
export const handler = httpRoute(
  { body: PlaceOrderInput },
  async ({ body, principal, headers, correlationId, basePath }) => {
    const key = headers['idempotency-key'];
    if (key !== undefined && !IdempotencyKey.safeParse(key).success) {
      throw new ValidationError('Idempotency-Key must be 8-64 letters, digits, - or _');
    }
    const { order, replayed } = await orders.place(principal!, body, correlationId, key);
    if (!replayed) metrics.addMetric('OrderPlaced', 'Count', 1);
    return {
      statusCode: replayed ? 200 : 201,
      body: order,
      headers: {
        location: `${basePath}/orders/${order.id}`,
        ...(replayed ? { 'idempotent-replayed': 'true' } : {}),
      },
    };
  },
);
