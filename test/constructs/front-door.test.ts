import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as route53 from 'aws-cdk-lib/aws-route53';
import type { FrontDoorProps } from '../../lib';
import { FrontDoor, Platform } from '../../lib';
import { appWithoutBundling, resourcesOf } from '../helpers';
import { HEALTH, widgetsService } from './widgets-fixture';

const CERTIFICATE_ARN = 'arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b';

function platformWithFrontDoor(props: Partial<Omit<FrontDoorProps, 'platform' | 'certificate'>> = {}) {
  const stack = new Stack(appWithoutBundling(), 'Shop-test-Platform');
  const platform = new Platform(stack, 'Platform', { appName: 'Shop', envName: 'test' });
  const frontDoor = new FrontDoor(stack, 'FrontDoor', {
    platform,
    domainName: 'api.example.com',
    certificate: acm.Certificate.fromCertificateArn(stack, 'Certificate', CERTIFICATE_ARN),
    ...props,
  });
  return { stack, platform, frontDoor };
}

describe('FrontDoor', () => {
  it('creates a regional custom domain with TLS 1.2 and the certificate given by ARN', () => {
    const { stack } = platformWithFrontDoor();
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::ApiGateway::DomainName', 1);
    template.hasResourceProperties('AWS::ApiGateway::DomainName', {
      DomainName: 'api.example.com',
      EndpointConfiguration: { Types: ['REGIONAL'] },
      RegionalCertificateArn: CERTIFICATE_ARN,
      SecurityPolicy: 'TLS_1_2',
    });
    template.resourceCountIs('AWS::Route53::RecordSet', 0);
  });

  it('publishes the domain name in the registry for the services to find by name', () => {
    const { stack } = platformWithFrontDoor();
    Template.fromStack(stack).hasResourceProperties('AWS::SSM::Parameter', {
      Name: '/Shop/test/platform/front-door/domain-name',
      Type: 'String',
      Value: 'api.example.com',
    });
  });

  it('adds an alias record in the hosted zone when one is given', () => {
    const stack = new Stack(appWithoutBundling(), 'Shop-test-Platform');
    const platform = new Platform(stack, 'Platform', { appName: 'Shop', envName: 'test' });
    new FrontDoor(stack, 'FrontDoor', {
      platform,
      domainName: 'api.example.com',
      certificate: acm.Certificate.fromCertificateArn(stack, 'Certificate', CERTIFICATE_ARN),
      hostedZone: route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', {
        hostedZoneId: 'Z0123456789ABCDEFGHIJ',
        zoneName: 'example.com',
      }),
    });
    const template = Template.fromStack(stack);
    const [[domainId]] = resourcesOf(template, 'AWS::ApiGateway::DomainName');
    template.hasResourceProperties('AWS::Route53::RecordSet', {
      Name: 'api.example.com.',
      Type: 'A',
      HostedZoneId: 'Z0123456789ABCDEFGHIJ',
      AliasTarget: {
        DNSName: { 'Fn::GetAtt': [domainId, 'RegionalDomainName'] },
        HostedZoneId: { 'Fn::GetAtt': [domainId, 'RegionalHostedZoneId'] },
      },
    });
  });

  it('sets STRICT endpoint access with an enhanced TLS 1.3 policy', () => {
    const { stack } = platformWithFrontDoor({ securityPolicy: apigateway.SecurityPolicy.TLS13_1_3_2025_09 });
    Template.fromStack(stack).hasResourceProperties('AWS::ApiGateway::DomainName', {
      SecurityPolicy: 'SecurityPolicy_TLS13_1_3_2025_09',
      EndpointAccessMode: 'STRICT',
    });
  });

  it('fails for TLS 1.0, naming the prop', () => {
    expect(() => platformWithFrontDoor({ securityPolicy: apigateway.SecurityPolicy.TLS_1_0 })).toThrow(
      'FrontDoor: invalid securityPolicy "TLS_1_0": clients connect with TLS 1.2 or later',
    );
  });

  it('fails for a domain name that is not a lowercase DNS name, naming the value', () => {
    expect(() => platformWithFrontDoor({ domainName: 'API.example.com' })).toThrow(
      'FrontDoor: invalid domainName "API.example.com": a lowercase DNS name with at least two labels',
    );
  });
});

describe('Microservice frontDoor', () => {
  it('maps the stage under the service name on the domain found in the registry', () => {
    const { stack, service } = widgetsService({ routes: [HEALTH], frontDoor: {} });
    const template = Template.fromStack(stack);
    const [[apiId]] = resourcesOf(template, 'AWS::ApiGateway::RestApi');
    const [[stageId]] = resourcesOf(template, 'AWS::ApiGateway::Stage');
    const [[mappingId, mapping]] = resourcesOf(template, 'AWS::ApiGateway::BasePathMapping');
    expect(mapping.Properties).toEqual({
      BasePath: 'widgets',
      DomainName: { Ref: expect.stringMatching(/^SsmParameterValueShoptestplatformfrontdoordomainname/) },
      RestApiId: { Ref: apiId },
      Stage: { Ref: stageId },
    });
    const parameterId = (mapping.Properties!.DomainName as { Ref: string }).Ref;
    expect(template.toJSON().Parameters[parameterId]).toEqual({
      Type: 'AWS::SSM::Parameter::Value<String>',
      Default: '/Shop/test/platform/front-door/domain-name',
    });
    expect(stack.resolve(service.frontDoorMapping!.logicalId)).toBe(mappingId);
    // The service's URL behind the front door is published in the registry.
    template.hasResourceProperties('AWS::SSM::Parameter', {
      Name: '/Shop/test/widgets/front-door-url',
      Value: { 'Fn::Join': ['', ['https://', { Ref: parameterId }, '/widgets/']] },
    });
    // No export is imported: the domain is found by name.
    expect(JSON.stringify(template.toJSON())).not.toContain('Fn::ImportValue');
  });

  it('takes an explicit domain name and base path', () => {
    const { stack } = widgetsService({
      routes: [HEALTH],
      frontDoor: { domainName: 'api.example.com', basePath: 'gadgets' },
    });
    Template.fromStack(stack).hasResourceProperties('AWS::ApiGateway::BasePathMapping', {
      BasePath: 'gadgets',
      DomainName: 'api.example.com',
    });
  });

  it('fails for a base path of more than one segment, naming the prop', () => {
    expect(() => widgetsService({ routes: [HEALTH], frontDoor: { basePath: 'shop/widgets' } })).toThrow(
      'Microservice: invalid frontDoor.basePath "shop/widgets": one path segment',
    );
  });

  it('creates no domain, mapping or registry entry without frontDoor', () => {
    const { stack, service } = widgetsService({ routes: [HEALTH] });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::ApiGateway::BasePathMapping', 0);
    template.resourceCountIs('AWS::ApiGateway::DomainName', 0);
    expect(service.frontDoorUrl).toBeUndefined();
    expect(JSON.stringify(template.toJSON())).not.toContain('front-door');
  });
});
