import type { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { LocalFunction, LocalPipe, LocalRoute, LocalSystem, ResolvedResource } from '../../local/model';
import { alarmDefinitions } from '../../local/monitoring/alarm-definition';
import { AlarmEvaluator } from '../../local/monitoring/alarm-evaluator';
import { evaluateRule, parseRule } from '../../local/monitoring/composite-rule';
import { LocalAlarms } from '../../local/monitoring/local-alarms';
import { LocalMetrics } from '../../local/monitoring/local-metrics';
import { evaluateMath, parseMath } from '../../local/monitoring/metric-math';
import { LogHistogram, MetricSeries } from '../../local/monitoring/metric-series';

// The local alarm evaluator on synthetic alarm definitions, with a clock the tests move.

const STACK = 'Shop-local-Orders';
const REGION = 'us-east-1';
const ACCOUNT = '123456789012';
const TOPIC_ARN = `arn:aws:sns:${REGION}:${ACCOUNT}:Shop-local-Platform-PlatformAlarmTopicAD19046F`;
const DLQ_NAME = 'Shop-local-Orders-ServicestockresultsDeadLetterQueue8BCEC307';
const DLQ_URL = `http://127.0.0.1:5000/${ACCOUNT}/${DLQ_NAME}`;
const QUEUE_NAME = 'Shop-local-Orders-ServicestockresultsQueue8B03BCC4';
const START = 1_800_000_000_000;

function fn(logicalId: string, description: string): LocalFunction {
  return {
    key: `${STACK}/${logicalId}`,
    name: `${STACK}-${logicalId}`,
    stackName: STACK,
    logicalId,
    description,
    assetDir: '/nowhere',
    handler: 'index.handler',
    timeoutSeconds: 10,
    memoryMb: 256,
    environment: {},
  };
}

const POST_ORDERS = fn('ServicepostordersFunction78331BA7', 'orders: POST /orders');
const STOCK_RESULTS = fn('ServicestockresultsConsumerFunction646948C6', 'orders: consumes StockReserved');
const PIPE = { name: `${STACK}-ServiceOutboxPipeB4179A9A` } as LocalPipe;

function resource(type: string, logicalId: string, properties: Record<string, unknown>): ResolvedResource {
  const name = `${STACK}-${logicalId}`;
  return {
    stackName: STACK,
    logicalId,
    type,
    properties,
    ref: type === 'AWS::SQS::Queue' ? `http://127.0.0.1:5000/${ACCOUNT}/${name}` : name,
    attributes:
      type === 'AWS::SQS::Queue'
        ? { QueueName: name, QueueUrl: `http://127.0.0.1:5000/${ACCOUNT}/${name}` }
        : { Arn: `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${name}` },
    metadata: { 'aws:cdk:path': `${STACK}/Service/${logicalId.replace(/[0-9A-F]{8}$/, '')}/Resource` },
  };
}

/** An AWS::CloudWatch::Alarm on one metric, notifying the platform's topic. */
function metricAlarm(logicalId: string, properties: Record<string, unknown>): ResolvedResource {
  return resource('AWS::CloudWatch::Alarm', logicalId, {
    AlarmActions: [TOPIC_ARN],
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    EvaluationPeriods: 1,
    Period: 60,
    Statistic: 'Sum',
    Threshold: 1,
    TreatMissingData: 'notBreaching',
    ...properties,
  });
}

const TOPIC: ResolvedResource = {
  stackName: 'Shop-local-Platform',
  logicalId: 'PlatformAlarmTopicAD19046F',
  type: 'AWS::SNS::Topic',
  properties: { DisplayName: 'Shop local alarms' },
  ref: TOPIC_ARN,
  attributes: {},
  metadata: {},
};
const DLQ = resource('AWS::SQS::Queue', 'ServicestockresultsDeadLetterQueue8BCEC307', {});
const QUEUE = resource('AWS::SQS::Queue', 'ServicestockresultsQueue8B03BCC4', {});

const ERRORS_ALARM = metricAlarm('PostOrdersErrors0A1B2C3D', {
  Namespace: 'AWS/Lambda',
  MetricName: 'Errors',
  Dimensions: [{ Name: 'FunctionName', Value: POST_ORDERS.name }],
});
const DLQ_ALARM = metricAlarm('ServicestockresultsDeadLetterAlarm91229E4A', {
  AlarmDescription: 'orders stock-results: messages failed 5 times and wait in the dead-letter queue',
  Namespace: 'AWS/SQS',
  MetricName: 'ApproximateNumberOfMessagesVisible',
  Dimensions: [{ Name: 'QueueName', Value: DLQ_NAME }],
  Statistic: 'Maximum',
});

/** A system of the given alarms, with the functions, API, pipe, queues and topic they refer to. */
function system(
  ...alarms: ResolvedResource[]
): Pick<LocalSystem, 'functions' | 'routes' | 'pipes' | 'resources'> {
  return {
    functions: new Map([POST_ORDERS, STOCK_RESULTS].map((f) => [f.key, f])),
    routes: [{ service: 'orders' } as LocalRoute],
    pipes: [PIPE],
    resources: [TOPIC, DLQ, QUEUE, ...alarms],
  };
}

/** The alarms of `resources` on a clock the test moves, with the lines they print. */
function harness(...alarms: ResolvedResource[]) {
  let now = START;
  const lines: string[] = [];
  const depths = new Map<string, string>();
  const sqs = {
    send: (command: GetQueueAttributesCommand) =>
      Promise.resolve({
        Attributes: { ApproximateNumberOfMessages: depths.get(command.input.QueueUrl!) ?? '0' },
      }),
  };
  const local = new LocalAlarms(system(...alarms), {
    log: (line) => lines.push(line),
    clock: () => now,
    sqs: sqs as never,
  });
  return {
    local,
    lines,
    /** Moves the clock on and evaluates. */
    at(seconds: number) {
      now = START + seconds * 1000;
      local.evaluator.evaluate();
    },
    /** Sets what the emulator reports as a queue's visible messages, polls and evaluates. */
    async depth(url: string, visible: number) {
      depths.set(url, String(visible));
      await local.pollQueues();
    },
  };
}

describe('local alarms: thresholds, windows and recovery', () => {
  it('prints one ALARM line when a function errors and one OK line once the minute has passed', () => {
    const { local, lines, at } = harness(ERRORS_ALARM);
    local.onInvocation(POST_ORDERS, 12, undefined);
    at(1);
    expect(lines).toEqual([]);
    local.onInvocation(POST_ORDERS, 15, new Error('boom'));
    at(2);
    at(3);
    expect(lines).toEqual([
      `ALARM  ${STACK}/Service/PostOrdersErrors  orders: POST /orders: 1 error in 1 min (threshold ≥ 1)  → would notify: Shop local alarms`,
    ]);
    at(60);
    expect(lines).toHaveLength(1);
    // No invocation in the last minute: no datapoint, which TreatMissingData notBreaching counts as OK.
    at(62);
    expect(lines[1]).toBe(
      `OK     ${STACK}/Service/PostOrdersErrors  orders: POST /orders: no data in 1 min (threshold ≥ 1)`,
    );
  });

  it('maps the FunctionName dimension to that local function only (an alias Resource dimension too)', () => {
    const aliasAlarm = metricAlarm('StockResultsErrors11111111', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [
        { Name: 'FunctionName', Value: STOCK_RESULTS.name },
        { Name: 'Resource', Value: `${STOCK_RESULTS.name}:live` },
      ],
    });
    const { local, lines, at } = harness(ERRORS_ALARM, aliasAlarm);
    local.onInvocation(STOCK_RESULTS, 3, new Error('boom'));
    at(1);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(
        `^ALARM  ${STACK}/Service/StockResultsErrors  orders: consumes StockReserved: 1 error in 1 min`,
      ),
    );
    expect(local.evaluator.stateOf(`${STACK}/Service/PostOrdersErrors`)).toBe('OK');
  });

  it('fires when a dead-letter queue holds a message and recovers when it is emptied', async () => {
    const { lines, at, depth } = harness(DLQ_ALARM);
    at(0);
    await depth(DLQ_URL, 0);
    expect(lines).toEqual([]);
    at(5);
    await depth(DLQ_URL, 2);
    // The next evaluation (every second for a 1-minute period) sees it.
    at(6);
    expect(lines).toEqual([
      `ALARM  ${STACK}/Service/ServicestockresultsDeadLetterAlarm  orders stock-results: messages failed 5 times and wait in the dead-letter queue: 2 messages visible in 1 min (threshold ≥ 1)  → would notify: Shop local alarms`,
    ]);
    at(10);
    await depth(DLQ_URL, 0);
    // The maximum of the minute is still 2.
    expect(lines).toHaveLength(1);
    at(66);
    await depth(DLQ_URL, 0);
    expect(lines[1]).toMatch(
      /^OK {5}Shop-local-Orders\/Service\/ServicestockresultsDeadLetterAlarm .*: 0 messages visible in 1 min/,
    );
  });

  it('needs DatapointsToAlarm of EvaluationPeriods periods to breach', () => {
    const twoOfThree = metricAlarm('PostOrdersErrorsTwoOfThree', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: POST_ORDERS.name }],
      EvaluationPeriods: 3,
      DatapointsToAlarm: 2,
    });
    const { local, lines, at } = harness(twoOfThree);
    local.onInvocation(POST_ORDERS, 1, new Error('first'));
    at(10);
    expect(lines).toEqual([]);
    at(70);
    local.onInvocation(POST_ORDERS, 1, new Error('second'));
    at(71);
    expect(lines).toEqual([
      `ALARM  ${STACK}/Service/PostOrdersErrorsTwoOfThree  orders: POST /orders: 1 error (2 of 3 periods of 1 min breaching, 2 to alarm) (threshold ≥ 1)  → would notify: Shop local alarms`,
    ]);
  });

  it('evaluates a p99 duration and an error-rate expression of the API', () => {
    const duration = metricAlarm('PostOrdersDurationP99', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Duration',
      Dimensions: [{ Name: 'FunctionName', Value: POST_ORDERS.name }],
      Statistic: undefined,
      ExtendedStatistic: 'p99',
      Period: 300,
      Threshold: 1000,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    const api = (id: string, metric: string) => ({
      Id: id,
      ReturnData: false,
      MetricStat: {
        Metric: {
          Namespace: 'AWS/ApiGateway',
          MetricName: metric,
          Dimensions: [{ Name: 'ApiName', Value: 'Shop-local-orders' }],
        },
        Period: 60,
        Stat: 'Sum',
      },
    });
    const errorRate = metricAlarm('OrdersApi5xxRate', {
      Namespace: undefined,
      MetricName: undefined,
      Statistic: undefined,
      Period: undefined,
      Threshold: 4,
      Metrics: [
        { Id: 'rate', Expression: '100 * errors / FILL(requests, 0)', Label: '5xx rate (%)' },
        api('errors', '5XXError'),
        api('requests', 'Count'),
      ],
    });
    const { local, lines, at } = harness(duration, errorRate);
    for (let i = 0; i < 98; i++) local.onInvocation(POST_ORDERS, 40, undefined);
    for (let i = 0; i < 19; i++) local.onApiResponse('orders', 201, 45);
    local.onApiResponse('orders', 400, 3);
    at(1);
    expect(lines).toEqual([]);
    local.onInvocation(POST_ORDERS, 2500, undefined);
    local.onInvocation(POST_ORDERS, 2600, undefined);
    local.onApiResponse('orders', 502, 2600);
    // A 5-minute period is evaluated every 5 s.
    at(7);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(
      /^ALARM {2}Shop-local-Orders\/Service\/PostOrdersDurationP99 {2}orders: POST \/orders: Duration p99 2\d{3} ms in 5 min \(threshold > 1000\)/,
    );
    // 1 of 21 requests answered 5xx.
    expect(lines[1]).toBe(
      `ALARM  ${STACK}/Service/OrdersApi5xxRate  API orders: 5xx rate (%) = 4.76 in 1 min (threshold ≥ 4)  → would notify: Shop local alarms`,
    );
  });

  it('fires on a failed pipe execution', () => {
    const pipeAlarm = metricAlarm('ServiceOutboxFailureAlarm949D9D0F', {
      AlarmDescription: 'The outbox pipe of shop.orders failed to deliver events',
      Namespace: 'AWS/EventBridge/Pipes',
      MetricName: 'ExecutionFailed',
      Dimensions: [{ Name: 'PipeName', Value: PIPE.name }],
      Period: 300,
    });
    const { local, lines, at } = harness(pipeAlarm);
    local.onPipeBatch(PIPE, { records: 3, failed: 0 });
    at(1);
    expect(lines).toEqual([]);
    local.onPipeBatch(PIPE, { records: 2, failed: 1 });
    at(7);
    expect(lines).toEqual([
      `ALARM  ${STACK}/Service/ServiceOutboxFailureAlarm  The outbox pipe of shop.orders failed to deliver events: 1 failed execution in 5 min (threshold ≥ 1)  → would notify: Shop local alarms`,
    ]);
  });

  it('treats a window without data as TreatMissingData says', () => {
    const heartbeat = metricAlarm('PostOrdersNoTraffic', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Invocations',
      Dimensions: [{ Name: 'FunctionName', Value: POST_ORDERS.name }],
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
      AlarmActions: [],
    });
    const { local, lines, at } = harness(heartbeat);
    at(1);
    expect(lines).toEqual([
      `ALARM  ${STACK}/Service/PostOrdersNoTraffic  orders: POST /orders: no data in 1 min (threshold < 1)  (no alarm action)`,
    ]);
    local.onInvocation(POST_ORDERS, 1, undefined);
    at(2);
    expect(lines[1]).toBe(
      `OK     ${STACK}/Service/PostOrdersNoTraffic  orders: POST /orders: 1 invocation in 1 min (threshold < 1)`,
    );
  });
});

describe('local alarms: what is not evaluated, composites and actions', () => {
  it('lists the alarms it cannot evaluate once, counted by reason', () => {
    const age = (id: string) =>
      metricAlarm(id, {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateAgeOfOldestMessage',
        Dimensions: [{ Name: 'QueueName', Value: QUEUE_NAME }],
        Statistic: 'Maximum',
        Threshold: 300,
      });
    const throttles = metricAlarm('TableThrottles', {
      Namespace: 'AWS/DynamoDB',
      MetricName: 'ThrottledRequests',
      Dimensions: [{ Name: 'TableName', Value: 'orders' }],
    });
    const composite = resource('AWS::CloudWatch::CompositeAlarm', 'AgeOrThrottles', {
      AlarmRule: `ALARM("arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${STACK}-QueueAgeOne") OR ALARM("arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${STACK}-TableThrottles")`,
    });
    const { local, lines, at } = harness(
      ERRORS_ALARM,
      DLQ_ALARM,
      age('QueueAgeOne'),
      age('QueueAgeTwo'),
      throttles,
      composite,
    );
    expect(local.describe()).toEqual([
      'Alarms: 2 of 6 evaluated locally (AWS/Lambda Errors, AWS/SQS ApproximateNumberOfMessagesVisible); an ALARM line is printed when one would fire, an OK line when it recovers',
      'Alarms not evaluated locally: 4 — AWS/SQS ApproximateAgeOfOldestMessage ×2 (moto reports no message age); composite (depends on alarms not evaluated locally); AWS/DynamoDB ThrottledRequests (the emulator neither throttles nor fails requests)',
    ]);
    at(1);
    at(2);
    expect(lines).toEqual([]);
  });

  it('evaluates a composite alarm on its alarms, printing the composite and not its silent parts', () => {
    const part = (id: string, period: number) =>
      metricAlarm(id, {
        Namespace: 'AWS/ApiGateway',
        MetricName: '5XXError',
        Dimensions: [
          { Name: 'ApiName', Value: 'Shop-local-orders' },
          { Name: 'Stage', Value: 'v1' },
        ],
        Statistic: 'Average',
        Period: period,
        Threshold: 0.0144,
        AlarmActions: [],
      });
    const arn = (id: string) => `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${STACK}-${id}`;
    const burn = resource('AWS::CloudWatch::CompositeAlarm', 'AvailabilityFastBurn', {
      AlarmDescription: 'orders availability: 2% of the monthly error budget burnt in an hour',
      AlarmRule: `ALARM("${arn('BurnLong')}") AND ALARM("${arn('BurnShort')}")`,
      AlarmActions: [TOPIC_ARN],
    });
    const { local, lines, at } = harness(part('BurnLong', 3600), part('BurnShort', 300), burn);
    expect(local.describe()[0]).toBe(
      'Alarms: 3 of 3 evaluated locally (AWS/ApiGateway 5XXError ×2, composite); an ALARM line is printed when one would fire, an OK line when it recovers',
    );
    local.onApiResponse('orders', 200, 10);
    local.onApiResponse('orders', 503, 10);
    at(1);
    expect(lines).toEqual([
      `ALARM  ${STACK}/Service/AvailabilityFastBurn  orders availability: 2% of the monthly error budget burnt in an hour: its rule holds (in ALARM: ${STACK}/Service/BurnLong, ${STACK}/Service/BurnShort)  → would notify: Shop local alarms`,
    ]);
    expect(local.evaluator.stateOf(arn('BurnShort'))).toBe('ALARM');
    // Five minutes later (and a bucket: 5 s for a 5-minute period) the short window has no 5xx left.
    at(310);
    expect(lines[1]).toBe(
      `OK     ${STACK}/Service/AvailabilityFastBurn  orders availability: 2% of the monthly error budget burnt in an hour: its rule no longer holds`,
    );
    expect(local.evaluator.stateOf(arn('BurnLong'))).toBe('ALARM');
  });

  it('evaluates latency burn-rate windows on the percentile rank PR(:1000), as the SLO construct writes them', () => {
    const window = (id: string, seconds: number, label: string) =>
      metricAlarm(id, {
        AlarmName: `Shop-local-orders-SLO-latency-burn-rate-${label}`,
        Namespace: undefined,
        MetricName: undefined,
        Statistic: undefined,
        Period: undefined,
        Threshold: 14.4,
        AlarmActions: [],
        Metrics: [
          { Id: 'expr_1', Expression: `((100 - within_${label}) / 100) / 0.01`, ReturnData: true },
          {
            Id: `within_${label}`,
            ReturnData: false,
            MetricStat: {
              Metric: {
                Namespace: 'AWS/ApiGateway',
                MetricName: 'Latency',
                Dimensions: [
                  { Name: 'ApiName', Value: 'Shop-local-orders' },
                  { Name: 'Stage', Value: 'v1' },
                ],
              },
              Period: seconds,
              Stat: 'PR(:1000)',
            },
          },
        ],
      });
    const arn = (id: string) => `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${STACK}-${id}`;
    const page = resource('AWS::CloudWatch::CompositeAlarm', 'LatencyPage', {
      AlarmName: 'Shop-local-orders-SLO-latency-burn-rate-1h-5m',
      AlarmRule: `(ALARM("${arn('Long')}") AND ALARM("${arn('Short')}"))`,
      AlarmActions: [TOPIC_ARN],
    });
    const { local, lines, at } = harness(window('Long', 3600, '1h'), window('Short', 300, '5m'), page);
    for (let i = 0; i < 97; i++) local.onApiResponse('orders', 200, 120);
    for (let i = 0; i < 3; i++) local.onApiResponse('orders', 200, 1500);
    at(1);
    // 3% slow: a burn rate of 3, under 14.4.
    expect(lines).toEqual([]);
    for (let i = 0; i < 30; i++) local.onApiResponse('orders', 200, 2000);
    at(61);
    expect(lines).toEqual([
      'ALARM  Shop-local-orders-SLO-latency-burn-rate-1h-5m  composite alarm: its rule holds (in ALARM: Shop-local-orders-SLO-latency-burn-rate-1h, Shop-local-orders-SLO-latency-burn-rate-5m)  → would notify: Shop local alarms',
    ]);
  });

  it('names what would be notified, and says when actions are disabled', () => {
    const disabled = metricAlarm('Disabled', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: POST_ORDERS.name }],
      ActionsEnabled: false,
      AlarmActions: [`arn:aws:sns:${REGION}:${ACCOUNT}:external-pager`],
      AlarmName: 'orders-post-errors',
    });
    const { local, lines, at } = harness(disabled);
    local.onInvocation(POST_ORDERS, 1, new Error('x'));
    at(1);
    expect(lines).toEqual([
      'ALARM  orders-post-errors  orders: POST /orders: 1 error in 1 min (threshold ≥ 1)  (actions disabled: external-pager)',
    ]);
  });

  it('drops an expression that fails on data, once, and keeps evaluating the others', () => {
    const broken = metricAlarm('Broken', {
      Namespace: undefined,
      MetricName: undefined,
      Statistic: undefined,
      Period: undefined,
      Metrics: [
        { Id: 'e1', Expression: 'IF([errors, errors], 1, 0)' },
        {
          Id: 'errors',
          ReturnData: false,
          MetricStat: {
            Metric: {
              Namespace: 'AWS/Lambda',
              MetricName: 'Errors',
              Dimensions: [{ Name: 'FunctionName', Value: POST_ORDERS.name }],
            },
            Period: 60,
            Stat: 'Sum',
          },
        },
      ],
    });
    const { local, lines, at } = harness(broken, ERRORS_ALARM);
    local.onInvocation(POST_ORDERS, 1, new Error('x'));
    at(1);
    at(2);
    expect(lines).toEqual([
      `[alarms] ${STACK}/Service/Broken: not evaluated locally from now on: metric math (IF takes a single series as its condition)`,
      `ALARM  ${STACK}/Service/PostOrdersErrors  orders: POST /orders: 1 error in 1 min (threshold ≥ 1)  → would notify: Shop local alarms`,
    ]);
    expect(local.evaluator.notEvaluated.map((n) => n.definition.name)).toEqual([`${STACK}/Service/Broken`]);
  });

  it('lists queue-depth alarms as not evaluated when it has no SQS client', () => {
    const metrics = new LocalMetrics(system(DLQ_ALARM), { pollsQueues: false });
    const evaluator = new AlarmEvaluator(alarmDefinitions([DLQ_ALARM]), metrics, { log: () => undefined });
    expect(evaluator.notEvaluated.map((n) => n.reason)).toEqual([
      'AWS/SQS ApproximateNumberOfMessagesVisible (queue depths are not polled)',
    ]);
  });

  it('refuses anomaly detection and unknown statistics with the reason', () => {
    const band = metricAlarm('Band', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Duration',
      Dimensions: [{ Name: 'FunctionName', Value: POST_ORDERS.name }],
      ComparisonOperator: 'GreaterThanUpperThreshold',
      ThresholdMetricId: 'ad1',
    });
    const trimmed = metricAlarm('Trimmed', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Duration',
      Dimensions: [{ Name: 'FunctionName', Value: POST_ORDERS.name }],
      Statistic: undefined,
      ExtendedStatistic: 'tm99',
    });
    const search = metricAlarm('Search', {
      Metrics: [{ Id: 'e1', Expression: "SEARCH('{AWS/Lambda,FunctionName} Errors', 'Sum', 60)" }],
    });
    const metrics = new LocalMetrics(system());
    const evaluator = new AlarmEvaluator(alarmDefinitions([band, trimmed, search]), metrics, {
      log: () => undefined,
    });
    expect(evaluator.notEvaluated.map((n) => n.reason)).toEqual([
      'unsupported alarm (the comparison GreaterThanUpperThreshold, for anomaly detection; an anomaly detection band as threshold)',
      'AWS/Lambda Duration (statistic tm99)',
      'metric math (the metric math function SEARCH is not evaluated locally)',
    ]);
  });
});

describe('local alarms: the parts', () => {
  it('keeps O(1) buckets and reads a window of them', () => {
    const series = new MetricSeries({ bucketMs: 1000, windowMs: 60_000, percentiles: true });
    series.add(1, START);
    series.add(3, START + 500);
    series.add(10, START + 30_000);
    expect(series.aggregate(START - 1000, START)).toMatchObject({ count: 2, sum: 4, min: 1, max: 3 });
    expect(series.aggregate(START - 1000, START + 59_000)).toMatchObject({
      count: 3,
      sum: 14,
      min: 1,
      max: 10,
    });
    // The ring holds 62 buckets: the slot of START is reused 62 s later, and its old values are gone.
    series.add(5, START + 62_000);
    expect(series.aggregate(START + 1_000, START + 62_000)).toMatchObject({ count: 2, sum: 15 });
    expect(series.aggregate(START - 1000, START)).toBeUndefined();
  });

  it('tells a percentile within 5%', () => {
    const histogram = new LogHistogram();
    for (let i = 1; i <= 1000; i++) histogram.add(i);
    expect(histogram.percentile(99)).toBeGreaterThanOrEqual(990);
    expect(histogram.percentile(99)).toBeLessThanOrEqual(990 * 1.05);
    expect(histogram.percentile(50)).toBeGreaterThanOrEqual(500);
    expect(histogram.percentile(50)).toBeLessThanOrEqual(525);
    expect(histogram.percentile(100)).toBe(1000);
    // 990 values at most 990 (the bucket of a bound counts as within it: ±2.5%).
    expect(histogram.countWithin(undefined, 990)).toBeGreaterThanOrEqual(990);
    expect(histogram.countWithin(undefined, 990)).toBeLessThanOrEqual(1000);
    expect(histogram.countWithin(500, undefined)).toBeLessThanOrEqual(500);
    expect(histogram.countWithin(500, undefined)).toBeGreaterThanOrEqual(475);
  });

  it('evaluates the metric math alarms use, with missing datapoints', () => {
    const values: Record<string, number | undefined> = { errors: 3, requests: 60, none: undefined };
    const context = { value: (id: string) => values[id], period: () => 300 };
    const evaluate = (expression: string) => evaluateMath(parseMath(expression), context);
    expect(evaluate('100 * errors / requests')).toBe(5);
    expect(evaluate('(errors / requests) / (1 - 0.999)')).toBeCloseTo(50);
    expect(evaluate('errors / PERIOD(errors)')).toBe(0.01);
    expect(evaluate('none + 1')).toBeUndefined();
    expect(evaluate('FILL(none, 0) + 1')).toBe(1);
    expect(evaluate('IF(requests > 10 AND errors >= 3, errors, 0)')).toBe(3);
    expect(evaluate('IF(requests < 10, errors)')).toBeUndefined();
    expect(evaluate('MAX([errors, requests, none])')).toBe(60);
    expect(evaluate('2 ^ 3 - -1')).toBe(9);
    expect(evaluate('errors / 0')).toBeUndefined();
    expect(() => parseMath('ANOMALY_DETECTION_BAND(m1, 2)')).toThrow(
      /ANOMALY_DETECTION_BAND is not evaluated locally/,
    );
    expect(() => parseMath('errors +')).toThrow(/expected more/);
  });

  it('reads composite rules with quoted and bare alarms, NOT and parentheses', () => {
    const states: Record<string, 'OK' | 'ALARM' | 'INSUFFICIENT_DATA'> = {
      a: 'ALARM',
      b: 'OK',
      'c d': 'ALARM',
    };
    const holds = (rule: string) =>
      evaluateRule(parseRule(rule), (alarm) => states[alarm] ?? 'INSUFFICIENT_DATA');
    expect(holds('ALARM(a) AND NOT ALARM(b)')).toBe(true);
    expect(holds('ALARM("c d") AND (ALARM(b) OR OK(b))')).toBe(true);
    expect(holds('ALARM(a) AND ALARM(b)')).toBe(false);
    expect(holds('INSUFFICIENT_DATA(e) AND TRUE')).toBe(true);
    expect(() => parseRule('ALARM(a) XOR ALARM(b)')).toThrow(/unexpected "XOR"/);
  });

  it('sums a summary line per function invoked', () => {
    const metrics = new LocalMetrics(system());
    metrics.seal();
    metrics.onInvocation(POST_ORDERS, 20, undefined);
    metrics.onInvocation(POST_ORDERS, 40, new Error('x'));
    expect(metrics.functionSummary()).toEqual([
      `${'orders: POST /orders'.padEnd(40)} 2 invocations, 1 error, p50 20 ms, p99 40 ms`,
    ]);
  });
});
