import { ValidationError } from '../../shared/errors';
import { httpRoute } from '../../shared/http';
import { SetStockInput, SKU } from '../domain/stock';
import { inventory } from './dependencies';

/** PUT /inventory/{sku} — (admins) sets the quantity available for reservation. */
export const handler = httpRoute({ body: SetStockInput }, async ({ pathParameters, body }) => {
  const sku = SKU.safeParse(pathParameters.sku);
  if (!sku.success) throw new ValidationError('sku must be an upper-case SKU such as SKU-123');
  return { statusCode: 200, body: await inventory.setAvailable(sku.data, body) };
});
