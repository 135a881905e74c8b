import { randomUUID } from 'node:crypto';
import * as z from 'zod/mini';
import '../../shared/schema';
import { setting } from '../../shared/config';
import { documentClient } from '../../shared/dynamodb';
import { requiredEnv } from '../../shared/env';
import { tableLayoutFromEnv } from '../../shared/events/transaction';
import { DynamoDbOrderRepository } from '../adapters/dynamodb-order-repository';
import { HttpCustomerDirectory } from '../adapters/http-customer-directory';
import { MAX_ORDER_LINES } from '../domain/order';
import type { CustomerDirectory, OrderSettings } from '../domain/ports';
import { OrderService } from '../domain/order-service';

/**
 * The users client is created on first use: only functions that call users (POST /orders) have its URL,
 * and the circuit breaker then lives as long as the execution environment.
 */
let directory: HttpCustomerDirectory | undefined;
const customers: CustomerDirectory = {
  exists: (customerId) => (directory ??= HttpCustomerDirectory.fromEnv()).exists(customerId),
};

/** The service's settings in AppConfig, read when needed and cached by the kit (`maxAge`). */
const MaxLinesPerOrder = z.number().check(z.int(), z.minimum(1), z.maximum(MAX_ORDER_LINES));
const settings: OrderSettings = {
  maxLinesPerOrder: () => setting('maxLinesPerOrder', MaxLinesPerOrder),
};

/** Wiring of the orders service, once per execution environment. */
export const orders = new OrderService(
  new DynamoDbOrderRepository(documentClient, tableLayoutFromEnv(), requiredEnv('EVENT_SOURCE')),
  customers,
  () => new Date(),
  randomUUID,
  settings,
);
