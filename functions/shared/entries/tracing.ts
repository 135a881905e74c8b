// `cdk-microservices/kit/tracing`: X-Ray tracing of handlers, subsegments and AWS SDK clients.
export * from '../tracing/index';
