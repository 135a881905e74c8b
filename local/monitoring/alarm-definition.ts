/**
 * The alarms of a synthesized system, read from its resolved `AWS::CloudWatch::Alarm` and
 * `AWS::CloudWatch::CompositeAlarm` resources: what the local alarm evaluator evaluates.
 */
import type { ResolvedResource } from '../model';

/** A metric as CloudWatch identifies it. */
export interface MetricIdentity {
  readonly namespace: string;
  readonly metricName: string;
  /** Dimension name → value (resolved against the emulator: local names). */
  readonly dimensions: Readonly<Record<string, string>>;
}

/** One entry of an alarm's metric query: a metric with a statistic, or a metric math expression. */
export type MetricQuery =
  | {
      readonly kind: 'metric';
      readonly id: string;
      readonly metric: MetricIdentity;
      /** `Sum`, `Maximum`, `p99`, ... */
      readonly statistic: string;
      readonly periodSeconds: number;
      readonly label?: string;
    }
  | {
      readonly kind: 'expression';
      readonly id: string;
      readonly expression: string;
      readonly periodSeconds?: number;
      readonly label?: string;
    };

/** How an alarm compares its value with its threshold. */
export enum Comparison {
  GREATER_THAN_OR_EQUAL = 'GreaterThanOrEqualToThreshold',
  GREATER_THAN = 'GreaterThanThreshold',
  LESS_THAN = 'LessThanThreshold',
  LESS_THAN_OR_EQUAL = 'LessThanOrEqualToThreshold',
}

/** What a period without a datapoint counts as. */
export enum MissingData {
  BREACHING = 'breaching',
  NOT_BREACHING = 'notBreaching',
  IGNORE = 'ignore',
  MISSING = 'missing',
}

/** What every alarm has. */
interface AlarmBase {
  /** `{stackName}/{logicalId}`. */
  readonly key: string;
  /** What the evaluator prints: its AlarmName, else its construct path (without `/Resource`). */
  readonly name: string;
  /** What a rule or a reference calls it: its ARN, its `Ref` and its AlarmName. */
  readonly aliases: readonly string[];
  readonly description?: string;
  /** ARNs (or names) its AlarmActions name. */
  readonly actions: readonly string[];
  readonly actionsEnabled: boolean;
}

/** An `AWS::CloudWatch::Alarm`. */
export interface MetricAlarmDefinition extends AlarmBase {
  readonly kind: 'metric';
  /** The queries; `returned` names the one compared with the threshold. */
  readonly queries: readonly MetricQuery[];
  readonly returned: string;
  /** Period of the returned value, seconds. */
  readonly periodSeconds: number;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
  /** Undefined for an anomaly detection alarm (`ThresholdMetricId`) or a comparison the evaluator lacks. */
  readonly comparison?: Comparison;
  readonly threshold: number;
  readonly missingData: MissingData;
  /** Why the definition cannot be evaluated, whatever the metrics (an unknown comparison, ...). */
  readonly unsupported?: string;
}

/** An `AWS::CloudWatch::CompositeAlarm`. */
export interface CompositeAlarmDefinition extends AlarmBase {
  readonly kind: 'composite';
  readonly rule: string;
}

export type AlarmDefinition = MetricAlarmDefinition | CompositeAlarmDefinition;

const METRIC_ALARM = 'AWS::CloudWatch::Alarm';
const COMPOSITE_ALARM = 'AWS::CloudWatch::CompositeAlarm';

/** The alarms among a system's resolved resources, in template order. */
export function alarmDefinitions(resources: readonly ResolvedResource[]): AlarmDefinition[] {
  return resources.flatMap((resource): AlarmDefinition[] => {
    if (resource.type === METRIC_ALARM) return [metricAlarmOf(resource)];
    if (resource.type === COMPOSITE_ALARM) return [compositeAlarmOf(resource)];
    return [];
  });
}

function baseOf(resource: ResolvedResource): AlarmBase {
  const p = resource.properties;
  const alarmName = typeof p.AlarmName === 'string' ? p.AlarmName : undefined;
  const path = resource.metadata['aws:cdk:path'];
  const name =
    alarmName ??
    (typeof path === 'string'
      ? path.replace(/\/Resource$/, '')
      : // Without path metadata: the logical ID without the hash CDK appends (`FailingErrors6EECE5DA`).
        `${resource.stackName}/${resource.logicalId.replace(/(.)[0-9A-F]{8}$/, '$1')}`);
  const arn = resource.attributes.Arn;
  return {
    key: `${resource.stackName}/${resource.logicalId}`,
    name,
    aliases: [resource.ref, ...(typeof arn === 'string' ? [arn] : []), ...(alarmName ? [alarmName] : [])],
    ...(typeof p.AlarmDescription === 'string' ? { description: p.AlarmDescription } : {}),
    actions: strings(p.AlarmActions),
    actionsEnabled: p.ActionsEnabled !== false && p.ActionsEnabled !== 'false',
  };
}

function metricAlarmOf(resource: ResolvedResource): MetricAlarmDefinition {
  const p = resource.properties;
  const base = baseOf(resource);
  const problems: string[] = [];
  let queries: MetricQuery[];
  let returned: string;
  if (Array.isArray(p.Metrics)) {
    queries = (p.Metrics as Record<string, unknown>[]).map((entry, i) => queryOf(entry, i));
    const returning = (p.Metrics as Record<string, unknown>[]).filter(
      (entry) => entry.ReturnData !== false && entry.ReturnData !== 'false',
    );
    returned = String(returning.length === 1 ? returning[0].Id : (queries[queries.length - 1]?.id ?? ''));
    if (returning.length !== 1) problems.push('its Metrics return more than one value');
  } else {
    const statistic = String(p.ExtendedStatistic ?? p.Statistic ?? 'Average');
    queries = [
      {
        kind: 'metric',
        id: 'm1',
        metric: {
          namespace: String(p.Namespace ?? ''),
          metricName: String(p.MetricName ?? ''),
          dimensions: dimensionsOf(p.Dimensions),
        },
        statistic,
        periodSeconds: Number(p.Period ?? 60),
      },
    ];
    returned = 'm1';
  }
  const returnedQuery = queries.find((q) => q.id === returned);
  const periodSeconds =
    (returnedQuery?.kind === 'metric' ? returnedQuery.periodSeconds : returnedQuery?.periodSeconds) ??
    Math.max(60, ...queries.map((q) => (q.kind === 'metric' ? q.periodSeconds : (q.periodSeconds ?? 0))));
  const comparison = Object.values(Comparison).find((c) => c === p.ComparisonOperator);
  if (!comparison) problems.push(`the comparison ${String(p.ComparisonOperator)}, for anomaly detection`);
  if (p.ThresholdMetricId !== undefined) problems.push('an anomaly detection band as threshold');
  const evaluationPeriods = Math.max(1, Number(p.EvaluationPeriods ?? 1));
  const missing = Object.values(MissingData).find((m) => m === p.TreatMissingData) ?? MissingData.MISSING;
  return {
    ...base,
    kind: 'metric',
    queries,
    returned,
    periodSeconds,
    evaluationPeriods,
    datapointsToAlarm: Math.min(
      evaluationPeriods,
      Math.max(1, Number(p.DatapointsToAlarm ?? evaluationPeriods)),
    ),
    ...(comparison ? { comparison } : {}),
    threshold: Number(p.Threshold ?? 0),
    missingData: missing,
    ...(problems.length > 0 ? { unsupported: problems.join('; ') } : {}),
  };
}

function queryOf(entry: Record<string, unknown>, index: number): MetricQuery {
  const id = String(entry.Id ?? `m${index + 1}`);
  const label = typeof entry.Label === 'string' ? { label: entry.Label } : {};
  if (typeof entry.Expression === 'string') {
    return {
      kind: 'expression',
      id,
      expression: entry.Expression,
      ...(entry.Period !== undefined ? { periodSeconds: Number(entry.Period) } : {}),
      ...label,
    };
  }
  const stat = (entry.MetricStat ?? {}) as Record<string, unknown>;
  const metric = (stat.Metric ?? {}) as Record<string, unknown>;
  return {
    kind: 'metric',
    id,
    metric: {
      namespace: String(metric.Namespace ?? ''),
      metricName: String(metric.MetricName ?? ''),
      dimensions: dimensionsOf(metric.Dimensions),
    },
    statistic: String(stat.Stat ?? 'Average'),
    periodSeconds: Number(stat.Period ?? entry.Period ?? 60),
    ...label,
  };
}

function compositeAlarmOf(resource: ResolvedResource): CompositeAlarmDefinition {
  return { ...baseOf(resource), kind: 'composite', rule: String(resource.properties.AlarmRule ?? 'FALSE') };
}

function dimensionsOf(value: unknown): Record<string, string> {
  const dimensions: Record<string, string> = {};
  for (const dimension of Array.isArray(value) ? (value as { Name?: unknown; Value?: unknown }[]) : []) {
    if (dimension.Name !== undefined) dimensions[String(dimension.Name)] = String(dimension.Value ?? '');
  }
  return dimensions;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}
