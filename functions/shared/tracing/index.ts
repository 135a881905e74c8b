/**
 * Tracing for the functions: Powertools Tracer (X-Ray). `tracer` is the function's one Tracer (the same
 * singleton as `cdk-microservices/kit/powertools` exports); `captureLambdaHandler` is its middy middleware,
 * which `httpRoute` and `eventConsumer` already use. Wrap AWS SDK v3 clients with
 * `tracer.captureAWSv3Client(client)`, add annotations with `tracer.putAnnotation` and subsegments with
 * `tracer.captureMethod()`. The shared DynamoDB client and `ServiceClient` calls are traced already.
 */
export { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
export { tracer } from '../powertools';
