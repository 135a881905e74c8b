import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { AlarmWithAnnotation, MonitoringScope } from 'cdk-monitoring-constructs';
import {
  CompositeAlarmOperator,
  Monitoring,
  MonitoringHeaderWidget,
  noopAction,
} from 'cdk-monitoring-constructs';
import { fail } from '../validation';

/**
 * One multi-window burn-rate alert of the SRE workbook ("Alerting on SLOs", table 5-8): it fires when the error
 * budget burns at least `burnRate` times faster than the objective allows, over both the `long` window (the
 * budget really is burning) and the `short` one (it still is: the alert resets soon after a recovery).
 */
export interface BurnRateWindow {
  /** The long window, e.g. 1 hour. */
  readonly long: Duration;
  /** The short window, a twelfth of the long one in the workbook, e.g. 5 minutes. */
  readonly short: Duration;
  /** Burn rate both windows must reach, e.g. 14.4 (2% of a 30-day budget in one hour). */
  readonly burnRate: number;
}

/**
 * The SRE workbook's paging pairs: 2% of a 30-day budget spent in 1 hour (burn rate 14.4 over 1 h and 5 min) and
 * 5% in 6 hours (burn rate 6 over 6 h and 30 min).
 */
export const SRE_WORKBOOK_PAGE_WINDOWS: readonly BurnRateWindow[] = [
  { long: Duration.hours(1), short: Duration.minutes(5), burnRate: 14.4 },
  { long: Duration.hours(6), short: Duration.minutes(30), burnRate: 6 },
];

/** Properties of {@link ServiceLevelObjective}. */
export interface ServiceLevelObjectiveProps {
  /** Start of every alarm name, e.g. `Shop-prod-orders`. */
  readonly namePrefix: string;
  /** Name of the SLO in alarm names and on the dashboard, e.g. `availability`. */
  readonly name: string;
  /** What the SLO promises, in words, for alarm descriptions and the dashboard. */
  readonly description: string;
  /** Objective in percent of good events, e.g. 99.9 (then the error budget is 0.1%). */
  readonly objective: number;
  /**
   * The share of bad events (0 to 1) over one window: a math expression whose `period` is the window. Missing data
   * (no traffic) does not breach.
   */
  readonly badEventRatio: (window: Duration) => cloudwatch.MathExpression;
  /**
   * The alerts.
   * @default SRE_WORKBOOK_PAGE_WINDOWS
   */
  readonly windows?: readonly BurnRateWindow[];
}

/** A two-digit-free label for a window: `5m`, `1h`, `30m`, `6h`. */
function windowLabel(window: Duration): string {
  const minutes = window.toMinutes();
  return minutes % 60 === 0 ? `${minutes / 60}h` : `${minutes}m`;
}

/**
 * A service level objective with multi-window, multi-burn-rate alerts, a segment of the service's
 * cdk-monitoring-constructs facade (the library has no burn-rate alarms; its `AlarmFactory` makes both kinds used
 * here). For each {@link BurnRateWindow}, two metric-math alarms compute the burn rate
 * `badEventRatio(window) / (1 - objective)` with one datapoint of the window's length (`period` = window, one
 * evaluation period: the ratio over exactly the last window), and a composite alarm fires when both are in alarm
 * (`ALARM(long) AND ALARM(short)`). Only the composite alarms notify (the platform's destinations); the window
 * alarms have no action of their own, so one incident pages once.
 */
export class ServiceLevelObjective extends Monitoring {
  /** Name of the alarm of one window: `{namePrefix}-SLO-{name}-burn-rate-{window}`, e.g. `...-burn-rate-1h`. */
  public static windowAlarmName(namePrefix: string, name: string, window: Duration): string {
    return `${namePrefix}-SLO-${name}-burn-rate-${windowLabel(window)}`;
  }

  /** Name of the composite alarm of a window pair: `{namePrefix}-SLO-{name}-burn-rate-{long}-{short}`. */
  public static burnRateAlarmName(namePrefix: string, name: string, window: BurnRateWindow): string {
    return `${namePrefix}-SLO-${name}-burn-rate-${windowLabel(window.long)}-${windowLabel(window.short)}`;
  }

  /** The composite alarms that page, one per window pair (long AND short). */
  public readonly burnRateAlarms: cloudwatch.CompositeAlarm[] = [];
  /** The window alarms the composites are made of (no actions). */
  public readonly windowAlarms: AlarmWithAnnotation[] = [];
  private readonly props: ServiceLevelObjectiveProps;
  private readonly budget: number;

  constructor(scope: MonitoringScope, props: ServiceLevelObjectiveProps) {
    super(scope, { alarmFriendlyName: `SLO-${props.name}` });
    if (!(props.objective > 0 && props.objective < 100)) {
      fail(
        'ServiceLevelObjective',
        `${props.name}.objective`,
        props.objective,
        'must be a percentage between 0 and 100 (exclusive), e.g. 99.9',
      );
    }
    this.props = props;
    this.budget = 1 - props.objective / 100;
    const alarmFactory = this.createAlarmFactory(`SLO-${props.name}`);
    for (const window of props.windows ?? SRE_WORKBOOK_PAGE_WINDOWS) {
      if (window.short.toSeconds() >= window.long.toSeconds()) {
        fail(
          'ServiceLevelObjective',
          `${props.name}.windows`,
          `${windowLabel(window.long)}/${windowLabel(window.short)}`,
          'the short window must be shorter than the long one',
        );
      }
      const [long, short] = [window.long, window.short].map((length) => {
        const alarm = alarmFactory.addAlarm(this.burnRate(length), {
          alarmNameSuffix: `burn-rate-${windowLabel(length)}`,
          alarmNameOverride: ServiceLevelObjective.windowAlarmName(props.namePrefix, props.name, length),
          alarmDescription: `${props.description}: error budget burn rate over ${windowLabel(length)} at least ${window.burnRate} (window alarm of a composite, no action)`,
          threshold: window.burnRate,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
          datapointsToAlarm: 1,
          evaluationPeriods: 1,
          actionOverride: noopAction(),
        });
        this.windowAlarms.push(alarm);
        return alarm;
      });
      this.burnRateAlarms.push(
        alarmFactory.addCompositeAlarm([long, short], {
          compositeOperator: CompositeAlarmOperator.AND,
          alarmNameOverride: ServiceLevelObjective.burnRateAlarmName(props.namePrefix, props.name, window),
          disambiguator: 'Page',
          alarmDescription: `${props.description}: the error budget burns at ${window.burnRate}× the sustainable rate over ${windowLabel(window.long)} and ${windowLabel(window.short)}`,
        }),
      );
    }
  }

  /** Burn rate over `window`: the bad-event ratio divided by the error budget (1 - objective). */
  public burnRate(window: Duration): cloudwatch.MathExpression {
    const ratio = this.props.badEventRatio(window);
    // Ids carry the window, so the windows' expressions can share a graph.
    const suffix = windowLabel(window);
    const ids = Object.keys(ratio.usingMetrics);
    const expression = ids.reduce(
      (text, id) => text.replace(new RegExp(`\\b${id}\\b`, 'g'), `${id}_${suffix}`),
      ratio.expression,
    );
    return new cloudwatch.MathExpression({
      expression: `(${expression}) / ${+this.budget.toPrecision(12)}`,
      usingMetrics: Object.fromEntries(ids.map((id) => [`${id}_${suffix}`, ratio.usingMetrics[id]])),
      period: window,
      label: `Burn rate ${windowLabel(window)}`,
    });
  }

  public widgets(): cloudwatch.IWidget[] {
    const windows = this.props.windows ?? SRE_WORKBOOK_PAGE_WINDOWS;
    return [
      new MonitoringHeaderWidget({
        title: `SLO ${this.props.name}: ${this.props.description} (${this.props.objective}%)`,
        family: 'Service level objective',
      }),
      new cloudwatch.Row(
        new cloudwatch.GraphWidget({
          title: `Burn rate (${this.props.name})`,
          width: 16,
          height: 6,
          left: windows.flatMap((w) => [this.burnRate(w.long), this.burnRate(w.short)]),
          leftAnnotations: windows.map((w) => ({ value: w.burnRate, label: `page at ${w.burnRate}` })),
        }),
        new cloudwatch.AlarmStatusWidget({
          title: `Burn-rate alarms (${this.props.name})`,
          width: 8,
          height: 6,
          alarms: this.burnRateAlarms,
        }),
      ),
    ];
  }

  public override summaryWidgets(): cloudwatch.IWidget[] {
    return this.widgets();
  }
}
