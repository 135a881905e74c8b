// Shared by the monitoring tests: readers of alarms, composite alarms and dashboards in a template.
import type { Template } from 'aws-cdk-lib/assertions';

/** The platform's destinations as a service attached by name notifies them: its topic, and the external one if any. */
export const PLATFORM_ACTIONS = [
  { Ref: expect.stringMatching('^SsmParameterValueShoptestplatformalarmtopicarn') },
  {
    'Fn::If': [
      expect.stringMatching('^PlatformNoExternalAlarmTopic'),
      { Ref: 'AWS::NoValue' },
      { Ref: expect.stringMatching('^SsmParameterValueShoptestplatformexternalalarmtopicarn') },
    ],
  },
];

type Resource = { Type: string; Properties: Record<string, unknown> };

/** Properties of the metric or composite alarm named `name`; fails the test when there is none. */
export function alarmNamed(template: Template, name: string): Record<string, unknown> {
  const found = Object.values(template.toJSON().Resources as Record<string, Resource>).find(
    (r) =>
      (r.Type === 'AWS::CloudWatch::Alarm' && r.Properties.AlarmName === name) ||
      (r.Type === 'AWS::CloudWatch::CompositeAlarm' && r.Properties.AlarmName === name),
  );
  if (!found) throw new Error(`no alarm named ${name}; names: ${alarmNames(template).join(', ')}`);
  return found.Properties;
}

/** Names of every metric and composite alarm, sorted. */
export function alarmNames(template: Template, type = 'AWS::CloudWatch::'): string[] {
  return Object.values(template.toJSON().Resources as Record<string, Resource>)
    .filter((r) => r.Type.startsWith(type) && r.Type !== 'AWS::CloudWatch::Dashboard')
    .map((r) => r.Properties.AlarmName as string)
    .sort();
}

/** The body of the dashboard named `name`, parsed, with every CloudFormation token rendered as `<token>`. */
export function dashboardBody(template: Template, name: string): DashboardBody {
  const dashboard = Object.values(template.toJSON().Resources as Record<string, Resource>).find(
    (r) => r.Type === 'AWS::CloudWatch::Dashboard' && r.Properties.DashboardName === name,
  );
  if (!dashboard) throw new Error(`no dashboard named ${name}`);
  const body = dashboard.Properties.DashboardBody as string | { 'Fn::Join': [string, unknown[]] };
  const text =
    typeof body === 'string'
      ? body
      : body['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : '<token>')).join('');
  return JSON.parse(text) as DashboardBody;
}

export interface DashboardWidget {
  readonly type: string;
  readonly properties: {
    readonly title?: string;
    readonly markdown?: string;
    readonly metrics?: unknown[][];
    readonly alarms?: unknown[];
  };
}
export interface DashboardBody {
  readonly widgets: DashboardWidget[];
}

/** Titles of the graphs and alarm widgets, and the text of the headers, in order. */
export function widgetTitles(body: DashboardBody): string[] {
  return body.widgets.map((w) => w.properties.title ?? w.properties.markdown ?? `(${w.type})`);
}

/** The one metric stat of a single-metric alarm. */
export function metricStatOf(alarm: Record<string, unknown>): Record<string, unknown> {
  const metrics = alarm.Metrics as Array<{ MetricStat?: Record<string, unknown>; ReturnData?: boolean }>;
  return metrics.find((m) => m.MetricStat && m.ReturnData !== false)!.MetricStat!;
}
