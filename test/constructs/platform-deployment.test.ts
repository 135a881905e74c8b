import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Platform, TrafficShift } from '../../lib';
import { appWithoutBundling } from '../helpers';

function platformTemplate(deployment?: ConstructorParameters<typeof Platform>[2]['deployment']) {
  const stack = new Stack(appWithoutBundling(), 'Shop-test-Platform');
  new Platform(stack, 'Platform', {
    appName: 'Shop',
    envName: 'test',
    scopes: [{ name: 'users.read', description: 'read' }],
    defaultScopes: ['users.read'],
    deployment,
  });
  return Template.fromStack(stack);
}

describe('Platform deployment (the Cognito trigger)', () => {
  it("shifts the trigger's live alias through CodeDeploy, rolling back on its new version's alarms, which notify the alarm topic", () => {
    const template = platformTemplate({ trafficShift: TrafficShift.canary(10, Duration.minutes(5)) });
    template.resourceCountIs('AWS::CodeDeploy::DeploymentGroup', 1);
    template.hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', {
      DeploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent5Minutes',
      AutoRollbackConfiguration: {
        Enabled: true,
        Events: Match.arrayWith(['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_ALARM']),
      },
      AlarmConfiguration: {
        Enabled: true,
        Alarms: Match.arrayWith([Match.objectLike({ Name: Match.anyValue() })]),
      },
    });
    template.hasResource('AWS::Lambda::Alias', {
      UpdatePolicy: {
        CodeDeployLambdaAliasUpdate: Match.objectLike({ DeploymentGroupName: Match.anyValue() }),
      },
    });
    const deploymentAlarms = Object.values(
      template.findResources('AWS::CloudWatch::Alarm', {
        Properties: { Dimensions: Match.arrayWith([Match.objectLike({ Name: 'ExecutedVersion' })]) },
      }),
    );
    expect(deploymentAlarms).toHaveLength(2);
    for (const alarm of deploymentAlarms) {
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^PlatformAlarmTopic/) }]);
    }
  });

  it('moves the alias at once without deployment options', () => {
    const template = platformTemplate();
    template.resourceCountIs('AWS::CodeDeploy::DeploymentGroup', 0);
    expect(Object.values(template.findResources('AWS::Lambda::Alias'))[0].UpdatePolicy).toBeUndefined();
  });
});
