// `cdk-microservices/kit/events`: event contracts, the envelope, event consumers and the outbox transaction.
export * from '../events/contract';
export * from '../events/envelope';
export * from '../events/consumer';
export * from '../events/transaction';
export * from '../events/outbox-format';
