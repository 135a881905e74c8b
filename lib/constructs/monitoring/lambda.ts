import type { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { AlarmWithAnnotation, MonitoringFacade } from 'cdk-monitoring-constructs';
import { LambdaFunctionMonitoring } from 'cdk-monitoring-constructs';
import type { AlarmTiming } from './alarm-timing';
import { CRITICAL } from './alarm-timing';

/** What raises the alarms of one Lambda function. */
export interface FunctionAlarmThresholds {
  /** Errors per period above which a period breaches. */
  readonly maxErrors: number;
  /** Throttled invocations per period above which a period breaches. */
  readonly maxThrottles: number;
  /** p99 duration above which a period breaches. */
  readonly maxDurationP99: Duration;
}

/**
 * Monitors one Lambda function with cdk-monitoring-constructs' `LambdaFunctionMonitoring` (its widgets:
 * invocations per second, duration p50/p90/p99, errors and error rate, invocations, throttles and concurrent
 * executions), with three alarms: `Errors` (Sum) above `maxErrors`, `Throttles` (Sum) above `maxThrottles` and
 * `Duration` p99 above `maxDurationP99`, each per `timing.period`, `timing.datapointsToAlarm` out of
 * `timing.evaluationPeriods`. Lambda's function-level metrics (dimension `FunctionName`) cover every version and
 * alias, so calls through the `live` alias are counted.
 *
 * @returns the segment (added to the facade) and its alarms
 */
export function monitorFunction(
  facade: MonitoringFacade,
  name: string,
  fn: lambda.IFunction,
  thresholds: FunctionAlarmThresholds,
  timing: AlarmTiming,
): { readonly monitoring: LambdaFunctionMonitoring; readonly alarms: AlarmWithAnnotation[] } {
  const monitoring = new LambdaFunctionMonitoring(facade, {
    lambdaFunction: fn,
    alarmFriendlyName: name,
    humanReadableName: name,
    isIterator: false,
    addFaultCountAlarm: { [CRITICAL]: { maxErrorCount: thresholds.maxErrors, ...timing } },
    addThrottlesCountAlarm: { [CRITICAL]: { maxErrorCount: thresholds.maxThrottles, ...timing } },
    addLatencyP99Alarm: { [CRITICAL]: { maxLatency: thresholds.maxDurationP99, ...timing } },
  });
  facade.addSegment(monitoring);
  return { monitoring, alarms: monitoring.createdAlarms() };
}
