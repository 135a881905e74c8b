import * as path from 'node:path';
import { Duration } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import {
  OrderCancelled,
  OrderPlaced,
  OrderRejected,
  StockRejected,
  StockReleased,
  StockReserved,
} from '../../../functions/contracts/events';
import { SetStockInput } from '../../../functions/inventory/domain/stock';
import type { EnvironmentConfig } from '../../config/environments';
import { AccessMode, HttpMethod, RouteAccess } from '../../constructs/microservice';
import { RequestSchema } from '../../constructs/request-schema';
import type { ServiceDefinition } from '../service-stack';
import { serviceDefaults } from './defaults';

const functions = path.join(__dirname, '..', '..', '..', 'functions', 'inventory', 'handlers');

/** Scopes the inventory service's routes require. */
export const INVENTORY_SCOPES = [
  { name: 'inventory.read', description: 'Read stock levels' },
  { name: 'inventory.admin', description: 'Set stock levels' },
];

/** The inventory service: stock levels and reservations for orders. */
export function inventoryService(config: EnvironmentConfig): ServiceDefinition {
  return {
    serviceName: 'inventory',
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    ...serviceDefaults(config),
    timeout: Duration.seconds(6),
    publishes: [StockReserved, StockRejected, StockReleased],
    routes: [
      {
        method: HttpMethod.PUT,
        path: '/inventory/{sku}',
        entry: path.join(functions, 'set-stock.ts'),
        access: RouteAccess.scopes('inventory.admin'),
        tableAccess: AccessMode.READ_WRITE,
        requestSchema: RequestSchema.fromZod(SetStockInput),
      },
      {
        method: HttpMethod.GET,
        path: '/inventory/{sku}',
        entry: path.join(functions, 'get-stock.ts'),
        access: RouteAccess.scopes('inventory.read'),
        tableAccess: AccessMode.READ,
      },
    ],
    subscriptions: [
      {
        id: 'reserve-stock',
        events: [OrderPlaced],
        entry: path.join(functions, 'reserve-stock.ts'),
        maxConcurrency: 10,
      },
      {
        id: 'release-stock',
        events: [OrderRejected, OrderCancelled],
        entry: path.join(functions, 'release-stock.ts'),
        maxConcurrency: 5,
      },
    ],
  };
}
