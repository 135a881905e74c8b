import type { CfnResource } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';

/**
 * Drops the `Tags` that stack-wide tagging (`Tags.of(stack).add(...)`) puts on a dashboard. aws-cdk-lib 2.276
 * knows the newer `Tags` property of `AWS::CloudWatch::Dashboard`, but cfn-lint's resource schemas (1.51) do not
 * yet and report E3002; dashboards are not billed or owned per tag, so nothing depends on them. Remove this once
 * cfn-lint accepts them. @internal
 */
export function withoutTags(dashboard: cloudwatch.Dashboard): cloudwatch.Dashboard {
  (dashboard.node.defaultChild as CfnResource).addPropertyDeletionOverride('Tags');
  return dashboard;
}
