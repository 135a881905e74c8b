import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

/**
 * The one Logger, Metrics and Tracer of a function. Service name, namespace and log level come from
 * the environment that ServiceFunction sets (POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE,
 * POWERTOOLS_LOG_LEVEL), so handlers never hard-code them.
 */
export const logger = new Logger();
export const metrics = new Metrics();
export const tracer = new Tracer();
