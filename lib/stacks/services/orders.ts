import * as path from 'node:path';
import { Duration } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import {
  OrderCancelled,
  OrderConfirmed,
  OrderPlaced,
  OrderRejected,
  StockRejected,
  StockReserved,
} from '../../../functions/contracts/events';
import { BY_CUSTOMER_INDEX } from '../../../functions/orders/adapters/dynamodb-order-repository';
import { MAX_ORDER_LINES, PlaceOrderInput } from '../../../functions/orders/domain/order';
import type { EnvironmentConfig } from '../../config/environments';
import { AccessMode, HttpMethod, RouteAccess, ServiceCall } from '../../constructs/microservice';
import { RequestSchema } from '../../constructs/request-schema';
import type { ServiceDefinition } from '../service-stack';
import { serviceDefaults } from './defaults';

const functions = path.join(__dirname, '..', '..', '..', 'functions', 'orders', 'handlers');

/** Scopes the orders service's routes require. */
export const ORDERS_SCOPES = [
  { name: 'orders.read', description: 'Read own orders' },
  { name: 'orders.write', description: 'Place and cancel own orders' },
];

/** The orders service: places orders and drives the order saga. */
export function ordersService(config: EnvironmentConfig): ServiceDefinition {
  return {
    serviceName: 'orders',
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    globalSecondaryIndexes: [
      {
        indexName: BY_CUSTOMER_INDEX,
        partitionKey: { name: 'customerId', type: dynamodb.AttributeType.STRING },
        sortKey: { name: 'createdAt', type: dynamodb.AttributeType.STRING },
      },
    ],
    ...serviceDefaults(config),
    timeout: Duration.seconds(10),
    publishes: [OrderPlaced, OrderConfirmed, OrderRejected, OrderCancelled],
    // Read by POST /orders (setting() of cdk-microservices/kit/config); a change deploys through AppConfig.
    configuration: {
      settings: { maxLinesPerOrder: config.maxLinesPerOrder ?? MAX_ORDER_LINES },
    },
    routes: [
      {
        method: HttpMethod.POST,
        path: '/orders',
        entry: path.join(functions, 'place-order.ts'),
        access: RouteAccess.scopes('orders.write'),
        tableAccess: AccessMode.READ_WRITE,
        requestSchema: RequestSchema.fromZod(PlaceOrderInput),
        calls: [ServiceCall.to('users', HttpMethod.GET, '/customers/*')],
        // Latency-critical (checkout): warm environments that scale with demand, where configured (prod).
        provisionedScaling: config.latencyCriticalScaling,
      },
      {
        method: HttpMethod.GET,
        path: '/orders/{id}',
        entry: path.join(functions, 'get-order.ts'),
        access: RouteAccess.scopes('orders.read'),
        tableAccess: AccessMode.READ,
      },
      {
        method: HttpMethod.GET,
        path: '/orders',
        entry: path.join(functions, 'list-orders.ts'),
        access: RouteAccess.scopes('orders.read'),
        tableAccess: AccessMode.READ,
        requiredQueryParameters: ['customerId'],
      },
      {
        method: HttpMethod.POST,
        path: '/orders/{id}/cancel',
        entry: path.join(functions, 'cancel-order.ts'),
        access: RouteAccess.scopes('orders.write'),
        tableAccess: AccessMode.READ_WRITE,
      },
    ],
    subscriptions: [
      {
        id: 'stock-results',
        events: [StockReserved, StockRejected],
        entry: path.join(functions, 'on-stock-result.ts'),
        maxConcurrency: 5,
      },
    ],
  };
}
