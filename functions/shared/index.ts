/**
 * The runtime kit (`cdk-microservices/kit`): what every handler of a service uses. HTTP routes
 * ({@link httpRoute}), event consumers ({@link eventConsumer}, {@link on}), outbox transactions
 * ({@link DomainTransaction}), the service client with retries and a circuit breaker ({@link ServiceClient}),
 * the Powertools singletons ({@link logger}, {@link metrics}, {@link tracer}), tracing, and the transport-free errors (which
 * {@link httpRoute} maps to HTTP answers).
 *
 * Each area is also its own entry point (`cdk-microservices/kit/http`, `/kit/events`, `/kit/errors`,
 * `/kit/powertools`, `/kit/resilience`, `/kit/tracing`, `/kit/dynamodb`, `/kit/env`, `/kit/schema`,
 * `/kit/config`):
 * importing an area loads only that area, e.g. an HTTP handler that does not touch DynamoDB does not create
 * the shared DynamoDB client.
 */
export * from './errors';
export * from './env';
export * from './schema';
export * from './powertools';
export * from './http';
export * from './dynamodb';
export * from './tracing';
export * from './entries/events';
export * from './entries/resilience';
export * from './config';
