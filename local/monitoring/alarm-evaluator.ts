/**
 * The local alarm evaluator: evaluates the system's CloudWatch alarms on the metrics the local runtime observes
 * and prints one `ALARM` line when an alarm would fire and one `OK` line when it recovers.
 *
 * Simplified from CloudWatch (documented in the README's Offline section):
 * - windows slide: each evaluation (every 60th of the period, from 1 s to 1 min) reads the last
 *   `EvaluationPeriods` periods ending now, not periods aligned on the minute, and their edges are as precise as
 *   the series' buckets (a 60th of the shortest period read, or a 720th of the longest window);
 * - a period without a datapoint counts as not breaching unless `TreatMissingData` is `breaching`; only when no
 *   period has data does `TreatMissingData` decide alone (`notBreaching`: OK, `ignore`: unchanged, `missing`:
 *   INSUFFICIENT_DATA);
 * - every alarm starts OK (not INSUFFICIENT_DATA), and OK ↔ INSUFFICIENT_DATA changes are not printed;
 * - percentiles (`p99`) and percentile ranks (`PR(:1000)`) come from a log-scale histogram (±2.5%);
 * - alarms whose metrics the runtime does not observe, anomaly detection alarms, and composite alarms that
 *   depend on them are listed once at start-up as not evaluated locally.
 */
import type {
  AlarmDefinition,
  CompositeAlarmDefinition,
  MetricAlarmDefinition,
  MetricQuery,
} from './alarm-definition';
import { Comparison, MissingData } from './alarm-definition';
import type { AlarmStateValue, RuleNode } from './composite-rule';
import { alarmsOf, evaluateRule, parseRule } from './composite-rule';
import type { LocalMetrics } from './local-metrics';
import type { MathNode, MathValue } from './metric-math';
import { evaluateMath, idsOf, parseMath } from './metric-math';
import { isSupportedStatistic, needsHistogram, statisticOf } from './metric-series';

/** Options of {@link AlarmEvaluator}. */
export interface AlarmEvaluatorOptions {
  /** Receives the ALARM / OK lines. */
  readonly log: (line: string) => void;
  /** @default Date.now */
  readonly clock?: () => number;
  /**
   * Names the destinations of an alarm's actions (ARNs), e.g. an SNS topic's display name.
   * @default - the last part of each ARN
   */
  readonly describeActions?: (actions: readonly string[]) => string[];
}

/** An alarm the evaluator cannot evaluate, and why. */
export interface NotEvaluated {
  readonly definition: AlarmDefinition;
  readonly reason: string;
}

/** An alarm being evaluated. */
interface Evaluated {
  readonly definition: AlarmDefinition;
  /** What the summary counts it as (`AWS/Lambda Errors`, `metric math`, `composite`). */
  readonly category: string;
  state: AlarmStateValue;
  /** Part of a composite alarm and without actions of its own: its changes are not printed. */
  quiet: boolean;
}

interface EvaluatedMetricAlarm extends Evaluated {
  readonly definition: MetricAlarmDefinition;
  /** How often it is evaluated, ms: a 60th of its period, from 1 s to 1 min (CloudWatch: every minute). */
  readonly everyMs: number;
  /** When it is evaluated next (epoch ms). */
  nextAt: number;
  /** What the alarm watches (its description, else the local function, API, queue or pipe). */
  readonly subject: string;
  /** The returned value over the window (from, to]. */
  readonly valueIn: (from: number, to: number) => number | undefined;
  readonly returnedQuery: MetricQuery;
  readonly gauge: boolean;
}

interface EvaluatedComposite extends Evaluated {
  readonly definition: CompositeAlarmDefinition;
  readonly rule: RuleNode;
}

/** Nouns of the counters and depths a line speaks of (singular, plural). */
const NOUNS: Readonly<Record<string, readonly [string, string]>> = {
  Errors: ['error', 'errors'],
  Invocations: ['invocation', 'invocations'],
  '5XXError': ['5xx response', '5xx responses'],
  '4XXError': ['4xx response', '4xx responses'],
  Count: ['request', 'requests'],
  ExecutionFailed: ['failed execution', 'failed executions'],
  ApproximateNumberOfMessagesVisible: ['message visible', 'messages visible'],
  ApproximateNumberOfMessagesNotVisible: ['message in flight', 'messages in flight'],
  ApproximateNumberOfMessagesDelayed: ['message delayed', 'messages delayed'],
};

const SYMBOLS: Readonly<Record<Comparison, string>> = {
  [Comparison.GREATER_THAN_OR_EQUAL]: '≥',
  [Comparison.GREATER_THAN]: '>',
  [Comparison.LESS_THAN]: '<',
  [Comparison.LESS_THAN_OR_EQUAL]: '≤',
};

/**
 * Evaluates the alarms of a system on its {@link LocalMetrics}: alarms it can evaluate are compiled once (their
 * metric sources resolved, their expressions and rules parsed, their series required); {@link evaluate} reads
 * the series and prints each change to or from ALARM as one line.
 */
export class AlarmEvaluator {
  /** The alarms it cannot evaluate, with the reason. */
  readonly notEvaluated: NotEvaluated[] = [];
  private readonly metricAlarms: EvaluatedMetricAlarm[] = [];
  private readonly composites: EvaluatedComposite[] = [];
  /** Every evaluated alarm by each of its aliases (ARN, Ref, AlarmName). */
  private readonly byAlias = new Map<string, Evaluated>();
  private readonly log: (line: string) => void;
  private readonly clock: () => number;
  private readonly describeActions: (actions: readonly string[]) => string[];

  /**
   * Compiles the alarms and seals `metrics` (its series are created for what the alarms read).
   * @param definitions - the system's alarms
   * @param metrics - the local metrics (not sealed yet)
   * @param options - where lines go, the clock, how actions are named
   */
  constructor(
    definitions: readonly AlarmDefinition[],
    private readonly metrics: LocalMetrics,
    options: AlarmEvaluatorOptions,
  ) {
    this.log = options.log;
    this.clock = options.clock ?? Date.now;
    this.describeActions =
      options.describeActions ?? ((actions) => actions.map((arn) => arn.split(/[:/]/).pop() ?? arn));
    for (const definition of definitions) {
      if (definition.kind !== 'metric') continue;
      const compiled = this.compileMetricAlarm(definition);
      if (typeof compiled === 'string') this.notEvaluated.push({ definition, reason: compiled });
      else this.add(compiled);
    }
    metrics.seal();
    this.compileComposites(definitions.filter((d): d is CompositeAlarmDefinition => d.kind === 'composite'));
    for (const composite of this.composites) {
      for (const alias of alarmsOf(composite.rule)) {
        const child = this.byAlias.get(alias);
        if (child && child.definition.actions.length === 0) child.quiet = true;
      }
    }
  }

  /** The alarms evaluated, in template order (composites last). */
  get evaluated(): readonly AlarmDefinition[] {
    return [...this.metricAlarms, ...this.composites].map((a) => a.definition);
  }

  /** The state of an evaluated alarm, by its printed name or one of its aliases (ARN, Ref, AlarmName). */
  stateOf(name: string): AlarmStateValue | undefined {
    return (
      this.byAlias.get(name) ??
      [...this.metricAlarms, ...this.composites].find((a) => a.definition.name === name)
    )?.state;
  }

  /** What the start-up prints: how many alarms are evaluated (by metric) and which are not (by reason). */
  describe(): string[] {
    const evaluated = [...this.metricAlarms, ...this.composites];
    const total = evaluated.length + this.notEvaluated.length;
    if (total === 0) return ['Alarms: none in the templates'];
    const lines = [
      `Alarms: ${evaluated.length} of ${total} evaluated locally` +
        (evaluated.length > 0
          ? ` (${counted(evaluated.map((a) => a.category))}); an ALARM line is printed when one would fire, an OK line when it recovers`
          : ''),
    ];
    if (this.notEvaluated.length > 0) {
      // `AWS/Lambda Throttles (why)` ×15 → `AWS/Lambda Throttles ×15 (why)`, metrics with one reason together.
      const byWhy = new Map<string, string[]>();
      for (const { reason } of this.notEvaluated) {
        const [, what = reason, why = ''] = /^(.*?)(?: \((.*)\))?$/.exec(reason) ?? [];
        byWhy.set(why, [...(byWhy.get(why) ?? []), what]);
      }
      const groups = [...byWhy]
        .sort((a, b) => b[1].length - a[1].length || a[0].localeCompare(b[0]))
        .map(([why, whats]) => `${counted(whats)}${why ? ` (${why})` : ''}`);
      lines.push(`Alarms not evaluated locally: ${this.notEvaluated.length} — ${groups.join('; ')}`);
    }
    return lines;
  }

  /**
   * Evaluates the alarms due at `now` (each every 60th of its period, from 1 s to 1 min; composites each time)
   * and prints what changed to or from ALARM.
   */
  evaluate(now: number = this.clock()): void {
    for (const alarm of [...this.metricAlarms]) {
      try {
        this.evaluateMetricAlarm(alarm, now);
      } catch (error) {
        // An expression that only fails on data (a list where a number is expected, ...): dropped, said once.
        this.metricAlarms.splice(this.metricAlarms.indexOf(alarm), 1);
        const reason = `metric math (${error instanceof Error ? error.message : String(error)})`;
        this.notEvaluated.push({ definition: alarm.definition, reason });
        alarm.state = 'INSUFFICIENT_DATA';
        this.log(`[alarms] ${alarm.definition.name}: not evaluated locally from now on: ${reason}`);
      }
    }
    for (const composite of this.composites) {
      const holds = evaluateRule(
        composite.rule,
        (alias) => this.byAlias.get(alias)?.state ?? 'INSUFFICIENT_DATA',
      );
      this.transition(composite, holds ? 'ALARM' : 'OK', () => this.compositeDetail(composite, holds));
    }
  }

  private add(alarm: EvaluatedMetricAlarm | EvaluatedComposite): void {
    if (alarm.definition.kind === 'metric') this.metricAlarms.push(alarm as EvaluatedMetricAlarm);
    else this.composites.push(alarm as EvaluatedComposite);
    for (const alias of alarm.definition.aliases) this.byAlias.set(alias, alarm);
  }

  /** The compiled alarm, or why it cannot be evaluated. */
  private compileMetricAlarm(definition: MetricAlarmDefinition): EvaluatedMetricAlarm | string {
    if (definition.unsupported || !definition.comparison)
      return `unsupported alarm (${definition.unsupported})`;
    const byId = new Map(definition.queries.map((q) => [q.id, q]));
    const sources = new Map<string, { key: string; gauge: boolean; subject: string }>();
    const expressions = new Map<string, MathNode>();
    const visiting = new Set<string>();
    const visit = (id: string): string | undefined => {
      if (sources.has(id) || expressions.has(id)) return undefined;
      if (visiting.has(id)) return `metric math (${id} refers to itself)`;
      visiting.add(id);
      const query = byId.get(id);
      if (!query) return `metric math (no metric ${id})`;
      if (query.kind === 'metric') {
        if (!isSupportedStatistic(query.statistic)) {
          return `${query.metric.namespace} ${query.metric.metricName} (statistic ${query.statistic})`;
        }
        const source = this.metrics.resolve(query.metric);
        if (!source.ok) return source.reason;
        sources.set(id, source);
        return undefined;
      }
      let node: MathNode;
      try {
        node = parseMath(query.expression);
      } catch (error) {
        return `metric math (${error instanceof Error ? error.message : String(error)})`;
      }
      for (const used of idsOf(node)) {
        const problem = visit(used);
        if (problem) return problem;
      }
      expressions.set(id, node);
      return undefined;
    };
    const problem = visit(definition.returned);
    if (problem) return problem;
    const windowSeconds = definition.periodSeconds * definition.evaluationPeriods;
    for (const [id, source] of sources) {
      const query = byId.get(id) as Extract<MetricQuery, { kind: 'metric' }>;
      this.metrics.require(
        source.key,
        source.gauge,
        definition.periodSeconds,
        windowSeconds,
        needsHistogram(query.statistic),
      );
    }
    const periodOf = (id: string) => {
      const query = byId.get(id);
      return (
        (query?.kind === 'metric' ? query.periodSeconds : query?.periodSeconds) ?? definition.periodSeconds
      );
    };
    const valueIn = (from: number, to: number): number | undefined => {
      const values = new Map<string, MathValue>();
      const value = (id: string): MathValue => {
        if (values.has(id)) return values.get(id);
        let result: MathValue;
        const source = sources.get(id);
        if (source) {
          const query = byId.get(id) as Extract<MetricQuery, { kind: 'metric' }>;
          const aggregate = this.metrics.seriesOf(source.key)?.aggregate(from, to);
          result = statisticOf(gaugeStatistic(query.statistic, source.gauge), aggregate);
          // CloudWatch has one datapoint of a queue depth a minute: its SampleCount is the minutes, its Sum
          // about the depth times the minutes.
          const minutes = Math.max(1, (to - from) / 60_000);
          if (source.gauge && result !== undefined && query.statistic === 'Sum') result *= minutes;
          if (source.gauge && result !== undefined && query.statistic === 'SampleCount') result = minutes;
        } else {
          result = evaluateMath(expressions.get(id)!, { value, period: periodOf });
        }
        values.set(id, result);
        return result;
      };
      const result = value(definition.returned);
      return Array.isArray(result) ? result.find((v) => v !== undefined) : (result as number | undefined);
    };
    const returnedQuery = byId.get(definition.returned)!;
    const firstSource = sources.values().next().value;
    return {
      definition,
      category:
        returnedQuery.kind === 'metric'
          ? `${returnedQuery.metric.namespace} ${returnedQuery.metric.metricName}`
          : 'metric math',
      state: 'OK',
      quiet: false,
      everyMs: Math.min(60_000, Math.max(1_000, (definition.periodSeconds * 1000) / 60)),
      nextAt: 0,
      subject: definition.description ?? firstSource?.subject ?? definition.name,
      valueIn,
      returnedQuery,
      gauge: returnedQuery.kind === 'metric' && (sources.get(returnedQuery.id)?.gauge ?? false),
    };
  }

  /** Composite alarms whose every alarm is evaluated (composites of composites too, in dependency order). */
  private compileComposites(definitions: readonly CompositeAlarmDefinition[]): void {
    const known = new Set(
      [...definitions, ...this.notEvaluated.map((n) => n.definition)].flatMap((d) => d.aliases),
    );
    let pending = definitions.map((definition) => {
      try {
        return { definition, rule: parseRule(definition.rule) as RuleNode | undefined, problem: '' };
      } catch (error) {
        return {
          definition,
          rule: undefined,
          problem: `composite (${error instanceof Error ? error.message : String(error)})`,
        };
      }
    });
    for (const item of pending.filter((p) => !p.rule)) {
      this.notEvaluated.push({ definition: item.definition, reason: item.problem });
    }
    pending = pending.filter((p) => p.rule);
    for (let progress = true; progress && pending.length > 0;) {
      progress = false;
      for (const item of [...pending]) {
        const children = alarmsOf(item.rule!);
        if (!children.every((alias) => this.byAlias.has(alias))) continue;
        this.add({
          definition: item.definition,
          category: 'composite',
          state: 'OK',
          quiet: false,
          rule: item.rule!,
        });
        pending.splice(pending.indexOf(item), 1);
        progress = true;
      }
    }
    for (const item of pending) {
      const missing = alarmsOf(item.rule!).filter((alias) => !this.byAlias.has(alias));
      const outside = missing.some((alias) => !known.has(alias));
      this.notEvaluated.push({
        definition: item.definition,
        reason: outside
          ? 'composite (depends on an alarm outside the system)'
          : 'composite (depends on alarms not evaluated locally)',
      });
    }
  }

  private evaluateMetricAlarm(alarm: EvaluatedMetricAlarm, now: number): void {
    if (now < alarm.nextAt) return;
    alarm.nextAt = now + alarm.everyMs;
    const { definition } = alarm;
    const periodMs = definition.periodSeconds * 1000;
    let breaching = 0;
    let missing = 0;
    let latest: number | undefined;
    let latestBreaching: number | undefined;
    for (let i = 0; i < definition.evaluationPeriods; i++) {
      const to = now - i * periodMs;
      const value = alarm.valueIn(to - periodMs, to);
      if (value === undefined || Number.isNaN(value)) {
        missing++;
        if (definition.missingData === MissingData.BREACHING) breaching++;
        continue;
      }
      latest ??= value;
      if (breaches(definition.comparison!, value, definition.threshold)) {
        breaching++;
        latestBreaching ??= value;
      }
    }
    let next: AlarmStateValue;
    if (missing === definition.evaluationPeriods) {
      next =
        definition.missingData === MissingData.BREACHING
          ? 'ALARM'
          : definition.missingData === MissingData.NOT_BREACHING
            ? 'OK'
            : definition.missingData === MissingData.IGNORE
              ? alarm.state
              : 'INSUFFICIENT_DATA';
    } else {
      next = breaching >= definition.datapointsToAlarm ? 'ALARM' : 'OK';
    }
    this.transition(alarm, next, () =>
      this.metricDetail(alarm, next === 'ALARM' ? (latestBreaching ?? latest) : latest, breaching),
    );
  }

  private transition(alarm: Evaluated, next: AlarmStateValue, detail: () => string): void {
    const previous = alarm.state;
    if (previous === next) return;
    alarm.state = next;
    if (alarm.quiet) return;
    const { name } = alarm.definition;
    if (next === 'ALARM') {
      this.log(`ALARM  ${name}  ${detail()}  ${this.actionsOf(alarm.definition)}`);
    } else if (previous === 'ALARM') {
      this.log(`${next === 'OK' ? 'OK   ' : next}  ${name}  ${detail()}`);
    }
  }

  private actionsOf(definition: AlarmDefinition): string {
    if (definition.actions.length === 0) return '(no alarm action)';
    const targets = [...new Set(this.describeActions(definition.actions))].join(', ');
    return definition.actionsEnabled ? `→ would notify: ${targets}` : `(actions disabled: ${targets})`;
  }

  private metricDetail(alarm: EvaluatedMetricAlarm, value: number | undefined, breaching: number): string {
    const { definition, returnedQuery: query } = alarm;
    const period = duration(definition.periodSeconds);
    let phrase: string;
    if (value === undefined) {
      phrase = `no data in ${definition.evaluationPeriods === 1 ? period : `${definition.evaluationPeriods} × ${period}`}`;
    } else {
      const shown = format(value);
      if (query.kind === 'expression') {
        phrase = `${query.label ?? query.expression} = ${shown}`;
      } else {
        const noun = NOUNS[query.metric.metricName];
        const unit = /Duration|Latency/.test(query.metric.metricName) ? ' ms' : '';
        phrase =
          noun && (query.statistic === 'Sum' || (alarm.gauge && query.statistic === 'Maximum'))
            ? `${shown} ${value === 1 ? noun[0] : noun[1]}`
            : `${query.metric.metricName} ${query.statistic} ${shown}${unit}`;
      }
      phrase +=
        definition.evaluationPeriods === 1
          ? ` in ${period}`
          : ` (${breaching} of ${definition.evaluationPeriods} periods of ${period} breaching, ${definition.datapointsToAlarm} to alarm)`;
    }
    return `${alarm.subject}: ${phrase} (threshold ${SYMBOLS[definition.comparison!]} ${format(definition.threshold)})`;
  }

  private compositeDetail(composite: EvaluatedComposite, holds: boolean): string {
    const inAlarm = alarmsOf(composite.rule)
      .map((alias) => this.byAlias.get(alias))
      .filter((a): a is Evaluated => a?.state === 'ALARM')
      .map((a) => a.definition.name);
    const subject = composite.definition.description ?? 'composite alarm';
    return holds
      ? `${subject}: its rule holds (in ALARM: ${[...new Set(inAlarm)].join(', ') || 'none'})`
      : `${subject}: its rule no longer holds`;
  }
}

function breaches(comparison: Comparison, value: number, threshold: number): boolean {
  switch (comparison) {
    case Comparison.GREATER_THAN_OR_EQUAL:
      return value >= threshold;
    case Comparison.GREATER_THAN:
      return value > threshold;
    case Comparison.LESS_THAN:
      return value < threshold;
    case Comparison.LESS_THAN_OR_EQUAL:
      return value <= threshold;
  }
}

/** A gauge's Sum and SampleCount are per minute on CloudWatch: locally the Average of the samples is scaled. */
function gaugeStatistic(statistic: string, gauge: boolean): string {
  return gauge && (statistic === 'Sum' || statistic === 'SampleCount') ? 'Average' : statistic;
}

/** `1`, `0.5`, `0.00123`, `1234`. */
function format(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(3)));
}

/** `30 s`, `1 min`, `5 min`, `1 h`. */
function duration(seconds: number): string {
  if (seconds >= 3600 && seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds >= 60 && seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

/** `a ×2, b` from a list with repeats, most frequent first. */
function counted(items: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(item, (counts.get(item) ?? 0) + 1);
  return [...counts]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([item, count]) => (count === 1 ? item : `${item} ×${count}`))
    .join(', ');
}
