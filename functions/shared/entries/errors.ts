// `cdk-microservices/kit/errors`: the errors a route throws, each mapped to an HTTP status and a stable code.
export * from '../errors';
