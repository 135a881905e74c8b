import { ValidationError } from '../../shared/errors';
import { httpRoute } from '../../shared/http';
import { orders } from './dependencies';

/** GET /orders?customerId= — a customer's orders, newest first (own orders; any customer's for admins). */
export const handler = httpRoute({}, async ({ queryParameters, principal }) => {
  const customerId = queryParameters.customerId === 'me' ? principal!.userId : queryParameters.customerId;
  if (!customerId) throw new ValidationError('The customerId query parameter is required');
  return { statusCode: 200, body: { items: await orders.listForCustomer(principal!, customerId) } };
});
