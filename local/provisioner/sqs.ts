/**
 * SQS queues with their attributes and redrive. A queue that already exists keeps its messages and gets the
 * template's attributes (visibility timeout, retention, redrive, ...).
 */
import type { QueueAttributeName } from '@aws-sdk/client-sqs';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  SetQueueAttributesCommand,
} from '@aws-sdk/client-sqs';
import { isAwsError } from '../aws-clients';
import type { ResourceValues } from '../intrinsics';
import type { Props, ProvisionState, QueueInfo, ResourceProvisioner } from './state';
import { jsonString } from './state';

/** Attributes of AWS::SQS::Queue that are queue attributes of the same name. */
const ATTRIBUTES = [
  'VisibilityTimeout',
  'MessageRetentionPeriod',
  'DelaySeconds',
  'MaximumMessageSize',
  'ReceiveMessageWaitTimeSeconds',
  'FifoQueue',
  'ContentBasedDeduplication',
  'DeduplicationScope',
  'FifoThroughputLimit',
];

/** Provisions `AWS::SQS::Queue`. */
export const sqsProvisioner: ResourceProvisioner = {
  types: ['AWS::SQS::Queue'],
  provision: (state, { props, physicalName }) => provisionQueue(state, props, physicalName),
};

async function provisionQueue(
  state: ProvisionState,
  props: Props,
  physicalName: string,
): Promise<ResourceValues> {
  const { sqs } = state.clients;
  const fifo = props.FifoQueue === true || props.FifoQueue === 'true';
  const name = String(
    props.QueueName ?? (fifo ? `${physicalName.slice(0, 75)}.fifo` : physicalName.slice(0, 80)),
  );
  const attributes: Record<string, string> = {};
  for (const key of ATTRIBUTES) if (props[key] !== undefined) attributes[key] = String(props[key]);
  // KmsMasterKeyId / SqsManagedSseEnabled: encryption has no effect offline.
  if (props.RedrivePolicy !== undefined) attributes.RedrivePolicy = jsonString(props.RedrivePolicy);
  if (props.RedriveAllowPolicy !== undefined)
    attributes.RedriveAllowPolicy = jsonString(props.RedriveAllowPolicy);
  let queueUrl: string | undefined;
  try {
    ({ QueueUrl: queueUrl } = await sqs.send(
      new CreateQueueCommand({ QueueName: name, Attributes: attributes }),
    ));
  } catch (error) {
    // It exists with other attributes (a re-run on a changed template): give it the template's.
    if (!isAwsError(error, 'QueueNameExists', 'QueueAlreadyExists')) throw error;
    ({ QueueUrl: queueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: name })));
    const changeable = { ...attributes };
    delete changeable.FifoQueue; // fixed at creation
    await sqs.send(new SetQueueAttributesCommand({ QueueUrl: queueUrl, Attributes: changeable }));
    state.log(`  queue ${name}: attributes updated`);
  }
  if (!queueUrl) throw new Error(`CreateQueue of ${name} returned no queue URL`);
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['QueueArn', 'VisibilityTimeout'] satisfies QueueAttributeName[],
    }),
  );
  if (!Attributes.QueueArn) throw new Error(`queue ${name} has no QueueArn`);
  const info: QueueInfo = {
    url: queueUrl,
    arn: Attributes.QueueArn,
    visibilityTimeoutSeconds: Number(Attributes.VisibilityTimeout ?? 30),
  };
  state.queuesByArn.set(info.arn, info);
  return { ref: queueUrl, attributes: { Arn: info.arn, QueueName: name, QueueUrl: queueUrl } };
}
