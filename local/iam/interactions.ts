import { ACCESS_METADATA_KEY } from '../../lib/constructs/service-function';
import type { LocalSystem, ResolvedResource } from '../model';
import type { AccessDecision, AccessRequest, Authorizer } from './authorizer';

/** Template metadata key under which the constructs declare the AWS calls a function's code makes. */
export { ACCESS_METADATA_KEY };

/** One declared call: actions on resources (ARNs, resolved by the template). */
export interface DeclaredAccess {
  readonly actions: readonly string[];
  readonly resources: readonly string[];
}

/** What makes a runtime interaction: who calls what, and what AWS evaluates for it. */
export type InteractionKind =
  | 'api → function'
  | 'rule → queue'
  | 'rule → dead-letter queue'
  | 'rule → function'
  | 'rule → topic'
  | 'pipe → source'
  | 'pipe → target'
  | 'event source mapping → queue'
  | 'pipe → stream'
  | 'pipe → bus'
  | 'pipe → dead-letter queue'
  | 'alarm → topic'
  | 'trigger → function'
  | 'function → resource';

/** A runtime interaction of the system, as AWS would authorize it. */
export interface Interaction {
  readonly kind: InteractionKind;
  /** `{stack}/{logicalId}` of what makes the call (the method's route, rule, mapping, pipe, alarm, pool, function). */
  readonly from: string;
  /** What is called, for messages (a resource name, or the ARN). */
  readonly to: string;
  readonly request: AccessRequest;
  /** KMS actions the target's service performs with the caller's permissions, when the target uses a CMK. */
  readonly kmsActions: readonly string[];
}

/** An interaction with its decision. */
export interface EvaluatedInteraction extends Interaction {
  readonly decision: AccessDecision;
}

const SEND_KMS = ['kms:GenerateDataKey', 'kms:Decrypt'];
const READ_KMS = ['kms:Decrypt'];

/** What a pipe's role needs on a target (or enrichment), by the target ARN's service. */
const TARGET_ACTIONS: Readonly<Record<string, readonly [string, readonly string[]]>> = {
  events: ['events:PutEvents', SEND_KMS],
  sqs: ['sqs:SendMessage', SEND_KMS],
  sns: ['sns:Publish', SEND_KMS],
  lambda: ['lambda:InvokeFunction', []],
  states: ['states:StartExecution', []],
  kinesis: ['kinesis:PutRecord', SEND_KMS],
};

/**
 * Every interaction the system makes at run time, derived from the resolved assembly: API Gateway invoking each
 * route's function, each rule delivering to its queues, each event source mapping polling its queue, each pipe
 * reading its stream and writing its bus and dead-letter queue, each alarm notifying its topic, each Cognito
 * trigger, and each call a function's code is declared to make (template metadata the constructs write next to
 * their grants). The declarations say what the code needs; the policies say what is allowed: removing a grant,
 * a key-policy, queue-policy or topic-policy statement or a Lambda permission makes an interaction fail.
 */
export function deriveInteractions(system: LocalSystem, region: string): Interaction[] {
  const account = system.accountId;
  const out: Interaction[] = [];
  const named = (r: ResolvedResource) => `${r.stackName}/${r.logicalId}`;
  const nameOfArn = new Map<string, string>();
  for (const r of system.resources) {
    if (typeof r.attributes.Arn === 'string') nameOfArn.set(r.attributes.Arn, named(r));
    if (r.type === 'AWS::SNS::Topic') nameOfArn.set(r.ref, named(r));
  }
  const label = (arn: string) => nameOfArn.get(arn) ?? nameOfArn.get(arn.replace(/:[^:]+$/, '')) ?? arn;
  const service = (name: string) => ({ kind: 'service', service: name }) as const;
  const source = (arn: string) => ({ 'aws:SourceArn': arn, 'aws:SourceAccount': account });

  for (const route of system.routes) {
    if (!route.invokedArn) continue;
    const methodArn = `arn:aws:execute-api:${region}:${account}:${route.service}/${route.stage}/${route.method}${route.resourcePath}`;
    out.push({
      kind: 'api → function',
      from: `${route.service} ${route.method} ${route.resourcePath}`,
      to: label(route.invokedArn),
      request: {
        principal: service('apigateway.amazonaws.com'),
        action: 'lambda:InvokeFunction',
        resource: route.invokedArn,
        context: source(methodArn),
      },
      kmsActions: [],
    });
  }

  for (const mapping of system.queueMappings) {
    const fn = system.functions.get(mapping.functionKey);
    if (!fn?.roleArn) continue;
    for (const [action, kms] of [
      ['sqs:ReceiveMessage', READ_KMS],
      ['sqs:DeleteMessage', []],
      ['sqs:GetQueueAttributes', []],
    ] as const) {
      out.push({
        kind: 'event source mapping → queue',
        from: mapping.functionKey,
        to: label(mapping.queueArn),
        request: { principal: roleOf(fn.roleArn, fn.name), action, resource: mapping.queueArn },
        kmsActions: kms,
      });
    }
  }

  for (const r of system.resources) {
    const p = r.properties;
    const arn = typeof r.attributes.Arn === 'string' ? r.attributes.Arn : undefined;
    switch (r.type) {
      case 'AWS::Events::Rule':
        for (const target of (p.Targets ?? []) as { Arn?: string; DeadLetterConfig?: { Arn?: string } }[]) {
          // Lambda and SNS targets: the function's permission and the topic's policy must allow the rule.
          const other = target.Arn?.split(':')[2];
          if (arn && target.Arn && (other === 'lambda' || other === 'sns')) {
            out.push({
              kind: other === 'lambda' ? 'rule → function' : 'rule → topic',
              from: named(r),
              to: label(target.Arn),
              request: {
                principal: service('events.amazonaws.com'),
                action: other === 'lambda' ? 'lambda:InvokeFunction' : 'sns:Publish',
                resource: target.Arn,
                context: source(arn),
              },
              kmsActions: other === 'sns' ? SEND_KMS : [],
            });
          }
          const dlq = target.DeadLetterConfig?.Arn;
          if (arn && dlq) {
            // Events EventBridge could not deliver after its retries go to the target's dead-letter queue.
            out.push({
              kind: 'rule → dead-letter queue',
              from: named(r),
              to: label(dlq),
              request: {
                principal: service('events.amazonaws.com'),
                action: 'sqs:SendMessage',
                resource: dlq,
                context: source(arn),
              },
              kmsActions: SEND_KMS,
            });
          }
          if (!arn || !target.Arn?.startsWith('arn:aws:sqs:')) continue;
          out.push({
            kind: 'rule → queue',
            from: named(r),
            to: label(target.Arn),
            request: {
              principal: service('events.amazonaws.com'),
              action: 'sqs:SendMessage',
              resource: target.Arn,
              context: source(arn),
            },
            kmsActions: SEND_KMS,
          });
        }
        break;
      case 'AWS::Pipes::Pipe': {
        const role =
          typeof p.RoleArn === 'string' ? roleOf(p.RoleArn, String(p.Name ?? r.logicalId)) : undefined;
        if (!role) break;
        const source = String(p.Source);
        const sourceService = source.split(':')[2];
        const sourceActions: Array<[string, readonly string[]]> =
          sourceService === 'dynamodb'
            ? [
                ['dynamodb:DescribeStream', []],
                ['dynamodb:GetRecords', READ_KMS],
                ['dynamodb:GetShardIterator', []],
              ]
            : sourceService === 'kinesis'
              ? [
                  ['kinesis:DescribeStream', []],
                  ['kinesis:GetRecords', READ_KMS],
                  ['kinesis:GetShardIterator', []],
                  ['kinesis:ListShards', []],
                ]
              : sourceService === 'sqs'
                ? [
                    ['sqs:ReceiveMessage', READ_KMS],
                    ['sqs:DeleteMessage', []],
                    ['sqs:GetQueueAttributes', []],
                  ]
                : [];
        for (const [action, kms] of sourceActions) {
          out.push({
            kind: sourceService === 'sqs' ? 'pipe → source' : 'pipe → stream',
            from: named(r),
            to: label(source),
            request: { principal: role, action, resource: source },
            kmsActions: kms,
          });
        }
        const targets: Array<[string | undefined, InteractionKind]> = [
          [typeof p.Enrichment === 'string' ? p.Enrichment : undefined, 'pipe → target'],
          [typeof p.Target === 'string' ? p.Target : undefined, 'pipe → target'],
        ];
        for (const [target, kind] of targets) {
          const call = target ? TARGET_ACTIONS[target.split(':')[2]] : undefined;
          if (!target || !call) continue;
          out.push({
            kind: call[0] === 'events:PutEvents' ? 'pipe → bus' : kind,
            from: named(r),
            to: label(target),
            request: { principal: role, action: call[0], resource: target },
            kmsActions: call[1],
          });
        }
        const parameters = p.SourceParameters as
          Record<string, { DeadLetterConfig?: { Arn?: string } } | undefined> | undefined;
        const dlq =
          parameters?.DynamoDBStreamParameters?.DeadLetterConfig?.Arn ??
          parameters?.KinesisStreamParameters?.DeadLetterConfig?.Arn;
        if (dlq) {
          out.push({
            kind: 'pipe → dead-letter queue',
            from: named(r),
            to: label(dlq),
            request: { principal: role, action: 'sqs:SendMessage', resource: dlq },
            kmsActions: SEND_KMS,
          });
        }
        break;
      }
      case 'AWS::CloudWatch::Alarm':
        for (const action of [
          ...((p.AlarmActions ?? []) as string[]),
          ...((p.OKActions ?? []) as string[]),
          ...((p.InsufficientDataActions ?? []) as string[]),
        ]) {
          if (!arn || typeof action !== 'string' || !action.startsWith('arn:aws:sns:')) continue;
          out.push({
            kind: 'alarm → topic',
            from: named(r),
            to: label(action),
            request: {
              principal: service('cloudwatch.amazonaws.com'),
              action: 'sns:Publish',
              resource: action,
              context: source(arn),
            },
            kmsActions: SEND_KMS,
          });
        }
        break;
      case 'AWS::Cognito::UserPool': {
        const config = (p.LambdaConfig ?? {}) as Record<string, unknown>;
        const triggers = Object.values(config)
          .map((value) =>
            typeof value === 'string'
              ? value
              : ((value as { LambdaArn?: string } | undefined)?.LambdaArn ?? undefined),
          )
          .filter(
            (value): value is string => typeof value === 'string' && value.startsWith('arn:aws:lambda:'),
          );
        for (const trigger of new Set(triggers)) {
          if (!arn) continue;
          out.push({
            kind: 'trigger → function',
            from: named(r),
            to: label(trigger),
            request: {
              principal: service('cognito-idp.amazonaws.com'),
              action: 'lambda:InvokeFunction',
              resource: trigger,
              context: source(arn),
            },
            kmsActions: [],
          });
        }
        break;
      }
      case 'AWS::Lambda::Function': {
        const declared = r.metadata[ACCESS_METADATA_KEY] as DeclaredAccess[] | undefined;
        if (!declared || typeof p.Role !== 'string') break;
        const role = roleOf(p.Role, r.ref);
        for (const access of declared) {
          for (const resource of access.resources) {
            for (const action of access.actions) {
              out.push({
                kind: 'function → resource',
                from: named(r),
                to: label(resource),
                request: { principal: role, action, resource },
                kmsActions: kmsFor(action),
              });
            }
          }
        }
        break;
      }
      default:
        break;
    }
  }
  return out;
}

/** Evaluates interactions with the runtime's authorizer. */
export async function evaluateInteractions(
  interactions: readonly Interaction[],
  authorizer: Authorizer,
): Promise<EvaluatedInteraction[]> {
  const out: EvaluatedInteraction[] = [];
  for (const interaction of interactions) {
    const decision = await authorizer.authorizeWithKey(interaction.request, interaction.kmsActions);
    out.push({ ...interaction, decision });
  }
  return out;
}

function roleOf(roleArn: string, sessionName: string) {
  return { kind: 'role', roleArn, sessionName } as const;
}

/** KMS actions a call needs on a customer-managed key of its target. */
function kmsFor(action: string): readonly string[] {
  if (action.startsWith('dynamodb:')) return READ_KMS;
  if (action === 'sqs:SendMessage' || action === 'sns:Publish' || action === 'events:PutEvents')
    return SEND_KMS;
  if (action === 'sqs:ReceiveMessage') return READ_KMS;
  return [];
}
