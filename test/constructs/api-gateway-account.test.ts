import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ApiGatewayAccount } from '../../lib/constructs/api-gateway-account';
import { acknowledgements } from '../app/synth';

describe('ApiGatewayAccount', () => {
  function template(): { template: Template; account: ApiGatewayAccount; stack: Stack } {
    const stack = new Stack(new App(), 'Account');
    const account = new ApiGatewayAccount(stack, 'ApiGatewayAccount');
    return { template: Template.fromStack(stack), account, stack };
  }

  it('creates a role API Gateway assumes, with the AWS managed CloudWatch push policy only', () => {
    const { template: t } = template();
    t.resourceCountIs('AWS::IAM::Role', 1);
    t.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: { Service: 'apigateway.amazonaws.com' },
          },
        ],
        Version: '2012-10-17',
      },
      ManagedPolicyArns: [
        {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs',
            ],
          ],
        },
      ],
    });
    t.resourceCountIs('AWS::IAM::Policy', 0);
  });

  it('points the account-wide AWS::ApiGateway::Account at that role', () => {
    const { template: t, account, stack } = template();
    t.resourceCountIs('AWS::ApiGateway::Account', 1);
    const roleId = stack.getLogicalId(account.role.node.defaultChild as never);
    t.hasResourceProperties('AWS::ApiGateway::Account', {
      CloudWatchRoleArn: { 'Fn::GetAtt': [roleId, 'Arn'] },
    });
  });

  it('creates nothing else', () => {
    const { template: t } = template();
    expect(
      Object.values(t.toJSON().Resources as Record<string, { Type: string }>)
        .map((r) => r.Type)
        .sort(),
    ).toEqual(['AWS::ApiGateway::Account', 'AWS::IAM::Role']);
  });

  it('acknowledges only the cdk-nag managed-policy finding on the role, with a reason', () => {
    const { stack } = template();
    expect(acknowledgements(stack)).toEqual([
      {
        path: 'Account/ApiGatewayAccount/CloudWatchRole',
        id: 'Annotation::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason:
          'Account-level API Gateway logging role: AWS documents this managed policy for it, and API Gateway creates the log groups it writes to, so their names are not known in advance.',
      },
    ]);
  });
});
