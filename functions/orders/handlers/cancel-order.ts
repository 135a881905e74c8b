import { httpRoute } from '../../shared/http';
import { metrics } from '../../shared/powertools';
import { OrderPath } from '../domain/order';
import { orders } from './dependencies';

/** POST /orders/{id}/cancel — cancels a PENDING or CONFIRMED order; inventory releases its stock. */
export const handler = httpRoute(
  { pathParameters: OrderPath },
  async ({ pathParameters, principal, correlationId }) => {
    const order = await orders.cancel(principal!, pathParameters.id, correlationId);
    metrics.addMetric('OrderCancelled', 'Count', 1);
    return { statusCode: 200, body: order };
  },
);
