import { AsyncLocalStorage } from 'node:async_hooks';
import type { Context } from 'aws-lambda';
import { daemonEndpoint, flush } from './daemon';
import { Subsegment } from './subsegment';
import type { AnnotationValue, Namespace } from './subsegment';
import { invocationTraceHeader, parseTraceHeader } from './trace-header';
import type { TraceContext } from './trace-header';

/**
 * The current invocation's handler subsegment. A store per async context, not a module variable, so that
 * work of one invocation can never land in another's trace (runtimes may run invocations concurrently).
 * Only sampled invocations enter it: on Node.js before 24, where AsyncLocalStorage still rides on async
 * hooks, those are switched on by the first `run`, so unsampled environments never pay for them.
 */
const current = new AsyncLocalStorage<Subsegment>();
let coldStart = true;

/**
 * The trace of the current invocation, or `undefined` when it must not be traced: not sampled, no daemon to
 * send to, or tracing switched off with `POWERTOOLS_TRACE_ENABLED=false` (the Powertools setting, kept so
 * that existing configuration still works).
 */
function invocationTrace(): TraceContext | undefined {
  if (process.env.POWERTOOLS_TRACE_ENABLED === 'false' || !daemonEndpoint()) return undefined;
  return parseTraceHeader(invocationTraceHeader());
}

/**
 * Traces every invocation of `handler` under the trace Lambda started for it: a `## <handler>` subsegment
 * (the name Powertools Tracer used, so existing X-Ray queries keep working) annotated with `ColdStart` and
 * `Service`, whose fault and cause record an error the handler throws, sent before the invocation returns
 * (Lambda freezes the process right after). SDK clients wrapped by `traceAwsClient`, {@link putAnnotation}
 * and {@link startSubsegment} attach to it. Unsampled invocations run `handler` directly.
 *
 * A wrapper rather than a middy middleware, because middlewares cannot run the rest of the chain inside an
 * AsyncLocalStorage store; wrap the whole middy handler so that its middlewares are timed too.
 *
 * @example
 * export const handler = withTracing(middy(core).use(injectLambdaContext(logger)));
 */
export function withTracing<TEvent, TResult, TContext extends Context = Context>(
  handler: (event: TEvent, context: TContext) => Promise<TResult>,
): (event: TEvent, context: TContext) => Promise<TResult> {
  return async (event, context) => {
    const isColdStart = coldStart;
    coldStart = false;
    const trace = invocationTrace();
    if (!trace) return handler(event, context);

    const subsegment = new Subsegment(
      `## ${process.env._HANDLER ?? context.functionName}`,
      trace,
      trace.parent,
    );
    subsegment.annotate('ColdStart', isColdStart);
    const service = process.env.POWERTOOLS_SERVICE_NAME;
    if (service) subsegment.annotate('Service', service);
    try {
      return await current.run(subsegment, () => handler(event, context));
    } catch (error) {
      subsegment.addError(error);
      throw error;
    } finally {
      subsegment.end();
      await flush();
    }
  };
}

/** Adds an indexed annotation (e.g. `correlationId`) to the current invocation's trace; no-op when untraced. */
export function putAnnotation(key: string, value: AnnotationValue): void {
  current.getStore()?.annotate(key, value);
}

/**
 * Starts a subsegment under the current invocation's, for a downstream call; end it with
 * {@link Subsegment.end}. Returns `undefined` when the invocation is not traced, so callers skip all
 * tracing work with one check.
 */
export function startSubsegment(name: string, namespace?: Namespace): Subsegment | undefined {
  return current.getStore()?.child(name, namespace);
}
