/**
 * Values for the resources the runtime does not create (IAM roles and policies, KMS keys, SNS topics, alarms,
 * log groups, ...), so that what refers to them still resolves and the authorization model can match their
 * ARNs against policies.
 */
import type { ResourceValues } from '../intrinsics';

/** Resource types whose `Ref` is an ARN. */
const ARN_REF_TYPES = new Set(['AWS::SNS::Topic', 'AWS::IAM::ManagedPolicy', 'AWS::Lambda::LayerVersion']);

/**
 * `Ref` and `Fn::GetAtt` values for a resource of `type` the runtime does not emulate: its name
 * `{stackName}-{logicalId}`, and an ARN in the form AWS gives it for the types policies refer to.
 */
export function standIn(
  type: string,
  stackName: string,
  logicalId: string,
  region: string,
  accountId: string,
): ResourceValues {
  const [, service = 'local', kind = 'resource'] = type.split('::');
  const name = `${stackName}-${logicalId}`;
  const arn =
    standInArn(type, name, region, accountId) ??
    `arn:aws:${service.toLowerCase()}:${region}:${accountId}:${kind.toLowerCase()}/${name}`;
  return {
    ref: ARN_REF_TYPES.has(type) ? arn : name,
    attributes: { Arn: arn, Id: name, Name: name },
    otherAttribute: (attribute) => `${name}.${attribute}`,
  };
}

/**
 * ARNs in the form AWS gives them, for the stand-in types that policies refer to (the authorization model
 * matches them against policy resources and the evaluator checks their form). Undefined: the generic form.
 */
function standInArn(type: string, name: string, region: string, account: string): string | undefined {
  switch (type) {
    case 'AWS::IAM::Role':
      return `arn:aws:iam::${account}:role/${name}`;
    case 'AWS::IAM::ManagedPolicy':
      return `arn:aws:iam::${account}:policy/${name}`;
    case 'AWS::KMS::Key':
      return `arn:aws:kms:${region}:${account}:key/${name}`;
    case 'AWS::SNS::Topic':
      return `arn:aws:sns:${region}:${account}:${name}`;
    case 'AWS::CloudWatch::Alarm':
      return `arn:aws:cloudwatch:${region}:${account}:alarm:${name}`;
    case 'AWS::Logs::LogGroup':
      return `arn:aws:logs:${region}:${account}:log-group:${name}:*`;
    default:
      return undefined;
  }
}
