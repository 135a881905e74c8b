import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

/**
 * The one Logger and Metrics of a function. Service name, namespace and log level come from
 * the environment that ServiceFunction sets (POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE,
 * POWERTOOLS_LOG_LEVEL), so handlers never hard-code them. Tracing is `./tracing`, not Powertools Tracer.
 */
export const logger = new Logger();
export const metrics = new Metrics();
