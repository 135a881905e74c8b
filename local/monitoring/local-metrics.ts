/**
 * The CloudWatch metrics the local runtime can observe cheaply, mapped onto what it does: AWS/Lambda
 * Invocations, Errors and Duration from the function runner, AWS/ApiGateway Count, 5XXError, 4XXError and
 * Latency from the gateway, AWS/EventBridge/Pipes Invocations and ExecutionFailed from the outbox pipes, and
 * AWS/SQS queue depths polled from the emulator. Only the series an alarm reads are kept; recording is O(1).
 */
import type { LocalFunction, LocalPipe, LocalSystem } from '../model';
import { serviceOfApi } from '../provisioner/apigateway';
import type { MetricIdentity } from './alarm-definition';
import { LogHistogram, MetricSeries } from './metric-series';

/** Where a metric comes from locally, or why it does not. */
export type MetricSource =
  | {
      readonly ok: true;
      /** Key of the local series. */
      readonly key: string;
      /** What it measures, for a line: `orders: POST /orders`, `API orders`, `queue ...`, `pipe ...`. */
      readonly subject: string;
      /** A gauge (sampled depth) rather than one value per event. */
      readonly gauge: boolean;
    }
  | { readonly ok: false; readonly reason: string };

/** The SQS queue attributes the depth metrics are polled from, by metric name. */
export const QUEUE_GAUGES: Readonly<Record<string, string>> = {
  ApproximateNumberOfMessagesVisible: 'ApproximateNumberOfMessages',
  ApproximateNumberOfMessagesNotVisible: 'ApproximateNumberOfMessagesNotVisible',
  ApproximateNumberOfMessagesDelayed: 'ApproximateNumberOfMessagesDelayed',
};

/** Why the metrics of a namespace are not observed locally. */
const NOT_OBSERVED: Readonly<Record<string, string>> = {
  'AWS/Lambda': 'the local runner queues invocations, it never throttles',
  'AWS/ApiGateway': 'not measured by the local gateway',
  'AWS/SQS': 'moto reports queue depths only',
  'AWS/DynamoDB': 'the emulator neither throttles nor fails requests',
  'AWS/Events': 'rules deliver inside the emulator',
  'AWS/EventBridge/Pipes': 'the local pipe counts executions and failures only',
  'AWS/Cognito': 'the emulator emits no Cognito metrics',
};

/** Options of {@link LocalMetrics}. */
export interface LocalMetricsOptions {
  /** @default Date.now */
  readonly clock?: () => number;
  /**
   * Whether queue depths are polled (by the owner, through {@link LocalMetrics.recordQueue}).
   * @default true
   */
  readonly pollsQueues?: boolean;
}

/** What an alarm asks of a series: its periods and windows decide the bucket width and how much is kept. */
interface Requirement {
  /** The shortest period read, ms. */
  periodMs: number;
  /** The longest window read, ms. */
  windowMs: number;
  percentiles: boolean;
  gauge: boolean;
}

/** Series of one function, one API, one pipe or one queue, looked up once per event. */
type Slots = Record<string, MetricSeries | undefined>;

/** A function's totals since the start (for the summary printed at shutdown). */
interface FunctionTotals {
  readonly fn: LocalFunction;
  invocations: number;
  errors: number;
  readonly durations: LogHistogram;
}

/**
 * The local metrics of one served system: maps a metric to its local source ({@link resolve}), keeps the
 * series alarms read ({@link require}, then {@link seal}) and records what the runtime reports through its
 * hooks. Every hook is O(1) (two map lookups and a few array writes) and does no I/O.
 */
export class LocalMetrics {
  private readonly functionsByName = new Map<string, LocalFunction>();
  private readonly services: ReadonlySet<string>;
  private readonly pipes = new Map<string, LocalPipe>();
  /** Queue name → URL, from the resolved queues of the system. */
  private readonly queueUrls = new Map<string, string>();
  private readonly requirements = new Map<string, Requirement>();
  private readonly series = new Map<string, MetricSeries>();
  private readonly functionSlots = new Map<string, Slots>();
  private readonly apiSlots = new Map<string, Slots>();
  private readonly pipeSlots = new Map<string, Slots>();
  private readonly queueSlots = new Map<string, Slots>();
  private readonly totals = new Map<string, FunctionTotals>();

  private readonly clock: () => number;
  private readonly pollsQueues: boolean;

  constructor(
    system: Pick<LocalSystem, 'functions' | 'routes' | 'pipes' | 'resources'>,
    options: LocalMetricsOptions = {},
  ) {
    this.clock = options.clock ?? Date.now;
    this.pollsQueues = options.pollsQueues ?? true;
    for (const fn of system.functions.values()) this.functionsByName.set(fn.name, fn);
    this.services = new Set(system.routes.map((route) => route.service));
    for (const pipe of system.pipes) this.pipes.set(pipe.name, pipe);
    for (const resource of system.resources) {
      if (resource.type !== 'AWS::SQS::Queue') continue;
      const name = resource.attributes.QueueName;
      if (typeof name === 'string')
        this.queueUrls.set(name, String(resource.attributes.QueueUrl ?? resource.ref));
    }
    this.onInvocation = this.onInvocation.bind(this);
    this.onApiResponse = this.onApiResponse.bind(this);
    this.onPipeBatch = this.onPipeBatch.bind(this);
  }

  /** The local source of a metric, or why there is none. */
  resolve(metric: MetricIdentity): MetricSource {
    const { namespace, metricName, dimensions } = metric;
    const named = `${namespace} ${metricName}`;
    const no = (why: string): MetricSource => ({ ok: false, reason: `${named} (${why})` });
    const extra = (allowed: readonly string[]) => Object.keys(dimensions).filter((d) => !allowed.includes(d));
    switch (namespace) {
      case 'AWS/Lambda': {
        const fn = this.functionsByName.get(dimensions.FunctionName ?? '');
        if (!['Invocations', 'Errors', 'Duration'].includes(metricName)) break;
        if (!fn) return no(dimensions.FunctionName ? 'no such local function' : 'account-wide');
        if (extra(['FunctionName', 'Resource', 'ExecutedVersion']).length > 0)
          return no('unknown dimensions');
        return {
          ok: true,
          key: `lambda:${fn.key}:${metricName}`,
          subject: fn.description || fn.name,
          gauge: false,
        };
      }
      case 'AWS/ApiGateway': {
        if (!['Count', '5XXError', '4XXError', 'Latency'].includes(metricName)) break;
        const service = dimensions.ApiName ? serviceOfApi(dimensions.ApiName) : undefined;
        if (!service || !this.services.has(service)) return no('no such local API');
        if (dimensions.Method || dimensions.Resource) return no('per-method metrics are not kept locally');
        if (extra(['ApiName', 'Stage']).length > 0) return no('unknown dimensions');
        return { ok: true, key: `api:${service}:${metricName}`, subject: `API ${service}`, gauge: false };
      }
      case 'AWS/EventBridge/Pipes': {
        if (!['Invocations', 'ExecutionFailed'].includes(metricName)) break;
        const pipe = this.pipes.get(dimensions.PipeName ?? '');
        if (!pipe) return no('no such local pipe');
        return {
          ok: true,
          key: `pipe:${pipe.name}:${metricName}`,
          subject: `pipe ${pipe.name}`,
          gauge: false,
        };
      }
      case 'AWS/SQS': {
        if (!this.pollsQueues) return no('queue depths are not polled');
        if (!(metricName in QUEUE_GAUGES)) {
          return no(
            metricName === 'ApproximateAgeOfOldestMessage' ? 'moto reports no message age' : 'not polled',
          );
        }
        const url = this.queueUrls.get(dimensions.QueueName ?? '');
        if (!url) return no('no such local queue');
        return {
          ok: true,
          key: `sqs:${url}:${metricName}`,
          subject: `queue ${dimensions.QueueName}`,
          gauge: true,
        };
      }
      default:
        break;
    }
    return no(NOT_OBSERVED[namespace] ?? 'not emitted locally');
  }

  /**
   * Keeps the series `key` for an alarm reading periods of `periodSeconds` over `windowSeconds`. The series keeps
   * the longest window asked in buckets of a 60th of the shortest period, or of a 720th of the longest window
   * when that is more (at most 722 buckets for windows of hours), from 1 s to 1 min.
   */
  require(
    key: string,
    gauge: boolean,
    periodSeconds: number,
    windowSeconds: number,
    percentiles: boolean,
  ): void {
    const requirement = this.requirements.get(key);
    if (!requirement) {
      this.requirements.set(key, {
        periodMs: periodSeconds * 1000,
        windowMs: windowSeconds * 1000,
        percentiles,
        gauge,
      });
      return;
    }
    requirement.periodMs = Math.min(requirement.periodMs, periodSeconds * 1000);
    requirement.windowMs = Math.max(requirement.windowMs, windowSeconds * 1000);
    requirement.percentiles ||= percentiles;
  }

  /** Creates the series required so far and the lookups the hooks use. */
  seal(): void {
    for (const [key, requirement] of this.requirements) {
      if (this.series.has(key)) continue;
      const bucketMs = Math.min(
        60_000,
        Math.max(1_000, Math.floor(requirement.periodMs / 60), Math.floor(requirement.windowMs / 720)),
      );
      const series = new MetricSeries({ ...requirement, bucketMs });
      this.series.set(key, series);
      const [kind, ...rest] = key.split(':');
      const metricName = rest.pop()!;
      const owner = rest.join(':');
      const slots =
        kind === 'lambda'
          ? this.functionSlots
          : kind === 'api'
            ? this.apiSlots
            : kind === 'pipe'
              ? this.pipeSlots
              : this.queueSlots;
      let forOwner = slots.get(owner);
      if (!forOwner) slots.set(owner, (forOwner = {}));
      forOwner[metricName] = series;
    }
  }

  /** The series kept under `key` (after {@link seal}). */
  seriesOf(key: string): MetricSeries | undefined {
    return this.series.get(key);
  }

  /** Whether `key` is a gauge (a polled depth). */
  isGauge(key: string): boolean {
    return this.requirements.get(key)?.gauge ?? false;
  }

  /** The function runner's hook: one invocation of `fn` took `durationMs` and failed when `error` is set. */
  onInvocation(fn: LocalFunction, durationMs: number, error?: unknown): void {
    const failed = error !== undefined;
    let totals = this.totals.get(fn.key);
    if (!totals)
      this.totals.set(fn.key, (totals = { fn, invocations: 0, errors: 0, durations: new LogHistogram() }));
    totals.invocations++;
    if (failed) totals.errors++;
    totals.durations.add(durationMs);
    const slots = this.functionSlots.get(fn.key);
    if (!slots) return;
    const now = this.clock();
    slots.Invocations?.add(1, now);
    slots.Errors?.add(failed ? 1 : 0, now);
    slots.Duration?.add(durationMs, now);
  }

  /** The gateway's hook: a request to `service`'s API was answered with `status` after `latencyMs`. */
  onApiResponse(service: string, status: number, latencyMs: number): void {
    const slots = this.apiSlots.get(service);
    if (!slots) return;
    const now = this.clock();
    slots.Count?.add(1, now);
    slots['5XXError']?.add(status >= 500 ? 1 : 0, now);
    slots['4XXError']?.add(status >= 400 && status < 500 ? 1 : 0, now);
    slots.Latency?.add(latencyMs, now);
  }

  /** The outbox pipes' hook: one batch (execution) of the pipe ended, with `failed` records not delivered. */
  onPipeBatch(pipeName: string, failed: number): void {
    const slots = this.pipeSlots.get(pipeName);
    if (!slots) return;
    const now = this.clock();
    slots.Invocations?.add(1, now);
    slots.ExecutionFailed?.add(failed > 0 ? 1 : 0, now);
  }

  /** The queues whose depth an alarm reads, with the attributes to poll. */
  polledQueues(): { readonly url: string; readonly attributes: Readonly<Record<string, string>> }[] {
    return [...this.queueSlots.entries()].map(([url, slots]) => ({
      url,
      attributes: Object.fromEntries(Object.keys(slots).map((metric) => [QUEUE_GAUGES[metric], metric])),
    }));
  }

  /** Records the depths polled from a queue (attribute name → value). */
  recordQueue(url: string, attributes: Readonly<Record<string, string | undefined>>): void {
    const slots = this.queueSlots.get(url);
    if (!slots) return;
    const now = this.clock();
    for (const [metric, series] of Object.entries(slots)) {
      const value = attributes[QUEUE_GAUGES[metric]];
      if (value !== undefined && series) series.add(Number(value), now);
    }
  }

  /** One line per function invoked since the start: invocations, errors, p50 and p99 duration. */
  functionSummary(): string[] {
    return [...this.totals.values()]
      .sort((a, b) => (a.fn.description || a.fn.name).localeCompare(b.fn.description || b.fn.name))
      .map(({ fn, invocations, errors, durations }) => {
        const ms = (p: number) => `${Math.round(durations.percentile(p) ?? 0)} ms`;
        return (
          `${(fn.description || fn.name).padEnd(40)} ${plural(invocations, 'invocation')}, ` +
          `${plural(errors, 'error')}, p50 ${ms(50)}, p99 ${ms(99)}`
        );
      });
  }
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
