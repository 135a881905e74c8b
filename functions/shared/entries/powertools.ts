// `cdk-microservices/kit/powertools`: the Powertools Logger and Metrics singletons every handler shares.
export * from '../powertools';
