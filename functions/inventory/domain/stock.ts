import * as z from 'zod/mini';
import '../../shared/schema';
import { Sku } from '../../contracts/events';

/** Stock of one SKU: `available` can be reserved; `reserved` is held for orders. */
export interface StockItem {
  readonly sku: string;
  readonly available: number;
  readonly reserved: number;
  readonly updatedAt: string;
}

export enum ReservationStatus {
  RESERVED = 'RESERVED',
  /** Released (compensation), or a tombstone written when the release arrived before the reservation. */
  RELEASED = 'RELEASED',
}

export interface ReservationLine {
  readonly sku: string;
  readonly quantity: number;
}

export interface Reservation {
  readonly orderId: string;
  readonly lines: readonly ReservationLine[];
  readonly status: ReservationStatus;
}

/** A SKU in a path parameter (the contracts' definition). */
export const SKU = Sku;

/** Body of `PUT /inventory/{sku}`: the quantity available for new reservations. */
export const SetStockInput = z.strictObject({ available: z.int().check(z.minimum(0), z.maximum(1_000_000)) });
export type SetStockInput = z.infer<typeof SetStockInput>;

/** Lines with the same SKU merged, in SKU order: a transaction may touch each stock item only once. */
export function mergeLines(lines: readonly ReservationLine[]): ReservationLine[] {
  const totals = new Map<string, number>();
  for (const line of lines) totals.set(line.sku, (totals.get(line.sku) ?? 0) + line.quantity);
  return [...totals].sort(([a], [b]) => a.localeCompare(b)).map(([sku, quantity]) => ({ sku, quantity }));
}
