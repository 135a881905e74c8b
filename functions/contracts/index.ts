/**
 * Event contracts (`cdk-microservices/contracts`): {@link defineContract} to define one, the envelope every
 * event travels in, and the contracts of the reference system (`OrderPlaced`, `StockReserved`, ...) that a
 * team's service may subscribe to. CDK apps import the contract objects to subscribe; handlers import them to
 * parse. Define contracts with `zod/mini` schemas so that handlers stay small.
 */
export { defineContract } from '../shared/events/contract';
export type { DataOf, EventContract } from '../shared/events/contract';
export type { EventEnvelope } from '../shared/events/envelope';
export * from './events';
