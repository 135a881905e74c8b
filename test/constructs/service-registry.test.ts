import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as servicediscovery from 'aws-cdk-lib/aws-servicediscovery';
import { RegistryEntries, ServiceRegistry } from '../../lib/constructs/service-registry';

function setup(): { stack: Stack; namespace: servicediscovery.HttpNamespace } {
  const stack = new Stack(new App(), 'Shop-dev-Orders');
  const namespace = new servicediscovery.HttpNamespace(stack, 'Namespace', { name: 'shop-dev' });
  return { stack, namespace };
}

describe('ServiceRegistry names', () => {
  it('builds parameter names /{app}/{env}/{service}/{key} and a lowercase namespace {app}-{env}', () => {
    expect(ServiceRegistry.parameterName('Shop', 'dev', 'orders', 'api-url')).toBe(
      '/Shop/dev/orders/api-url',
    );
    expect(ServiceRegistry.parameterName('Shop', 'dev', 'orders', 'functions/place')).toBe(
      '/Shop/dev/orders/functions/place',
    );
    expect(ServiceRegistry.namespaceName('Shop', 'Dev-1')).toBe('shop-dev-1');
    expect(ServiceRegistry.PLATFORM).toBe('platform');
  });

  it('validateNames accepts valid app and env names', () => {
    expect(() => ServiceRegistry.validateNames('Platform', 'Shop', 'dev')).not.toThrow();
    expect(() =>
      ServiceRegistry.validateNames('Platform', `S${'a'.repeat(31)}`, `d${'a'.repeat(15)}`),
    ).not.toThrow();
  });

  it('validateNames refuses a bad appName with the exact message', () => {
    expect.hasAssertions();
    for (const appName of ['1Shop', 'Shop_1', '', `S${'a'.repeat(32)}`]) {
      expect(() => ServiceRegistry.validateNames('Platform', appName, 'dev')).toThrow(
        new Error(
          `Platform: invalid appName ${JSON.stringify(appName)}: use a letter then up to 31 letters, digits or hyphens`,
        ),
      );
    }
  });

  it('validateNames refuses a bad envName with the exact message', () => {
    expect.hasAssertions();
    for (const envName of ['Dev', '1dev', 'dev_1', `d${'a'.repeat(16)}`]) {
      expect(() => ServiceRegistry.validateNames('Platform', 'Shop', envName)).toThrow(
        new Error(
          `Platform: invalid envName ${JSON.stringify(envName)}: use a lowercase letter then up to 15 lowercase letters, digits or hyphens`,
        ),
      );
    }
  });

  it('validateServiceName accepts 2-31 character lowercase names', () => {
    expect.hasAssertions();
    for (const name of ['ab', 'orders', 'order-service-2', `o${'a'.repeat(30)}`]) {
      expect(() => ServiceRegistry.validateServiceName('Microservice', name)).not.toThrow();
    }
  });

  it('validateServiceName refuses bad names and the reserved platform name', () => {
    expect.hasAssertions();
    for (const name of ['o', 'Orders', '2orders', 'orders_x', `o${'a'.repeat(31)}`]) {
      expect(() => ServiceRegistry.validateServiceName('Microservice', name)).toThrow(
        new Error(
          `Microservice: invalid serviceName ${JSON.stringify(name)}: use a lowercase letter then 1-30 lowercase letters, digits or hyphens`,
        ),
      );
    }
    expect(() => ServiceRegistry.validateServiceName('Microservice', 'platform')).toThrow(
      new Error(
        `Microservice: invalid serviceName "platform": is reserved for the platform's own registry entries`,
      ),
    );
  });

  it('lookup reads the entry as an SSM-typed template parameter', () => {
    const stack = new Stack(new App(), 'Reader');
    const value = ServiceRegistry.lookup(stack, 'Shop', 'dev', 'orders', 'api-url');
    const parameters = Template.fromStack(stack).findParameters('*', {
      Type: 'AWS::SSM::Parameter::Value<String>',
      Default: '/Shop/dev/orders/api-url',
    });
    expect(Object.keys(parameters)).toHaveLength(1);
    expect(stack.resolve(value)).toEqual({ Ref: Object.keys(parameters)[0] });
  });
});

describe('RegistryEntries', () => {
  it('writes one SSM String parameter per entry, discoverable or parameter-only', () => {
    const { stack, namespace } = setup();
    const entries = new RegistryEntries(stack, 'Registry', {
      appName: 'Shop',
      envName: 'dev',
      serviceName: 'orders',
      description: 'Orders service',
      namespace,
      entries: { 'api-url': 'https://x.example', 'table/name': 'orders-table' },
      parameterOnlyEntries: { 'functions/place': 'place-fn' },
    });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::SSM::Parameter', 3);
    template.hasResourceProperties('AWS::SSM::Parameter', {
      Type: 'String',
      Name: '/Shop/dev/orders/api-url',
      Value: 'https://x.example',
      Description: 'orders api-url (Shop dev), written by Shop-dev-Orders',
    });
    template.hasResourceProperties('AWS::SSM::Parameter', {
      Type: 'String',
      Name: '/Shop/dev/orders/table/name',
      Value: 'orders-table',
      Description: 'orders table/name (Shop dev), written by Shop-dev-Orders',
    });
    template.hasResourceProperties('AWS::SSM::Parameter', {
      Type: 'String',
      Name: '/Shop/dev/orders/functions/place',
      Value: 'place-fn',
      Description: 'orders functions/place (Shop dev), written by Shop-dev-Orders',
    });
    expect(Object.keys(entries.parameters).sort()).toEqual(['api-url', 'functions/place', 'table/name']);
  });

  it('registers a Cloud Map service and one instance carrying only the discoverable entries', () => {
    const { stack, namespace } = setup();
    new RegistryEntries(stack, 'Registry', {
      appName: 'Shop',
      envName: 'dev',
      serviceName: 'orders',
      description: 'Orders service',
      namespace,
      entries: { 'api-url': 'https://x.example' },
      parameterOnlyEntries: { 'functions/place': 'place-fn' },
    });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::ServiceDiscovery::Service', 1);
    template.hasResourceProperties('AWS::ServiceDiscovery::Service', {
      Name: 'orders',
      Description: 'Orders service',
      NamespaceId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Namespace'), 'Id'] },
    });
    template.resourceCountIs('AWS::ServiceDiscovery::Instance', 1);
    template.hasResourceProperties('AWS::ServiceDiscovery::Instance', {
      InstanceId: 'orders-dev',
      InstanceAttributes: { 'api-url': 'https://x.example' },
      ServiceId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^RegistryDiscovery'), 'Id'] },
    });
  });

  it('refuses an entry key that is not lowercase words separated by hyphens or /', () => {
    expect.hasAssertions();
    for (const [key, where] of [
      ['ApiUrl', 'entries'],
      ['api_url', 'entries'],
      ['/api', 'parameterOnlyEntries'],
      ['api/', 'parameterOnlyEntries'],
      ['-api', 'entries'],
    ] as const) {
      const { stack, namespace } = setup();
      expect(
        () =>
          new RegistryEntries(stack, 'Registry', {
            appName: 'Shop',
            envName: 'dev',
            serviceName: 'orders',
            description: 'Orders',
            namespace,
            entries: where === 'entries' ? { [key]: 'v' } : {},
            parameterOnlyEntries: where === 'parameterOnlyEntries' ? { [key]: 'v' } : undefined,
          }),
      ).toThrow(
        new Error(
          `RegistryEntries: invalid entries key ${JSON.stringify(key)}: use lowercase words separated by hyphens or /`,
        ),
      );
    }
  });

  it('accepts 30 discoverable entries and refuses 31, naming the keys', () => {
    const make = (n: number): Record<string, string> =>
      Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, `v${i}`]));
    const ok = setup();
    expect(
      () =>
        new RegistryEntries(ok.stack, 'Registry', {
          appName: 'Shop',
          envName: 'dev',
          serviceName: 'orders',
          description: 'Orders',
          namespace: ok.namespace,
          entries: make(30),
          parameterOnlyEntries: { extra: 'x', more: 'y' },
        }),
    ).not.toThrow();
    const tooMany = setup();
    const keys = Object.keys(make(31));
    expect(
      () =>
        new RegistryEntries(tooMany.stack, 'Registry', {
          appName: 'Shop',
          envName: 'dev',
          serviceName: 'orders',
          description: 'Orders',
          namespace: tooMany.namespace,
          entries: make(31),
        }),
    ).toThrow(
      new Error(
        `RegistryEntries: invalid entries ${JSON.stringify(keys)}: Cloud Map allows at most 30 attributes per instance`,
      ),
    );
  });
});
