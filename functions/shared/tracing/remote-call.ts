import { tracer } from '../powertools';

/** The current segment or subsegment as the tracer gives it (an `aws-xray-sdk-core` Segment or Subsegment). */
type TraceEntity = NonNullable<ReturnType<typeof tracer.getSegment>>;
type XraySubsegment = ReturnType<TraceEntity['addNewSubsegment']>;

/** Trace-header fields that describe one hop and are written afresh, never passed on. */
const HOP_FIELDS = new Set(['Root', 'Parent', 'Sampled', 'Self']);

/**
 * One HTTP call to another service, as a `remote` subsegment of the current (sub)segment. Made by
 * {@link traceRemoteCall}; `header` is the X-Amzn-Trace-Id the request must carry so that the service's own
 * segment (API Gateway, then its Lambda) joins this trace under the subsegment.
 */
export interface RemoteCallTrace {
  /** `Root=<trace>;Parent=<subsegment>;Sampled=<0|1>` plus the fields Lambda passed in (e.g. `Lineage`). */
  readonly header: string;
  /**
   * Records the answer, flagged the way X-Ray reads statuses: 429 a throttle (and an error), other 4xx an
   * error (the caller's), 5xx a fault (the server's).
   */
  answered(status: number, contentLength: number): void;
  /** Records a call that got no answer (network error, timeout) as a fault with its cause. */
  failed(error: unknown): void;
  /** Closes the subsegment (the X-Ray SDK sends it to the daemon). */
  end(): void;
}

/**
 * Starts the subsegment of an HTTP call named `name` (the dependency), or returns `undefined` when there is
 * nothing to trace into: tracing off (outside Lambda, `POWERTOOLS_TRACE_ENABLED=false`), no current segment,
 * or a pass-through trace without a sampling decision (X-Ray SDK `noOp`), where no header is sent either.
 * Unsampled invocations get an unsampled subsegment and a `Sampled=0` header, as the X-Ray SDK's own
 * instrumentation of AWS SDK clients does, so that the callee honours the decision.
 *
 * @param url - recorded as is: pass it without its query string, which may carry personal data.
 */
export function traceRemoteCall(name: string, method: string, url: string): RemoteCallTrace | undefined {
  if (!tracer.isTracingEnabled()) return undefined;
  const root = tracer.getRootXrayTraceId();
  const parent = tracer.getSegment();
  if (!root || !parent || (parent as { noOp?: boolean }).noOp) return undefined;
  const subsegment: XraySubsegment = parent.notTraced
    ? parent.addNewSubsegmentWithoutSampling(name)
    : parent.addNewSubsegment(name);
  subsegment.namespace = 'remote';
  const request = { method, url };
  subsegment.addAttribute('http', { request });
  return {
    header: traceHeader(root, subsegment, parent),
    answered(status, contentLength) {
      subsegment.addAttribute('http', { request, response: { status, content_length: contentLength } });
      if (status === 429) subsegment.addThrottleFlag();
      if (status >= 400 && status < 500) subsegment.addErrorFlag();
      else if (status >= 500) subsegment.addFaultFlag();
    },
    failed(error) {
      subsegment.addError(typeof error === 'object' && error !== null ? (error as Error) : String(error));
    },
    end() {
      subsegment.close();
    },
  };
}

/**
 * The header for a call made within `subsegment`. Fields other than Root, Parent, Sampled and Self travel on
 * unchanged: Lambda's recursive loop detection counts hops in `Lineage`, so dropping it would switch that
 * protection off.
 */
function traceHeader(root: string, subsegment: XraySubsegment, parent: TraceEntity): string {
  const segment = 'segment' in parent && parent.segment ? parent.segment : parent;
  const passOn = Object.entries((segment as { additionalTraceData?: object }).additionalTraceData ?? {})
    .filter(([key]) => !HOP_FIELDS.has(key))
    .map(([key, value]) => `${key}=${String(value)}`);
  return [
    `Root=${root}`,
    `Parent=${subsegment.id}`,
    `Sampled=${subsegment.notTraced ? 0 : 1}`,
    ...passOn,
  ].join(';');
}
