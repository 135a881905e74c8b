// `cdk-microservices/kit/powertools`: the Powertools Logger, Metrics and Tracer singletons every handler shares.
export * from '../powertools';
