import { Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

/**
 * The account- and region-wide API Gateway setting that lets stages write execution logs: a role for API
 * Gateway and the `AWS::ApiGateway::Account` resource pointing at it. There is one such setting per account
 * and region, so deploy it once (e.g. in its own stack), not once per environment.
 */
export class ApiGatewayAccount extends Construct {
  /** The role API Gateway pushes logs with. */
  public readonly role: iam.Role;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.role = new iam.Role(this, 'CloudWatchRole', {
      assumedBy: new iam.ServicePrincipal('apigateway.amazonaws.com'),
      managedPolicies: [
        iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonAPIGatewayPushToCloudWatchLogs'),
      ],
    });
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      reason:
        'Account-level API Gateway logging role: AWS documents this managed policy for it, and API Gateway creates the log groups it writes to, so their names are not known in advance.',
    });
    new apigateway.CfnAccount(this, 'Account', { cloudWatchRoleArn: this.role.roleArn });
  }
}
