import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { MonitoringScope } from 'cdk-monitoring-constructs';
import { Monitoring, MonitoringHeaderWidget } from 'cdk-monitoring-constructs';

/** Namespace of EventBridge Pipes metrics. */
export const PIPES_NAMESPACE = 'AWS/EventBridge/Pipes';

/** Properties of {@link PipeMonitoring}. */
export interface PipeMonitoringProps {
  /** Name of the pipe (`CfnPipe.ref`). */
  readonly pipeName: string;
  /** Title of the dashboard section. */
  readonly title: string;
  /** The pipe's dead-letter queue, shown next to its failures. */
  readonly deadLetterQueue?: sqs.IQueue;
  /**
   * Alarms that already watch the pipe (e.g. `TransactionalOutbox.failureAlarm` and `deadLetterAlarm`), drawn on
   * the dashboard. No alarm is created here.
   * @default - none
   */
  readonly alarms?: cloudwatch.IAlarm[];
}

/**
 * Dashboard segment of an EventBridge Pipe, in cdk-monitoring-constructs' style (a `Monitoring` added to the
 * facade), which has none for Pipes: events read and batches delivered (`EventCount`, `Invocations`), failures
 * (`ExecutionFailed`, `ExecutionThrottled`, `ExecutionTimeout`, `TargetStageFailed`), the dead-letter queue's
 * depth and the p99 `Duration`, all by the metrics' `PipeName` dimension. The pipe's alarms stay where they are
 * made (`TransactionalOutbox`): this segment shows them and does not duplicate them.
 */
export class PipeMonitoring extends Monitoring {
  private readonly props: PipeMonitoringProps;

  constructor(scope: MonitoringScope, props: PipeMonitoringProps) {
    super(scope, { alarmFriendlyName: props.title });
    this.props = props;
  }

  /** A Pipes metric of this pipe, per 5 minutes. */
  public metric(metricName: string, statistic = 'Sum'): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: PIPES_NAMESPACE,
      metricName,
      dimensionsMap: { PipeName: this.props.pipeName },
      statistic,
      period: Duration.minutes(5),
      label: metricName,
    });
  }

  public widgets(): cloudwatch.IWidget[] {
    const failures = ['ExecutionFailed', 'ExecutionThrottled', 'ExecutionTimeout', 'TargetStageFailed'].map(
      (name) => this.metric(name),
    );
    const deadLetters = this.props.deadLetterQueue?.metricApproximateNumberOfMessagesVisible({
      statistic: 'Maximum',
      period: Duration.minutes(5),
      label: 'Dead-letter queue depth',
    });
    return [
      new MonitoringHeaderWidget({ title: this.props.title, family: 'EventBridge Pipe' }),
      new cloudwatch.Row(
        new cloudwatch.GraphWidget({
          title: 'Events',
          width: 8,
          height: 6,
          left: [this.metric('EventCount'), this.metric('Invocations')],
        }),
        new cloudwatch.GraphWidget({
          title: 'Failures',
          width: 8,
          height: 6,
          left: failures,
          right: deadLetters ? [deadLetters] : undefined,
        }),
        new cloudwatch.GraphWidget({
          title: 'Duration p99',
          width: 4,
          height: 6,
          left: [this.metric('Duration', 'p99')],
        }),
        ...(this.props.alarms?.length
          ? [
              new cloudwatch.AlarmStatusWidget({
                title: `${this.props.title} alarms`,
                width: 4,
                height: 6,
                alarms: this.props.alarms,
              }),
            ]
          : []),
      ),
    ];
  }

  public override summaryWidgets(): cloudwatch.IWidget[] {
    return this.widgets();
  }
}
