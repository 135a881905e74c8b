import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { AlarmWithAnnotation, MonitoringFacade } from 'cdk-monitoring-constructs';
import type { AlarmTiming } from './alarm-timing';
import { monitorFunction } from './lambda';

/** Cognito waits this long for a Lambda trigger before it fails the sign-in or token request. */
export const COGNITO_TRIGGER_TIMEOUT = Duration.seconds(5);

/**
 * Monitors a Cognito user pool's Lambda trigger (the platform's pre-token-generation trigger): an error,
 * throttle or time-out there fails the user's sign-in or token refresh, so it alarms like a route function —
 * `Errors` and `Throttles` above zero and p99 `Duration` above 80% of Cognito's 5-second limit — through
 * cdk-monitoring-constructs' `LambdaFunctionMonitoring` (see {@link monitorFunction}).
 */
export function monitorCognitoTrigger(
  facade: MonitoringFacade,
  name: string,
  trigger: lambda.IFunction,
  timing: AlarmTiming,
): AlarmWithAnnotation[] {
  facade.addLargeHeader(`Cognito trigger: ${name}`);
  return monitorFunction(
    facade,
    name,
    trigger,
    {
      maxErrors: 0,
      maxThrottles: 0,
      maxDurationP99: Duration.millis(COGNITO_TRIGGER_TIMEOUT.toMilliseconds() * 0.8),
    },
    timing,
  ).alarms;
}
