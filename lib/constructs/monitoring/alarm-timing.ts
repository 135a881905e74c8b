import { Duration } from 'aws-cdk-lib';
import { requireIntegerInRange, fail } from '../validation';

/** Disambiguator of every threshold alarm (the last part of its name, e.g. `Shop-prod-orders-api-5XX-Rate-Critical`). */
export const CRITICAL = 'Critical';

/**
 * How long a metric must breach before a threshold alarm fires: `datapointsToAlarm` breaching periods of
 * `period` out of the last `evaluationPeriods` ("M out of N").
 */
export interface AlarmTiming {
  /**
   * Length of one datapoint.
   * @default Duration.minutes(1)
   */
  readonly period?: Duration;
  /**
   * Datapoints looked at.
   * @default 5
   */
  readonly evaluationPeriods?: number;
  /**
   * Breaching datapoints among them that fire the alarm.
   * @default 3
   */
  readonly datapointsToAlarm?: number;
}

/** {@link AlarmTiming} with its defaults applied and checked; `where` names the prop in errors. */
export function alarmTiming(
  construct: string,
  where: string,
  timing: AlarmTiming = {},
): Required<AlarmTiming> {
  const period = timing.period ?? Duration.minutes(1);
  const evaluationPeriods = timing.evaluationPeriods ?? 5;
  const datapointsToAlarm = timing.datapointsToAlarm ?? 3;
  const seconds = period.toSeconds();
  if (!(seconds === 10 || seconds === 30 || (seconds >= 60 && seconds % 60 === 0))) {
    fail(
      construct,
      `${where}.period`,
      `${seconds}s`,
      'CloudWatch alarms take 10 s, 30 s or a multiple of 60 s',
    );
  }
  requireIntegerInRange(construct, `${where}.evaluationPeriods`, evaluationPeriods, 1, 100);
  requireIntegerInRange(construct, `${where}.datapointsToAlarm`, datapointsToAlarm, 1, evaluationPeriods);
  if (seconds * evaluationPeriods > 86_400) {
    fail(
      construct,
      `${where}.evaluationPeriods`,
      evaluationPeriods,
      `period × evaluationPeriods may not exceed one day (${seconds}s × ${evaluationPeriods})`,
    );
  }
  return { period, evaluationPeriods, datapointsToAlarm };
}
