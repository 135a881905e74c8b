import { ValidationError } from '../../shared/errors';
import { httpRoute } from '../../shared/http';
import { SKU } from '../domain/stock';
import { inventory } from './dependencies';

/** GET /inventory/{sku} — available and reserved quantities. */
export const handler = httpRoute({}, async ({ pathParameters }) => {
  const sku = SKU.safeParse(pathParameters.sku);
  if (!sku.success) throw new ValidationError('sku must be an upper-case SKU such as SKU-123');
  return { statusCode: 200, body: await inventory.get(sku.data) };
});
