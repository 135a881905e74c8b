import type { Reservation, ReservationLine, StockItem } from './stock';

/** Outcome of trying to reserve an order's lines. */
export type ReserveOutcome =
  | { readonly kind: 'RESERVED'; readonly lines: ReservationLine[] }
  | { readonly kind: 'REJECTED'; readonly reason: string; readonly unavailableSkus: string[] };

/** Outcome of releasing an order's reservation. */
export type ReleaseOutcome =
  | { readonly kind: 'RELEASED'; readonly lines: ReservationLine[] }
  | { readonly kind: 'NOTHING_RESERVED' }
  | { readonly kind: 'ALREADY_RELEASED' };

/**
 * Stock and reservations. Implementations must never oversell: a reservation decrements `available` only if
 * enough is available for every line, atomically for all lines, and stores the result event with it.
 */
export interface StockStore {
  get(sku: string): Promise<StockItem | undefined>;
  setAvailable(sku: string, available: number): Promise<StockItem>;
  getReservation(orderId: string): Promise<Reservation | undefined>;
  /**
   * All lines or none; publishes StockReserved or StockRejected. `cause` is the triggering event id
   * (idempotency: a redelivery has no second effect).
   */
  reserve(
    orderId: string,
    lines: ReservationLine[],
    correlationId: string,
    cause: string,
  ): Promise<ReserveOutcome>;
  /** Gives a reservation back (compensation) and publishes StockReleased; idempotent on `cause`. */
  release(orderId: string, correlationId: string, cause: string): Promise<ReleaseOutcome>;
}
