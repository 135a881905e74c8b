// `cdk-microservices/kit/tracing`: the Powertools Tracer singleton and its middy middleware (X-Ray).
export * from '../tracing/index';
