import type { SQSEvent, SQSRecord } from 'aws-lambda';

/** An SQS record as an EventBridge rule delivers it: the body is the whole EventBridge event. */
export function busRecord(
  messageId: string,
  detail: unknown,
  detailType = 'Event',
  source = 'shop.test',
): SQSRecord {
  return rawRecord(
    messageId,
    JSON.stringify({ version: '0', id: `eb-${messageId}`, 'detail-type': detailType, source, detail }),
  );
}

export function rawRecord(messageId: string, body: string): SQSRecord {
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '0',
      SenderId: 'events',
      ApproximateFirstReceiveTimestamp: '0',
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:q',
    awsRegion: 'eu-west-1',
  };
}

export function sqsEvent(...records: SQSRecord[]): SQSEvent {
  return { Records: records };
}

/** An envelope as the outbox pipe puts it on the bus (version and data as strings). */
export function pipedEnvelope(type: string, data: unknown, id = `evt-${type}`, correlationId = 'corr-saga') {
  return {
    id,
    type,
    version: '1',
    source: 'shop.inventory',
    occurredAt: '2026-11-21T10:00:00.000Z',
    correlationId,
    data: JSON.stringify(data),
  };
}
