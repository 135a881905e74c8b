// `cdk-microservices/kit/errors`: the errors a route throws, each with a transport-free kind and a stable code
// (`cdk-microservices/kit/http` maps the kinds to HTTP statuses).
export * from '../errors';
