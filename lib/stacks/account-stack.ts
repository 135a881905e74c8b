import type { StackProps } from 'aws-cdk-lib';
import { Stack } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { ApiGatewayAccount } from '../constructs/api-gateway-account';

/**
 * Settings that exist once per AWS account and region, shared by every environment deployed there
 * (`{app}-Account`): the API Gateway CloudWatch logging role. Kept out of the per-environment platform
 * stacks so deleting `dev` cannot break logging for `prod` in the same account.
 */
export class AccountStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    new ApiGatewayAccount(this, 'ApiGatewayAccount');
  }
}
