/**
 * The local runtime's alarms: the system's CloudWatch alarms evaluated offline on what the runtime observes,
 * with the hooks the function runner, the gateway and the outbox pipes call, a queue-depth poll and the timer
 * that evaluates every second.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { QueueAttributeName } from '@aws-sdk/client-sqs';
import type { LocalFunction, LocalPipe, LocalSystem } from '../model';
import { describe } from '../util';
import { alarmDefinitions } from './alarm-definition';
import { AlarmEvaluator } from './alarm-evaluator';
import { LocalMetrics } from './local-metrics';

/** The resource types the local alarms evaluate (not "not emulated": see `describe`). */
export const ALARM_TYPES: ReadonlySet<string> = new Set([
  'AWS::CloudWatch::Alarm',
  'AWS::CloudWatch::CompositeAlarm',
]);

/** Options of {@link LocalAlarms}. */
export interface LocalAlarmsOptions {
  /** Receives the ALARM and OK lines (and a line when a queue's depth cannot be read). */
  readonly log: (line: string) => void;
  /**
   * The SQS client queue depths are read with (GetQueueAttributes).
   * @default - queue-depth alarms are listed as not evaluated locally
   */
  readonly sqs?: Pick<SQSClient, 'send'>;
  /** @default 1000 */
  readonly evaluateEveryMs?: number;
  /** How often the depth of each queue an alarm watches is read. @default 5000 */
  readonly pollQueuesEveryMs?: number;
  /** @default Date.now */
  readonly clock?: () => number;
}

/**
 * The alarms of one served system. Build it before the function runner, the gateway and the pipes, give them
 * its hooks ({@link onInvocation}, {@link onApiResponse}, {@link onPipeBatch}: O(1), no I/O), print
 * {@link describe} once, then {@link start}; {@link stop} before the runner closes.
 */
export class LocalAlarms {
  readonly metrics: LocalMetrics;
  readonly evaluator: AlarmEvaluator;
  /** The function runner's hook: an invocation of `fn` ended after `durationMs`, failed when `error` is set. */
  readonly onInvocation: (fn: LocalFunction, durationMs: number, error?: unknown) => void;
  /** The gateway's hook: a request to `service`'s API was answered with `status` after `latencyMs`. */
  readonly onApiResponse: (service: string, status: number, latencyMs: number) => void;
  /** The outbox pipes' hook: one batch of `records` was delivered, `failed` of them could not be. */
  readonly onPipeBatch: (
    pipe: LocalPipe,
    outcome: { readonly records: number; readonly failed: number },
  ) => void;
  private readonly options: LocalAlarmsOptions;
  private timer?: NodeJS.Timeout;
  private pollTimer?: NodeJS.Timeout;
  private polling?: Promise<void>;
  private stopped = false;
  /** Queues whose depth could not be read (logged once each). */
  private readonly unreadable = new Set<string>();

  constructor(
    system: Pick<LocalSystem, 'functions' | 'routes' | 'pipes' | 'resources'>,
    options: LocalAlarmsOptions,
  ) {
    this.options = options;
    const metrics = new LocalMetrics(system, {
      pollsQueues: options.sqs !== undefined,
      ...(options.clock ? { clock: options.clock } : {}),
    });
    const topics = topicNames(system);
    this.evaluator = new AlarmEvaluator(alarmDefinitions(system.resources), metrics, {
      log: options.log,
      ...(options.clock ? { clock: options.clock } : {}),
      describeActions: (actions) => actions.map((arn) => topics.get(arn) ?? arn.split(/[:/]/).pop() ?? arn),
    });
    this.metrics = metrics;
    this.onInvocation = metrics.onInvocation;
    this.onApiResponse = metrics.onApiResponse;
    this.onPipeBatch = (pipe, outcome) => metrics.onPipeBatch(pipe.name, outcome.failed);
  }

  /** What the start-up prints about the alarms (evaluated, and not evaluated locally by reason). */
  describe(): string[] {
    return this.evaluator.describe();
  }

  /** Starts evaluating every second and reading the watched queues' depths. */
  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => this.evaluator.evaluate(), this.options.evaluateEveryMs ?? 1_000);
    this.timer.unref();
    if (this.options.sqs && this.metrics.polledQueues().length > 0) {
      const every = this.options.pollQueuesEveryMs ?? 5_000;
      const round = () => {
        this.polling = this.pollQueues()
          .catch((error: unknown) => this.options.log(`[alarms] queue depths: ${describe(error)}`))
          .finally(() => {
            this.polling = undefined;
            if (!this.stopped) {
              this.pollTimer = setTimeout(round, every);
              this.pollTimer.unref();
            }
          });
      };
      round();
    }
  }

  /** Stops the evaluation and the queue polls (waits for a poll in flight). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.pollTimer);
    await this.polling;
  }

  /** Reads the depth of every watched queue once, then evaluates. */
  async pollQueues(): Promise<void> {
    const sqs = this.options.sqs;
    if (!sqs) return;
    await Promise.all(
      this.metrics.polledQueues().map(async ({ url, attributes }) => {
        try {
          const { Attributes = {} } = await sqs.send(
            new GetQueueAttributesCommand({
              QueueUrl: url,
              AttributeNames: Object.keys(attributes) as QueueAttributeName[],
            }),
          );
          this.metrics.recordQueue(url, Attributes);
          this.unreadable.delete(url);
        } catch (error) {
          if (this.stopped || this.unreadable.has(url)) return;
          this.unreadable.add(url);
          this.options.log(`[alarms] cannot read the depth of ${url}: ${describe(error)}`);
        }
      }),
    );
    if (!this.stopped) this.evaluator.evaluate();
  }

  /** One line per function invoked so far: invocations, errors, p50 and p99 duration. */
  functionSummary(): string[] {
    return this.metrics.functionSummary();
  }
}

/** The SNS topics of the system by ARN, named by their display name (else their construct path). */
function topicNames(system: Pick<LocalSystem, 'resources'>): Map<string, string> {
  const names = new Map<string, string>();
  for (const resource of system.resources) {
    if (resource.type !== 'AWS::SNS::Topic') continue;
    const { DisplayName, TopicName } = resource.properties;
    const path = resource.metadata['aws:cdk:path'];
    const name =
      (typeof DisplayName === 'string' && DisplayName) ||
      (typeof TopicName === 'string' && TopicName) ||
      (typeof path === 'string' ? path.replace(/\/Resource$/, '') : resource.ref);
    names.set(resource.ref, name);
  }
  return names;
}
