import { documentClient } from '../../shared/dynamodb';
import { requiredEnv } from '../../shared/env';
import { tableLayoutFromEnv } from '../../shared/events/transaction';
import { DynamoDbStockStore } from '../adapters/dynamodb-stock-store';
import { InventoryService } from '../domain/inventory-service';

/** Wiring of the inventory service, once per execution environment. */
export const inventory = new InventoryService(
  new DynamoDbStockStore(documentClient, tableLayoutFromEnv(), requiredEnv('EVENT_SOURCE')),
);
