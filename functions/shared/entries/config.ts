// `cdk-microservices/kit/config`: feature flags, settings and secrets of a service (AppConfig and Secrets
// Manager through Powertools Parameters, cached), and the environment variables the constructs set for them.
export * from '../config';
