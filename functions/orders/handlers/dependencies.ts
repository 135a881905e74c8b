import { randomUUID } from 'node:crypto';
import { documentClient } from '../../shared/dynamodb';
import { requiredEnv } from '../../shared/env';
import { tableLayoutFromEnv } from '../../shared/events/transaction';
import { DynamoDbOrderRepository } from '../adapters/dynamodb-order-repository';
import { HttpCustomerDirectory } from '../adapters/http-customer-directory';
import { OrderService } from '../domain/order-service';

/** Wiring of the orders service, once per execution environment (the circuit breaker lives as long). */
export const orders = new OrderService(
  new DynamoDbOrderRepository(documentClient, tableLayoutFromEnv(), requiredEnv('EVENT_SOURCE')),
  HttpCustomerDirectory.fromEnv(),
  () => new Date(),
  randomUUID,
);
