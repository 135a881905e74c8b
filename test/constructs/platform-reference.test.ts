import { Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Stack } from 'aws-cdk-lib';
import { PlatformReference } from '../../lib';
import { appWithoutBundling } from '../helpers';

describe('PlatformReference', () => {
  it('reads the platform from SSM registry parameters at deploy time, never from exports', () => {
    const stack = new Stack(appWithoutBundling(), 'Consumer');
    const platform = PlatformReference.fromRegistry(stack, 'Platform', { appName: 'Shop', envName: 'dev' });
    new events.Rule(stack, 'Rule', { eventBus: platform.eventBus, eventPattern: { source: ['x'] } });
    const template = Template.fromStack(stack);
    template.hasParameter('*', {
      Type: 'AWS::SSM::Parameter::Value<String>',
      Default: '/Shop/dev/platform/event-bus-arn',
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: {
        'Fn::Select': [
          1,
          {
            'Fn::Split': [
              '/',
              { 'Fn::Select': [5, { 'Fn::Split': [':', { Ref: Match.stringLikeRegexp('eventbusarn') }] }] },
            ],
          },
        ],
      },
    });
    expect(JSON.stringify(template.toJSON())).not.toContain('Fn::ImportValue');
  });

  it('adds a template parameter only for the platform values a stack uses', () => {
    const stack = new Stack(appWithoutBundling(), 'Consumer');
    const platform = PlatformReference.fromRegistry(stack, 'Platform', { appName: 'Shop', envName: 'dev' });
    new ssm.StringParameter(stack, 'UsesAclTwice', {
      stringValue: `${platform.webAclArn},${platform.webAclArn}`,
    });
    const parameters = Template.fromStack(stack).findParameters('*', {
      Type: 'AWS::SSM::Parameter::Value<String>',
    });
    const registryReads = Object.values(parameters)
      .map((p) => p.Default as string)
      .filter((name) => name.startsWith('/Shop/'));
    expect(registryReads).toEqual(['/Shop/dev/platform/web-acl-arn']);
  });

  it('fails when the environment name is invalid', () => {
    const stack = new Stack(appWithoutBundling(), 'Consumer');
    expect(() =>
      PlatformReference.fromRegistry(stack, 'Platform', { appName: 'Shop', envName: 'DEV!' }),
    ).toThrow(/PlatformReference: invalid envName "DEV!"/);
  });
});
