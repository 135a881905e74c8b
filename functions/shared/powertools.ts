import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

/**
 * The one Logger, Metrics and Tracer of a function. Service name, namespace and log level come from
 * the environment that ServiceFunction sets (POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE,
 * POWERTOOLS_LOG_LEVEL), so handlers never hard-code them.
 *
 * The tracer is Powertools Tracer (X-Ray, through `aws-xray-sdk-core`): `httpRoute` and `eventConsumer`
 * trace every invocation with its `captureLambdaHandler` middleware, the shared DynamoDB client is wrapped
 * with `captureAWSv3Client`, and handlers add their own annotations (`tracer.putAnnotation`) and
 * subsegments (`tracer.captureMethod`). It switches itself off where there is no X-Ray: outside Lambda
 * (no `AWS_EXECUTION_ENV`: the local runtime, tests) or with `POWERTOOLS_TRACE_ENABLED=false`.
 */
export const logger = new Logger();
export const metrics = new Metrics();
export const tracer = new Tracer();
