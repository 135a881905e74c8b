import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { safeParse } from 'zod/mini';
import type { DataOf, EventContract } from './contract';
import { requiredEnv } from '../env';
import { logger, metrics, tracer } from '../powertools';
import { traceEventRecord } from '../tracing/event-record';
import type { EventRecordTrace } from '../tracing/event-record';
import type { EventEnvelope } from './envelope';
import { EnvelopeSchema } from './envelope';
import { AlreadyProcessedError, DomainTransaction, tableLayoutFromEnv } from './transaction';

/** A message that can never be processed (not an event, unknown type or version, invalid data). */
export class PoisonMessageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PoisonMessageError';
  }
}

/** One event type this consumer handles, and how. */
export interface EventRoute {
  /** The contract whose events this route receives (type and version). */
  readonly contract: EventContract;
  /** Called with each event, `data` parsed by the contract. */
  readonly handle: (event: EventEnvelope<never>) => Promise<void>;
}

/** Routes events of `contract` to `handle`, which receives the envelope with `data` parsed by the contract. */
export function on<C extends EventContract>(
  contract: C,
  handle: (event: EventEnvelope<DataOf<C>>) => Promise<void>,
): EventRoute {
  return { contract, handle: handle as EventRoute['handle'] };
}

/**
 * A unit of work for one consumed event: idempotent on the event id (a redelivery has one effect) and
 * carrying the event's correlation id into every event it publishes.
 */
export function eventTransaction(event: EventEnvelope<unknown>): DomainTransaction {
  return new DomainTransaction(
    tableLayoutFromEnv(),
    requiredEnv('EVENT_SOURCE'),
    event.correlationId,
  ).idempotent(`EVENT#${event.id}`);
}

/** Parses one SQS record delivered by an EventBridge rule into a validated envelope and its route. */
export function parseRecord(
  record: SQSRecord,
  routes: readonly EventRoute[],
): { envelope: EventEnvelope<unknown>; route: EventRoute } {
  let detail: unknown;
  try {
    detail = (JSON.parse(record.body) as { detail?: unknown }).detail;
  } catch {
    throw new PoisonMessageError(`Message ${record.messageId} is not JSON`);
  }
  const parsedEnvelope = EnvelopeSchema.safeParse(detail);
  if (!parsedEnvelope.success) {
    throw new PoisonMessageError(
      `Message ${record.messageId} is not an event envelope: ${parsedEnvelope.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  const envelope = parsedEnvelope.data;
  const route = routes.find((r) => r.contract.type === envelope.type);
  if (!route) throw new PoisonMessageError(`No handler for ${envelope.type}`);
  if (route.contract.version !== envelope.version) {
    throw new PoisonMessageError(
      `${envelope.type} version ${envelope.version} is not supported (expected ${route.contract.version})`,
    );
  }
  const data = safeParse(route.contract.schema, envelope.data);
  if (!data.success) {
    throw new PoisonMessageError(
      `${envelope.type} ${envelope.id} breaks its contract: ${data.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  return { envelope: { ...envelope, data: data.data }, route };
}

/**
 * An SQS batch consumer of domain events, built on Powertools batch processing: each record is parsed and
 * routed by event type; failures are reported per message (partial batch response) so only they are retried
 * and, after the queue's maxReceiveCount, parked in its dead-letter queue. A redelivered event whose work was
 * already committed counts as success. Logs carry the event's correlation id; the trace has a subsegment per
 * event annotated with it.
 */
export function eventConsumer(...routes: EventRoute[]) {
  const processor = new BatchProcessor(EventType.SQS);
  const recordHandler = async (record: SQSRecord): Promise<void> => {
    let envelope: EventEnvelope<unknown> | undefined;
    let trace: EventRecordTrace | undefined;
    try {
      const parsed = parseRecord(record, routes);
      envelope = parsed.envelope;
      logger.appendKeys({
        correlationId: envelope.correlationId,
        eventId: envelope.id,
        eventType: envelope.type,
      });
      trace = traceEventRecord(envelope.type, envelope.correlationId, envelope.id);
      await parsed.route.handle(envelope as EventEnvelope<never>);
      metrics.addMetric(`${envelope.type}Processed`, 'Count', 1);
    } catch (error) {
      if (error instanceof AlreadyProcessedError) {
        logger.info('Event already processed; skipping the duplicate', { marker: error.marker });
        metrics.addMetric('DuplicateEvent', 'Count', 1);
        return;
      }
      logger.error('Event processing failed', {
        messageId: record.messageId,
        receiveCount: record.attributes?.ApproximateReceiveCount,
        error: error as Error,
      });
      metrics.addMetric(error instanceof PoisonMessageError ? 'PoisonMessage' : 'EventFailed', 'Count', 1);
      trace?.failed(error);
      throw error;
    } finally {
      trace?.end();
      logger.removeKeys(['correlationId', 'eventId', 'eventType']);
    }
  };
  const core = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
    processPartialResponse(event, recordHandler, processor, { context, throwOnFullBatchFailure: false });
  // The tracer first, so that its subsegment also times the other middlewares.
  return middy(core)
    .use(captureLambdaHandler(tracer, { captureResponse: false }))
    .use(injectLambdaContext(logger))
    .use(logMetrics(metrics, { captureColdStartMetric: true }));
}
