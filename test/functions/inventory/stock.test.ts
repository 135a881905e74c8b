import { mergeLines } from '../../../functions/inventory/domain/stock';

describe('mergeLines', () => {
  it('merges lines of the same SKU, in SKU order (a transaction touches each stock item once)', () => {
    expect(
      mergeLines([
        { sku: 'B', quantity: 1 },
        { sku: 'A', quantity: 2 },
        { sku: 'B', quantity: 3 },
      ]),
    ).toEqual([
      { sku: 'A', quantity: 2 },
      { sku: 'B', quantity: 4 },
    ]);
  });
});
