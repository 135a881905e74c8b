import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as events from 'aws-cdk-lib/aws-events';
import type { AlarmWithAnnotation, MonitoringScope, AlarmFactory } from 'cdk-monitoring-constructs';
import { Monitoring, MonitoringHeaderWidget } from 'cdk-monitoring-constructs';
import { CRITICAL } from './alarm-timing';

/** Properties of {@link EventRuleMonitoring}. */
export interface EventRuleMonitoringProps {
  /** The rule. */
  readonly rule: events.IRule;
  /** The custom bus the rule is on: its metrics carry both `EventBusName` and `RuleName`. */
  readonly eventBus: events.IEventBus;
  /** Short name used in the alarm name and dashboard, e.g. `reserve-stock`. */
  readonly name: string;
  /** Failed invocations per 5 minutes above which the alarm fires. */
  readonly maxFailedInvocations: number;
}

/**
 * An EventBridge rule in cdk-monitoring-constructs' style (a `Monitoring` added to the facade; the library has
 * none for EventBridge): invocations, matched events and failures of the rule on its custom bus (dimensions
 * `EventBusName` and `RuleName`, as EventBridge publishes them for custom buses), and one alarm,
 * `FailedInvocations` (Sum per 5 minutes) above `maxFailedInvocations` in one datapoint: an invocation that
 * failed permanently, neither retried nor sent to the rule's dead-letter queue, is an event lost for this
 * consumer. (EventBridge publishes the metric only when it is not zero: missing data is not breaching.)
 */
export class EventRuleMonitoring extends Monitoring {
  /** The `FailedInvocations` alarm. */
  public readonly failedInvocationsAlarm: AlarmWithAnnotation;
  private readonly props: EventRuleMonitoringProps;

  constructor(scope: MonitoringScope, props: EventRuleMonitoringProps) {
    super(scope, { alarmFriendlyName: props.name });
    this.props = props;
    const alarmFactory: AlarmFactory = this.createAlarmFactory(props.name);
    this.failedInvocationsAlarm = alarmFactory.addAlarm(this.metric('FailedInvocations'), {
      alarmNameSuffix: 'Rule-FailedInvocations',
      alarmDescription: `Rule of ${props.name}: events failed permanently to reach the queue`,
      disambiguator: CRITICAL,
      threshold: props.maxFailedInvocations,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      datapointsToAlarm: 1,
      evaluationPeriods: 1,
    });
    this.addAlarm(this.failedInvocationsAlarm);
  }

  /** An `AWS/Events` metric of this rule, Sum per 5 minutes. */
  public metric(metricName: string): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'AWS/Events',
      metricName,
      dimensionsMap: { EventBusName: this.props.eventBus.eventBusName, RuleName: this.props.rule.ruleName },
      statistic: 'Sum',
      period: Duration.minutes(5),
      label: metricName,
    });
  }

  public widgets(): cloudwatch.IWidget[] {
    return [
      new MonitoringHeaderWidget({ title: `Rule ${this.props.name}`, family: 'EventBridge rule' }),
      new cloudwatch.Row(
        new cloudwatch.GraphWidget({
          title: 'Invocations',
          width: 12,
          height: 6,
          left: [this.metric('MatchedEvents'), this.metric('Invocations')],
        }),
        new cloudwatch.GraphWidget({
          title: 'Failures',
          width: 12,
          height: 6,
          left: [
            this.metric('FailedInvocations'),
            this.metric('DeadLetterInvocations'),
            this.metric('InvocationsFailedToBeSentToDlq'),
          ],
          leftAnnotations: [this.failedInvocationsAlarm.annotation],
        }),
      ),
    ];
  }

  public override summaryWidgets(): cloudwatch.IWidget[] {
    return this.widgets();
  }
}
