import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { BillingMode } from 'aws-cdk-lib/aws-dynamodb';
import type { AlarmWithAnnotation, MonitoringFacade } from 'cdk-monitoring-constructs';
import { DynamoTableMonitoring } from 'cdk-monitoring-constructs';
import type { AlarmTiming } from './alarm-timing';
import { CRITICAL } from './alarm-timing';

/** What raises the alarms of a DynamoDB table. */
export interface TableAlarmThresholds {
  /** Throttled read events (and, separately, write events) per period above which a period breaches. */
  readonly maxThrottledRequests: number;
  /** System errors (HTTP 500 from DynamoDB, all operations) per period above which a period breaches. */
  readonly maxSystemErrors: number;
}

/**
 * Monitors a table with cdk-monitoring-constructs' `DynamoTableMonitoring`: consumed read and write capacity,
 * throttled events, latency of each operation and errors. Alarms: `ReadThrottleEvents` and `WriteThrottleEvents`
 * (Sum) above `maxThrottledRequests` (on-demand tables throttle past their ceilings or a partition's limits) and
 * `SystemErrors` of every operation (Sum) above `maxSystemErrors`, per `timing`.
 */
export function monitorTable(
  facade: MonitoringFacade,
  table: dynamodb.ITable,
  thresholds: TableAlarmThresholds,
  timing: AlarmTiming,
): { readonly monitoring: DynamoTableMonitoring; readonly alarms: AlarmWithAnnotation[] } {
  const throttles = {
    [CRITICAL]: { maxThrottledEventsThreshold: thresholds.maxThrottledRequests, ...timing },
  };
  const monitoring = new DynamoTableMonitoring(facade, {
    table,
    billingMode: BillingMode.PAY_PER_REQUEST,
    alarmFriendlyName: 'table',
    humanReadableName: 'Table',
    addReadThrottledEventsCountAlarm: throttles,
    addWriteThrottledEventsCountAlarm: throttles,
    addSystemErrorCountAlarm: { [CRITICAL]: { maxErrorCount: thresholds.maxSystemErrors, ...timing } },
  });
  facade.addSegment(monitoring);
  return { monitoring, alarms: monitoring.createdAlarms() };
}
