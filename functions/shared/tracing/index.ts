/**
 * X-Ray tracing for the functions, written against the documented segment document format and daemon UDP
 * protocol instead of Powertools Tracer: that pulled in the X-Ray SDK for Node.js with cls-hooked and
 * semver (about a fifth of a bundle) and hooks every promise of every invocation, sampled or not.
 */
export { traceAwsClient } from './aws-sdk';
export type { TraceableClient } from './aws-sdk';
export { putAnnotation, startSubsegment, withTracing } from './handler';
export { Namespace, Subsegment } from './subsegment';
export type { AnnotationValue, AwsCall } from './subsegment';
