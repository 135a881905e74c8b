import { randomUUID } from 'node:crypto';
import { documentClient } from '../../shared/dynamodb';
import { requiredEnv } from '../../shared/env';
import { tableLayoutFromEnv } from '../../shared/events/transaction';
import { DynamoDbOrderRepository } from '../adapters/dynamodb-order-repository';
import { HttpCustomerDirectory } from '../adapters/http-customer-directory';
import type { CustomerDirectory } from '../domain/ports';
import { OrderService } from '../domain/order-service';

/**
 * The users client is created on first use: only functions that call users (POST /orders) have its URL,
 * and the circuit breaker then lives as long as the execution environment.
 */
let directory: HttpCustomerDirectory | undefined;
const customers: CustomerDirectory = {
  exists: (customerId) => (directory ??= HttpCustomerDirectory.fromEnv()).exists(customerId),
};

/** Wiring of the orders service, once per execution environment. */
export const orders = new OrderService(
  new DynamoDbOrderRepository(documentClient, tableLayoutFromEnv(), requiredEnv('EVENT_SOURCE')),
  customers,
  () => new Date(),
  randomUUID,
);
