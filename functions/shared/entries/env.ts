// `cdk-microservices/kit/env`: `requiredEnv`, reading the environment variables the constructs set.
export * from '../env';
