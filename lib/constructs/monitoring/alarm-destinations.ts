import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { AlarmActionStrategyProps, IAlarmActionStrategy } from 'cdk-monitoring-constructs';
import { notify } from '../alarms';
import type { IPlatform } from '../platform';

/**
 * A cdk-monitoring-constructs action strategy that sends an alarm to every destination of the platform: its
 * `alarmActions` (the alarm topic and the external topic, if configured), else its alarm topic — the same
 * destinations as the dead-letter and pipe alarms of `EventSubscription` and `TransactionalOutbox` (`notify`).
 */
export class PlatformAlarmDestinations implements IAlarmActionStrategy {
  constructor(private readonly platform: Pick<IPlatform, 'alarmTopic' | 'alarmActions'>) {}

  public addAlarmActions(props: AlarmActionStrategyProps): void {
    this.notify(props.alarm);
  }

  /** Adds the platform's destinations to an alarm made without the facade. */
  public notify(...alarms: cloudwatch.AlarmBase[]): void {
    notify(this.platform.alarmTopic, this.platform.alarmActions, ...alarms);
  }
}
