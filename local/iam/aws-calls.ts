import type { SigV4Header } from '../sigv4';
import { parseSigV4 } from '../sigv4';
import { parseJsonObject } from '../util';

/**
 * What IAM evaluates for an AWS API call an SDK sends: its service and operation (from the SigV4 credential
 * scope and the `X-Amz-Target` header or the query protocol's `Action`), and each action and resource it
 * needs, as the service's authorization reference lists them (a DynamoDB transaction needs the action of each
 * of its items on each item's table; a query on an index, the action on the index ARN).
 */

/** One action on one resource, and the KMS actions the service performs with the caller's permissions. */
export interface NeededAccess {
  readonly action: string;
  readonly resource: string;
  /** KMS actions needed when the resource is encrypted with a customer-managed key. */
  readonly kmsActions: readonly string[];
}

/** An AWS API call, as far as authorization goes. */
export interface AwsCall {
  /** Signing name of the credential scope, e.g. `dynamodb`. */
  readonly service: string;
  readonly operation: string;
  readonly accessKeyId: string;
  /** The parsed SigV4 header (absent only for the stand-in of an unsigned call). */
  readonly signature?: SigV4Header;
  /** What it needs; undefined when the runtime does not know how this operation maps to resources. */
  readonly needs?: readonly NeededAccess[];
  /** Which wire protocol the answer must use. */
  readonly protocol: 'json' | 'query';
}

/** Where ARNs are built. */
export interface ArnScope {
  readonly region: string;
  readonly accountId: string;
}

const DYNAMODB_READ_KMS = ['kms:Decrypt'];
const SQS_SEND_KMS = ['kms:GenerateDataKey', 'kms:Decrypt'];
const SQS_RECEIVE_KMS = ['kms:Decrypt'];

/** Parses a signed request; undefined when it is not SigV4-signed. */
export function parseAwsCall(
  headers: Readonly<Record<string, string | string[] | undefined>>,
  body: Buffer,
  scope: ArnScope,
): AwsCall | undefined {
  const signature = parseSigV4(String(headers.authorization ?? ''));
  if (!signature) return undefined;
  const { accessKeyId, service } = signature;
  const target = headers['x-amz-target'];
  if (typeof target === 'string' && target.includes('.')) {
    const operation = target.slice(target.lastIndexOf('.') + 1);
    const input = parseJsonObject(body);
    return {
      service,
      operation,
      accessKeyId,
      signature,
      protocol: 'json',
      needs: jsonNeeds(service, operation, input, scope),
    };
  }
  const form = new URLSearchParams(body.toString('utf8'));
  const operation = form.get('Action') ?? '';
  return {
    service,
    operation,
    accessKeyId,
    signature,
    protocol: 'query',
    needs: queryNeeds(service, operation, form, scope),
  };
}

function jsonNeeds(
  service: string,
  operation: string,
  input: Record<string, unknown>,
  scope: ArnScope,
): NeededAccess[] | undefined {
  switch (service) {
    case 'dynamodb':
      return dynamoNeeds(operation, input, scope);
    case 'sqs':
      return sqsNeeds(operation, (name) => input[name], scope);
    case 'events':
      return eventsNeeds(operation, input, scope);
    case 'ssm':
      return ssmNeeds(operation, input, scope);
    case 'secretsmanager':
      return secretsManagerNeeds(operation, input);
    default:
      return undefined;
  }
}

function queryNeeds(
  service: string,
  operation: string,
  form: URLSearchParams,
  scope: ArnScope,
): NeededAccess[] | undefined {
  if (service === 'sqs') return sqsNeeds(operation, (name) => form.get(name) ?? undefined, scope);
  if (service === 'sns' && operation === 'Publish') {
    const topic = form.get('TopicArn') ?? form.get('TargetArn');
    return topic ? [{ action: 'sns:Publish', resource: topic, kmsActions: SQS_SEND_KMS }] : undefined;
  }
  return undefined;
}

function dynamoNeeds(
  operation: string,
  input: Record<string, unknown>,
  scope: ArnScope,
): NeededAccess[] | undefined {
  const table = (name: unknown) =>
    String(name).startsWith('arn:')
      ? String(name)
      : `arn:aws:dynamodb:${scope.region}:${scope.accountId}:table/${String(name)}`;
  const on = (action: string, name: unknown, index?: unknown): NeededAccess => ({
    action: `dynamodb:${action}`,
    resource: index ? `${table(name)}/index/${String(index)}` : table(name),
    kmsActions: DYNAMODB_READ_KMS,
  });
  switch (operation) {
    case 'GetItem':
    case 'PutItem':
    case 'UpdateItem':
    case 'DeleteItem':
    case 'DescribeTable':
      return [on(operation, input.TableName)];
    case 'Query':
    case 'Scan':
      return [on(operation, input.TableName, input.IndexName)];
    case 'BatchGetItem':
    case 'BatchWriteItem':
      return Object.keys((input.RequestItems ?? {}) as object).map((name) => on(operation, name));
    case 'TransactWriteItems':
    case 'TransactGetItems': {
      const actions: Record<string, string> = {
        Put: 'PutItem',
        Update: 'UpdateItem',
        Delete: 'DeleteItem',
        ConditionCheck: 'ConditionCheckItem',
        Get: 'GetItem',
      };
      const needs: NeededAccess[] = [];
      for (const item of (input.TransactItems ?? []) as Record<string, { TableName?: unknown }>[]) {
        for (const [kind, request] of Object.entries(item)) {
          if (actions[kind]) needs.push(on(actions[kind], request?.TableName));
        }
      }
      return needs;
    }
    default:
      return undefined;
  }
}

function sqsNeeds(
  operation: string,
  param: (name: string) => unknown,
  scope: ArnScope,
): NeededAccess[] | undefined {
  const queueArn = (): string | undefined => {
    const url = param('QueueUrl');
    if (typeof url === 'string') {
      const name = url.split('/').filter(Boolean).pop();
      const account = /\/(\d{12})\/[^/]+\/?$/.exec(url)?.[1] ?? scope.accountId;
      return name ? `arn:aws:sqs:${scope.region}:${account}:${name}` : undefined;
    }
    const name = param('QueueName');
    return typeof name === 'string' ? `arn:aws:sqs:${scope.region}:${scope.accountId}:${name}` : undefined;
  };
  const actions: Record<string, [string, readonly string[]]> = {
    SendMessage: ['sqs:SendMessage', SQS_SEND_KMS],
    SendMessageBatch: ['sqs:SendMessage', SQS_SEND_KMS],
    ReceiveMessage: ['sqs:ReceiveMessage', SQS_RECEIVE_KMS],
    DeleteMessage: ['sqs:DeleteMessage', []],
    DeleteMessageBatch: ['sqs:DeleteMessage', []],
    ChangeMessageVisibility: ['sqs:ChangeMessageVisibility', []],
    ChangeMessageVisibilityBatch: ['sqs:ChangeMessageVisibility', []],
    GetQueueAttributes: ['sqs:GetQueueAttributes', []],
    GetQueueUrl: ['sqs:GetQueueUrl', []],
  };
  const known = actions[operation];
  const resource = queueArn();
  if (!known || !resource) return undefined;
  return [{ action: known[0], resource, kmsActions: known[1] }];
}

function eventsNeeds(
  operation: string,
  input: Record<string, unknown>,
  scope: ArnScope,
): NeededAccess[] | undefined {
  if (operation !== 'PutEvents') return undefined;
  const buses = new Set<string>();
  for (const entry of (input.Entries ?? []) as { EventBusName?: unknown }[]) {
    const name =
      typeof entry.EventBusName === 'string' && entry.EventBusName ? entry.EventBusName : 'default';
    buses.add(
      name.startsWith('arn:') ? name : `arn:aws:events:${scope.region}:${scope.accountId}:event-bus/${name}`,
    );
  }
  return [...buses].map((resource) => ({ action: 'events:PutEvents', resource, kmsActions: SQS_SEND_KMS }));
}

/** Reads of a secret, by the ARN the function was given (GetSecretValue decrypts with the secret's key). */
function secretsManagerNeeds(operation: string, input: Record<string, unknown>): NeededAccess[] | undefined {
  const secret = typeof input.SecretId === 'string' ? input.SecretId : undefined;
  if (!secret) return undefined;
  switch (operation) {
    case 'GetSecretValue':
      return [{ action: 'secretsmanager:GetSecretValue', resource: secret, kmsActions: ['kms:Decrypt'] }];
    case 'DescribeSecret':
      return [{ action: 'secretsmanager:DescribeSecret', resource: secret, kmsActions: [] }];
    default:
      return undefined;
  }
}

function ssmNeeds(
  operation: string,
  input: Record<string, unknown>,
  scope: ArnScope,
): NeededAccess[] | undefined {
  const parameter = (name: unknown) =>
    `arn:aws:ssm:${scope.region}:${scope.accountId}:parameter/${String(name).replace(/^\//, '')}`;
  switch (operation) {
    case 'GetParameter':
      return [{ action: 'ssm:GetParameter', resource: parameter(input.Name), kmsActions: [] }];
    case 'GetParameters':
      return ((input.Names ?? []) as unknown[]).map((name) => ({
        action: 'ssm:GetParameters',
        resource: parameter(name),
        kmsActions: [],
      }));
    case 'GetParametersByPath':
      return [{ action: 'ssm:GetParametersByPath', resource: parameter(input.Path), kmsActions: [] }];
    default:
      return undefined;
  }
}
