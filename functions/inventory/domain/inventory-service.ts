import { NotFoundError } from '../../shared/errors';
import type { ReleaseOutcome, ReserveOutcome, StockStore } from './ports';
import type { ReservationLine, SetStockInput, StockItem } from './stock';
import { mergeLines } from './stock';

/** Inventory use cases and the inventory side of the saga. */
export class InventoryService {
  constructor(private readonly stock: StockStore) {}

  async get(sku: string): Promise<StockItem> {
    const item = await this.stock.get(sku);
    if (!item) throw new NotFoundError('SKU_NOT_FOUND', `No stock record for ${sku}`);
    return item;
  }

  /** Admin: sets the quantity available for new reservations (reservations already held are kept). */
  setAvailable(sku: string, input: SetStockInput): Promise<StockItem> {
    return this.stock.setAvailable(sku, input.available);
  }

  /** Saga: OrderPlaced → reserve every line or none. */
  reserve(
    orderId: string,
    lines: readonly ReservationLine[],
    correlationId: string,
    cause: string,
  ): Promise<ReserveOutcome> {
    return this.stock.reserve(orderId, mergeLines(lines), correlationId, cause);
  }

  /** Compensation: OrderRejected / OrderCancelled → release what the order holds. */
  release(orderId: string, correlationId: string, cause: string): Promise<ReleaseOutcome> {
    return this.stock.release(orderId, correlationId, cause);
  }
}
