import { tracer } from '../powertools';

/** The subsegment of one consumed event; made by {@link traceEventRecord}. */
export interface EventRecordTrace {
  /** Records a failed event (the message goes back to its queue) as a fault with its cause. */
  failed(error: unknown): void;
  /** Closes the subsegment. */
  end(): void;
}

/**
 * Starts a `### <event type>` subsegment under the invocation's handler subsegment, annotated with the
 * event's `correlationId` and `eventId`, so that an X-Ray filter on the correlation id finds the consumer's
 * trace too. One per record, because one batch may carry events of many requests (a subsegment can hold one
 * value per annotation key). It is not made the current subsegment: records are processed concurrently, so
 * their AWS SDK calls appear under the handler subsegment. `undefined` when tracing is off.
 */
export function traceEventRecord(
  eventType: string,
  correlationId: string,
  eventId: string,
): EventRecordTrace | undefined {
  if (!tracer.isTracingEnabled()) return undefined;
  const parent = tracer.getSegment();
  if (!parent) return undefined;
  const subsegment = parent.notTraced
    ? parent.addNewSubsegmentWithoutSampling(`### ${eventType}`)
    : parent.addNewSubsegment(`### ${eventType}`);
  subsegment.addAnnotation('correlationId', correlationId);
  subsegment.addAnnotation('eventId', eventId);
  return {
    failed(error) {
      subsegment.addError(typeof error === 'object' && error !== null ? (error as Error) : String(error));
    },
    end() {
      subsegment.close();
    },
  };
}
