import { httpRoute } from '../../shared/http';
import { OrderPath } from '../domain/order';
import { orders } from './dependencies';

/** GET /orders/{id} — one of the caller's orders (any order for admins). */
export const handler = httpRoute({ pathParameters: OrderPath }, async ({ pathParameters, principal }) => ({
  statusCode: 200,
  body: await orders.get(principal!, pathParameters.id),
}));
