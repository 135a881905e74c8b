import { loadEnvironmentConfig } from '../../lib/config/environments';

const CERTIFICATE_ARN = 'arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b';

describe('environment configuration: front door and API limits', () => {
  it('has no domain, per-service settings or raised quota in any environment by default', () => {
    for (const env of ['local', 'dev', 'prod']) {
      const config = loadEnvironmentConfig(env);
      expect(config.domain).toBeUndefined();
      expect(config.services).toBeUndefined();
      expect(config.apiGatewayQuota).toBeUndefined();
    }
  });

  it("expresses the capacity model's figures: orders at 10,000 rps on a 5,000 bucket, users at 2,000", () => {
    const config = loadEnvironmentConfig('prod', {
      services: {
        orders: { throttle: { rateLimit: 10_000, burstLimit: 5_000 } },
        users: {
          throttle: { rateLimit: 2_000, burstLimit: 4_000 },
          routes: { 'GET /customers/{id}': { throttle: { rateLimit: 1_500, burstLimit: 3_000 } } },
        },
      },
    });
    expect(config.services?.orders.throttle).toEqual({ rateLimit: 10_000, burstLimit: 5_000 });
    expect(config.services?.users.routes?.['GET /customers/{id}'].throttle).toEqual({
      rateLimit: 1_500,
      burstLimit: 3_000,
    });
  });

  it("fails for a stage throttle above the account's default API Gateway quota, explaining how to raise it", () => {
    expect(() =>
      loadEnvironmentConfig('prod', {
        services: { orders: { throttle: { rateLimit: 30_000, burstLimit: 5_000 } } },
      }),
    ).toThrow(
      /services\.orders\.throttle\.rateLimit = 30000: above the account's API Gateway throttle rate in the region \(apiGatewayQuota\.rateLimit = 10000\).*Service Quotas L-8A5B8E43/,
    );
    expect(() =>
      loadEnvironmentConfig('prod', { apiThrottle: { rateLimit: 1_000, burstLimit: 6_000 } }),
    ).toThrow(
      /apiThrottle\.burstLimit = 6000: above the account's API Gateway burst in the region \(apiGatewayQuota\.burstLimit = 5000\)/,
    );
  });

  it('accepts limits above the default once apiGatewayQuota records a raised quota', () => {
    const config = loadEnvironmentConfig('prod', {
      apiGatewayQuota: { rateLimit: 40_000, burstLimit: 20_000 },
      services: { orders: { throttle: { rateLimit: 30_000, burstLimit: 15_000 } } },
    });
    expect(config.services?.orders.throttle?.rateLimit).toBe(30_000);
  });

  it('checks route and partner throttles against the quota too, naming the nested key', () => {
    expect(() =>
      loadEnvironmentConfig('prod', {
        services: {
          orders: { routes: { 'POST /orders': { throttle: { rateLimit: 12_000, burstLimit: 100 } } } },
        },
      }),
    ).toThrow(/services\.orders\.routes\.POST \/orders\.throttle\.rateLimit = 12000: above the account's/);
    expect(() =>
      loadEnvironmentConfig('prod', {
        services: {
          orders: { partners: [{ name: 'acme', throttle: { rateLimit: 10, burstLimit: 9_000 } }] },
        },
      }),
    ).toThrow(/services\.orders\.partners\.0\.throttle\.burstLimit = 9000: above the account's/);
  });

  it('fails for a route key that is not "METHOD /path"', () => {
    expect(() =>
      loadEnvironmentConfig('prod', {
        services: { orders: { routes: { '/orders': { apiKeyRequired: true } } } },
      }),
    ).toThrow(
      /services\.orders\.routes\.\/orders = {"apiKeyRequired":true}: "\/orders" is not a route as "METHOD \/path"/,
    );
  });

  it('fails for a partner quota period API Gateway does not know, naming the key and value', () => {
    expect(() =>
      loadEnvironmentConfig('prod', {
        services: { orders: { partners: [{ name: 'acme', quota: { limit: 1000, period: 'YEAR' } }] } },
      }),
    ).toThrow(/services\.orders\.partners\.0\.quota\.period = "YEAR"/);
  });

  it('accepts a domain with its hosted zone', () => {
    const domain = {
      name: 'api.example.com',
      certificateArn: CERTIFICATE_ARN,
      hostedZoneId: 'Z0123456789ABCDEFGHIJ',
      zoneName: 'example.com',
    };
    expect(loadEnvironmentConfig('prod', { region: 'eu-west-1', domain }).domain).toEqual(domain);
  });

  it('fails for a hosted zone id without its zone name', () => {
    expect(() =>
      loadEnvironmentConfig('prod', {
        domain: {
          name: 'api.example.com',
          certificateArn: CERTIFICATE_ARN,
          hostedZoneId: 'Z0123456789ABCDEFGHIJ',
        },
      }),
    ).toThrow(/domain\.zoneName = undefined: hostedZoneId and zoneName go together/);
  });

  it('fails for a domain outside its hosted zone', () => {
    expect(() =>
      loadEnvironmentConfig('prod', {
        domain: {
          name: 'api.example.org',
          certificateArn: CERTIFICATE_ARN,
          hostedZoneId: 'Z0123456789ABCDEFGHIJ',
          zoneName: 'example.com',
        },
      }),
    ).toThrow(/domain\.zoneName = "example.com": the domain name must be in the hosted zone/);
  });

  it('fails for a certificate that is not an ACM ARN, naming the key and value', () => {
    expect(() =>
      loadEnvironmentConfig('prod', { domain: { name: 'api.example.com', certificateArn: 'my-cert' } }),
    ).toThrow(/domain\.certificateArn = "my-cert": an ACM certificate ARN/);
  });

  it("fails for a certificate outside the environment's region (a regional domain needs one in its region)", () => {
    expect(() =>
      loadEnvironmentConfig('prod', {
        region: 'us-east-1',
        domain: { name: 'api.example.com', certificateArn: CERTIFICATE_ARN },
      }),
    ).toThrow(/domain\.certificateArn = .*needs a certificate in the API's region us-east-1, not eu-west-1/);
  });

  it('fails on unknown keys of a service, which are usually typos', () => {
    expect(() => loadEnvironmentConfig('prod', { services: { orders: { throtle: {} } } })).toThrow(
      /Invalid configuration for environment "prod"/,
    );
  });
});
