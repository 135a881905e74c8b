// `cdk-microservices/kit/resilience`: the service client (SigV4, retries, circuit breaker) and its parts.
export * from '../resilience/circuit-breaker';
export * from '../resilience/retry';
export * from '../resilience/service-client';
