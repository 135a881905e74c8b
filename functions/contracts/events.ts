import * as z from 'zod/mini';
import { toJSONSchema } from 'zod/v4/core';
import { defineContract } from '../shared/events/contract';
import type { EventContract } from '../shared/events/contract';
import '../shared/schema';

/**
 * The event contracts of the reference system (the Shop). Each is defined with {@link defineContract}; the
 * catalogue (docs/events.md) is generated from this file.
 */
export type { DataOf, EventContract } from '../shared/events/contract';

const contract = defineContract;

const orderId = z.uuid();
/** A stock-keeping unit, as every service writes it. */
export const Sku = z
  .string()
  .check(z.regex(/^[A-Z0-9][A-Z0-9-]{1,39}$/, 'an upper-case SKU such as SKU-123'));
/** Units of one SKU in an order line. */
export const Quantity = z.int().check(z.minimum(1), z.maximum(1000));
const orderLine = z.object({ sku: Sku, quantity: Quantity });
const nonEmpty = () => z.string().check(z.minLength(1));

/** A customer placed an order (orders). */
export const OrderPlaced = contract({
  type: 'OrderPlaced',
  version: 1,
  producer: 'orders',
  description: 'A customer placed an order; it waits for stock to be reserved.',
  schema: z.object({
    orderId,
    customerId: nonEmpty(),
    lines: z.array(orderLine).check(z.minLength(1), z.maxLength(50)),
  }),
});

/** Stock was reserved for every line of an order (orders). */
export const OrderConfirmed = contract({
  type: 'OrderConfirmed',
  version: 1,
  producer: 'orders',
  description: 'Stock was reserved for every line; the order is confirmed.',
  schema: z.object({ orderId, customerId: nonEmpty() }),
});

/** An order cannot be fulfilled (orders). */
export const OrderRejected = contract({
  type: 'OrderRejected',
  version: 1,
  producer: 'orders',
  description: 'The order cannot be fulfilled (e.g. out of stock); any reservation must be released.',
  schema: z.object({ orderId, customerId: nonEmpty(), reason: nonEmpty() }),
});

/** The customer cancelled an order (orders). */
export const OrderCancelled = contract({
  type: 'OrderCancelled',
  version: 1,
  producer: 'orders',
  description: 'The customer cancelled the order; its reservation must be released.',
  schema: z.object({ orderId, customerId: nonEmpty() }),
});

/** Every line of an order was reserved (inventory). */
export const StockReserved = contract({
  type: 'StockReserved',
  version: 1,
  producer: 'inventory',
  description: 'Every line of an order was reserved.',
  schema: z.object({ orderId, lines: z.array(orderLine).check(z.minLength(1)) }),
});

/** Some line of an order could not be reserved (inventory). */
export const StockRejected = contract({
  type: 'StockRejected',
  version: 1,
  producer: 'inventory',
  description: 'At least one line could not be reserved; nothing was reserved.',
  schema: z.object({ orderId, reason: nonEmpty(), unavailableSkus: z.array(Sku) }),
});

/** An order's reservation was released (inventory). */
export const StockReleased = contract({
  type: 'StockReleased',
  version: 1,
  producer: 'inventory',
  description: "An order's reservation was released (compensation).",
  schema: z.object({ orderId, lines: z.array(orderLine).check(z.minLength(1)) }),
});

/** Every contract, for the catalogue and the contract tests. */
export const EVENT_CONTRACTS: readonly EventContract[] = [
  OrderPlaced,
  OrderConfirmed,
  OrderRejected,
  OrderCancelled,
  StockReserved,
  StockRejected,
  StockReleased,
];

/** The JSON Schema (draft 2020-12) of a contract's `data`. */
export function jsonSchemaOf(c: EventContract): Record<string, unknown> {
  return toJSONSchema(c.schema, { io: 'input' }) as Record<string, unknown>;
}
