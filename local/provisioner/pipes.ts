/**
 * EventBridge Pipes from a DynamoDB stream to an event bus (the transactional outbox): nothing is created in
 * the emulator, each becomes a LocalPipe the runtime drives.
 */
import type { ResourceValues } from '../intrinsics';
import type { Props, ProvisionState, ResourceProvisioner } from './state';
import { busName } from './state';

/** Provisions `AWS::Pipes::Pipe` (DynamoDB stream source, event bus target). */
export const pipesProvisioner: ResourceProvisioner = {
  types: ['AWS::Pipes::Pipe'],
  provision: (state, { props, physicalName }) => localPipe(state, props, physicalName),
};

function localPipe(state: ProvisionState, props: Props, physicalName: string): ResourceValues {
  const streamArn = String(props.Source);
  const tableName =
    state.tablesByStreamArn.get(streamArn) ?? /:table\/([^/]+)\/stream\//.exec(streamArn)?.[1];
  if (!tableName) throw new Error(`pipe source ${streamArn} is not a DynamoDB stream of the assembly`);
  const target = String(props.Target);
  if (!/:event-bus\//.test(target)) throw new Error(`pipe target ${target} is not an event bus`);
  const source = ((props.SourceParameters as Props | undefined) ?? {}) as {
    DynamoDBStreamParameters?: {
      BatchSize?: number;
      MaximumRetryAttempts?: number;
      DeadLetterConfig?: { Arn?: string };
    };
    FilterCriteria?: { Filters?: { Pattern?: string }[] };
  };
  const stream = source.DynamoDBStreamParameters ?? {};
  const targetParameters = ((props.TargetParameters as Props | undefined) ?? {}) as {
    EventBridgeEventBusParameters?: { Source?: string; DetailType?: string };
    InputTemplate?: string;
  };
  const dlqArn = stream.DeadLetterConfig?.Arn;
  const dlq = dlqArn ? state.queuesByArn.get(dlqArn) : undefined;
  if (dlqArn && !dlq) throw new Error(`pipe dead-letter queue ${dlqArn} is not a queue of the assembly`);
  const name = String(props.Name ?? physicalName);
  state.pipes.push({
    name,
    tableName,
    streamArn,
    filterPatterns: (source.FilterCriteria?.Filters ?? [])
      .filter((filter) => filter.Pattern !== undefined)
      .map((filter) => JSON.parse(String(filter.Pattern)) as Record<string, unknown>),
    eventBusName: busName(target),
    source: targetParameters.EventBridgeEventBusParameters?.Source ?? '',
    detailType: targetParameters.EventBridgeEventBusParameters?.DetailType ?? '',
    ...(targetParameters.InputTemplate !== undefined
      ? { inputTemplate: targetParameters.InputTemplate }
      : {}),
    batchSize: Number(stream.BatchSize ?? 1),
    maximumRetryAttempts: Number(stream.MaximumRetryAttempts ?? -1),
    ...(dlq ? { deadLetterQueueUrl: dlq.url } : {}),
  });
  return { ref: name, attributes: { Arn: state.arn('pipes', `pipe/${physicalName}`) } };
}
