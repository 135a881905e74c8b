import { InventoryService } from '../../../functions/inventory/domain/inventory-service';
import type { ReleaseOutcome, ReserveOutcome, StockStore } from '../../../functions/inventory/domain/ports';
import type { StockItem } from '../../../functions/inventory/domain/stock';
import { ErrorKind, NotFoundError } from '../../../functions/shared/errors';

const ITEM: StockItem = { sku: 'SKU-1', available: 5, reserved: 2, updatedAt: '2026-11-21T09:00:00.000Z' };

function store(overrides: Partial<StockStore> = {}): jest.Mocked<StockStore> {
  return {
    get: jest.fn(async () => undefined),
    setAvailable: jest.fn(async () => ITEM),
    getReservation: jest.fn(async () => undefined),
    reserve: jest.fn(async (): Promise<ReserveOutcome> => ({ kind: 'RESERVED', lines: [] })),
    release: jest.fn(async (): Promise<ReleaseOutcome> => ({ kind: 'NOTHING_RESERVED' })),
    ...overrides,
  } as jest.Mocked<StockStore>;
}

describe('InventoryService', () => {
  it('get returns the stored stock item', async () => {
    const stock = store({ get: jest.fn(async () => ITEM) });
    await expect(new InventoryService(stock).get('SKU-1')).resolves.toEqual(ITEM);
    expect(stock.get).toHaveBeenCalledWith('SKU-1');
  });

  it('get throws 404 SKU_NOT_FOUND naming the SKU when there is no stock record', async () => {
    const error = await new InventoryService(store())
      .get('SKU-404')
      .then(() => undefined)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error).toMatchObject({
      kind: ErrorKind.NOT_FOUND,
      code: 'SKU_NOT_FOUND',
      message: 'No stock record for SKU-404',
    });
  });

  it('setAvailable passes the quantity of the validated body to the store and returns its item', async () => {
    const stock = store();
    await expect(new InventoryService(stock).setAvailable('SKU-1', { available: 7 })).resolves.toEqual(ITEM);
    expect(stock.setAvailable).toHaveBeenCalledTimes(1);
    expect(stock.setAvailable).toHaveBeenCalledWith('SKU-1', 7);
  });

  it('reserve merges lines of the same SKU, sorts them by SKU and returns the store outcome', async () => {
    const outcome: ReserveOutcome = {
      kind: 'REJECTED',
      reason: 'Insufficient stock',
      unavailableSkus: ['SKU-B'],
    };
    const stock = store({ reserve: jest.fn(async () => outcome) });
    const result = await new InventoryService(stock).reserve(
      'order-1',
      [
        { sku: 'SKU-B', quantity: 1 },
        { sku: 'SKU-A', quantity: 2 },
        { sku: 'SKU-B', quantity: 3 },
      ],
      'corr-1',
      'EVENT#evt-1',
    );
    expect(result).toBe(outcome);
    expect(stock.reserve).toHaveBeenCalledTimes(1);
    expect(stock.reserve).toHaveBeenCalledWith(
      'order-1',
      [
        { sku: 'SKU-A', quantity: 2 },
        { sku: 'SKU-B', quantity: 4 },
      ],
      'corr-1',
      'EVENT#evt-1',
    );
  });

  it('release forwards the order, correlation id and cause and returns the store outcome', async () => {
    const outcome: ReleaseOutcome = { kind: 'RELEASED', lines: [{ sku: 'SKU-A', quantity: 2 }] };
    const stock = store({ release: jest.fn(async () => outcome) });
    await expect(new InventoryService(stock).release('order-1', 'corr-2', 'EVENT#evt-2')).resolves.toBe(
      outcome,
    );
    expect(stock.release).toHaveBeenCalledWith('order-1', 'corr-2', 'EVENT#evt-2');
    expect(stock.reserve).not.toHaveBeenCalled();
  });
});
