// Shared by the Microservice tests: a `widgets` service attached to the Shop/test platform by name, its routes,
// and readers of what its template grants.
import type { Stack } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type { MicroserviceProps, RouteProps } from '../../lib';
import { AccessMode, HttpMethod, Microservice, RouteAccess } from '../../lib';
import { HEALTH_HANDLER, serviceStack } from '../helpers';

export const HEALTH: RouteProps = {
  method: HttpMethod.GET,
  path: '/health',
  entry: HEALTH_HANDLER,
  access: RouteAccess.PUBLIC,
};

export const WRITE: RouteProps = {
  method: HttpMethod.POST,
  path: '/widgets',
  entry: HEALTH_HANDLER,
  access: RouteAccess.scopes('widgets.write'),
  tableAccess: AccessMode.READ_WRITE,
};

/** What the constructs grant for reads and writes of a service table, as the tests expect it (not imported). */
export const READ_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:ConditionCheckItem',
];
export const WRITE_ACTIONS = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
];

/**
 * The `widgets` service (partition key `pk`) in a fresh service stack, with `props` over those (or the props
 * `props(stack)` returns, for props that hold constructs of the stack).
 */
export function widgetsService(
  props: Partial<MicroserviceProps> | ((stack: Stack) => Partial<MicroserviceProps>) = {},
) {
  const { app, stack, platform } = serviceStack();
  const service = new Microservice(stack, 'Service', {
    serviceName: 'widgets',
    platform,
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    ...(typeof props === 'function' ? props(stack) : props),
  });
  return { app, stack, platform, service };
}

/** Statements of every policy attached to the role with logical id `roleLogicalId`. */
export function statementsOfRole(template: Template, roleLogicalId: string): Array<Record<string, unknown>> {
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((p) => (p.Properties.Roles as Array<{ Ref: string }>).some((r) => r.Ref === roleLogicalId))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
}

export function roleLogicalId(stack: Stack, role: iam.Role): string {
  return stack.getLogicalId(role.node.defaultChild as iam.CfnRole);
}

/** The rendered `execute-api` ARN of `{api id}{route}`, where `apiId` matches the reference to the API id. */
export function executeApiArn(apiId: unknown, route: string) {
  return {
    'Fn::Join': [
      '',
      [
        'arn:',
        { Ref: 'AWS::Partition' },
        ':execute-api:',
        { Ref: 'AWS::Region' },
        ':',
        { Ref: 'AWS::AccountId' },
        ':',
        { Ref: apiId },
        route,
      ],
    ],
  };
}
