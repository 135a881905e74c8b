import { Match, Template } from 'aws-cdk-lib/assertions';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import { loadEnvironmentConfig } from '../../lib/config/environments';
import { addSecurityChecks, createShopSystem, shopServices } from '../../lib/stacks/shop-system';
import { applyServiceSettings } from '../../lib/stacks/services/settings';
import { appWithoutBundling } from '../helpers';

const CERTIFICATE_ARN = 'arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b';

/** The reference system's definitions with `overrides` over the prod configuration. */
function definitions(overrides: Record<string, unknown>) {
  const config = loadEnvironmentConfig('prod', overrides);
  return applyServiceSettings(config, shopServices(config));
}

function byName(overrides: Record<string, unknown>, name: string) {
  return definitions(overrides).find((d) => d.serviceName === name)!;
}

describe('per-service settings applied to the reference system', () => {
  it('leaves every definition as it was without settings', () => {
    const config = loadEnvironmentConfig('prod');
    expect(applyServiceSettings(config, shopServices(config))).toEqual(shopServices(config));
  });

  it('gives a service its own stage throttle and keeps apiThrottle for the others', () => {
    const overrides = { services: { orders: { throttle: { rateLimit: 10_000, burstLimit: 5_000 } } } };
    expect(byName(overrides, 'orders').throttle).toEqual({ rateLimit: 10_000, burstLimit: 5_000 });
    expect(byName(overrides, 'users').throttle).toEqual({ rateLimit: 1000, burstLimit: 2000 });
  });

  it('sets the throttle and API key requirement of the routes it names, and only those', () => {
    const users = byName(
      {
        services: {
          users: {
            routes: {
              'GET /customers/{id}': { throttle: { rateLimit: 1_500, burstLimit: 3_000 } },
              'POST /profiles': { apiKeyRequired: true },
            },
          },
        },
      },
      'users',
    );
    const route = (key: string) => users.routes!.find((r) => `${r.method} ${r.path}` === key)!;
    expect(route('GET /customers/{id}').throttle).toEqual({ rateLimit: 1_500, burstLimit: 3_000 });
    expect(route('POST /profiles').apiKeyRequired).toBe(true);
    // The health route keeps its own throttle from the service definition.
    expect(route('GET /health').throttle).toEqual({ rateLimit: 10, burstLimit: 20 });
    expect(route('GET /profiles/{id}').apiKeyRequired).toBeUndefined();
  });

  it('turns partners into usage plans with API Gateway quota periods', () => {
    const orders = byName(
      {
        services: {
          orders: {
            routes: { 'POST /orders': { apiKeyRequired: true } },
            partners: [
              {
                name: 'acme',
                throttle: { rateLimit: 50, burstLimit: 100 },
                quota: { limit: 10_000, period: 'DAY' },
              },
            ],
          },
        },
      },
      'orders',
    );
    expect(orders.partners).toEqual([
      {
        name: 'acme',
        throttle: { rateLimit: 50, burstLimit: 100 },
        quota: { limit: 10_000, period: apigateway.Period.DAY },
      },
    ]);
  });

  it('maps every service on the front door when a domain is configured', () => {
    const all = definitions({ domain: { name: 'api.example.com', certificateArn: CERTIFICATE_ARN } });
    expect(all.map((d) => [d.serviceName, d.frontDoor])).toEqual([
      ['users', {}],
      ['orders', {}],
      ['inventory', {}],
    ]);
  });

  it('fails for a service the system does not define, naming it and the services', () => {
    expect(() =>
      definitions({ services: { order: { throttle: { rateLimit: 10, burstLimit: 10 } } } }),
    ).toThrow(
      'Invalid configuration for environment "prod":\n  services.order: no such service; the services are users, orders, inventory',
    );
  });

  it('fails for a route the service does not declare, naming it and the routes', () => {
    expect(() =>
      definitions({ services: { orders: { routes: { 'PUT /orders/{id}': { apiKeyRequired: true } } } } }),
    ).toThrow(
      'services.orders.routes["PUT /orders/{id}"]: no such route of service "orders"; its routes are "POST /orders", "GET /orders/{id}", "GET /orders", "POST /orders/{id}/cancel"',
    );
  });
});

describe('per-service settings in the synthesized reference system', () => {
  const config = loadEnvironmentConfig('prod', {
    region: 'eu-west-1',
    domain: {
      name: 'api.example.com',
      certificateArn: CERTIFICATE_ARN,
      hostedZoneId: 'Z0123456789ABCDEFGHIJ',
      zoneName: 'example.com',
    },
    services: {
      orders: {
        throttle: { rateLimit: 10_000, burstLimit: 5_000 },
        routes: {
          'POST /orders': { throttle: { rateLimit: 2_000, burstLimit: 4_000 }, apiKeyRequired: true },
        },
        partners: [
          {
            name: 'acme',
            throttle: { rateLimit: 50, burstLimit: 100 },
            quota: { limit: 1000, period: 'DAY' },
          },
        ],
      },
    },
  });
  const app = appWithoutBundling();
  const system = createShopSystem(app, config);
  addSecurityChecks(app);
  const orders = Template.fromStack(system.services.orders);

  it('applies the service and route throttles to the stage and its method settings', () => {
    orders.hasResourceProperties('AWS::ApiGateway::Stage', {
      MethodSettings: Match.arrayWith([
        Match.objectLike({
          HttpMethod: '*',
          ResourcePath: '/*',
          ThrottlingRateLimit: 10_000,
          ThrottlingBurstLimit: 5_000,
        }),
        {
          HttpMethod: 'POST',
          ResourcePath: '/~1orders',
          DataTraceEnabled: false,
          ThrottlingRateLimit: 2_000,
          ThrottlingBurstLimit: 4_000,
        },
      ]),
    });
    Template.fromStack(system.services.users).hasResourceProperties('AWS::ApiGateway::Stage', {
      MethodSettings: Match.arrayWith([
        Match.objectLike({
          HttpMethod: '*',
          ResourcePath: '/*',
          ThrottlingRateLimit: 1000,
          ThrottlingBurstLimit: 2000,
        }),
      ]),
    });
  });

  it("creates the partner's usage plan and requires a key on POST /orders", () => {
    orders.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      UsagePlanName: 'Shop-prod-orders-acme',
      Throttle: { RateLimit: 50, BurstLimit: 100 },
      Quota: { Limit: 1000, Period: 'DAY' },
    });
    orders.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'POST',
      ApiKeyRequired: true,
      OperationName: 'post-orders',
    });
  });

  it('creates the domain and alias record in the platform stack and one mapping per service', () => {
    const platform = Template.fromStack(system.platform);
    platform.hasResourceProperties('AWS::ApiGateway::DomainName', {
      DomainName: 'api.example.com',
      RegionalCertificateArn: CERTIFICATE_ARN,
      SecurityPolicy: 'TLS_1_2',
      EndpointConfiguration: { Types: ['REGIONAL'] },
    });
    platform.hasResourceProperties('AWS::Route53::RecordSet', { Name: 'api.example.com.', Type: 'A' });
    for (const name of ['users', 'orders', 'inventory']) {
      Template.fromStack(system.services[name]).hasResourceProperties('AWS::ApiGateway::BasePathMapping', {
        BasePath: name,
      });
    }
  });

  it('passes the cdk-nag packs with the domain, the mappings, a partner and a key-protected route', () => {
    // synth() throws when a validation plugin reports an unacknowledged finding.
    expect(() => app.synth()).not.toThrow();
  });
});
