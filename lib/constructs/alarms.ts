import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

/** An alarm as soon as one message waits in a dead-letter queue (checked every minute). @internal */
export function deadLetterAlarm(scope: Construct, queue: sqs.IQueue, description: string): cloudwatch.Alarm {
  return new cloudwatch.Alarm(scope, 'DeadLetterAlarm', {
    alarmDescription: description,
    metric: queue.metricApproximateNumberOfMessagesVisible({
      period: Duration.minutes(1),
      statistic: 'Maximum',
    }),
    threshold: 1,
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
}

/**
 * Makes the alarms notify `actions` when given (every destination of the platform), else the topic when
 * there is one. @internal
 */
export function notify(
  topic: sns.ITopic | undefined,
  actions: cloudwatch.IAlarmAction[] | undefined,
  ...alarms: cloudwatch.AlarmBase[]
): void {
  const destinations = actions ?? (topic ? [new cwActions.SnsAction(topic)] : []);
  for (const alarm of alarms) alarm.addAlarmAction(...destinations);
}
