import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { MonitoringFacade } from 'cdk-monitoring-constructs';
import { SqsQueueMonitoringWithDlq } from 'cdk-monitoring-constructs';

/**
 * Shows a queue and its dead-letter queue with cdk-monitoring-constructs' `SqsQueueMonitoringWithDlq`: visible
 * messages, age of the oldest message, messages in and out, and the dead-letter queue's depth and age. It adds
 * no alarm: the queue-age and dead-letter alarms already belong to the queue's owner (`EventSubscription`'s
 * `queueAgeAlarm` and `deadLetterAlarm`), and the service dashboard shows their state.
 */
export function monitorQueue(
  facade: MonitoringFacade,
  name: string,
  queue: sqs.IQueue,
  deadLetterQueue: sqs.IQueue,
): SqsQueueMonitoringWithDlq {
  const monitoring = new SqsQueueMonitoringWithDlq(facade, {
    queue,
    deadLetterQueue,
    alarmFriendlyName: name,
    humanReadableName: name,
  });
  facade.addSegment(monitoring);
  return monitoring;
}
