import { z } from 'zod';

// The front door and the API limits of an environment: the custom domain, the API Gateway quota of the account,
// the default stage throttle, and per-service settings (stage throttle, per-route throttles and API keys,
// partner usage plans). Which services and routes exist is checked where the services are defined
// (lib/stacks/services/settings.ts).

/** API Gateway's default account throttle per Region (most Regions): 10,000 requests/s, a 5,000-request bucket. */
export const DEFAULT_API_GATEWAY_QUOTA = { rateLimit: 10_000, burstLimit: 5_000 } as const;

/**
 * A token-bucket throttle: `rateLimit` requests/s refill a bucket of `burstLimit` requests. The burst may be below
 * the rate (the account default is 10,000 rps with a 5,000 bucket): requests spread over the second still get the
 * whole rate.
 */
export const Throttle = z.strictObject({
  rateLimit: z.number().positive(),
  burstLimit: z.number().int().min(1),
});

/** `METHOD /path` as a service declares a route, e.g. `POST /orders` or `GET /orders/{id}`. */
export const ROUTE_KEY =
  /^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) (\/([A-Za-z0-9._-]+|\{[A-Za-z][A-Za-z0-9_]*\}))+$/;

const RouteSettings = z.strictObject({
  /** The route's method throttle (a stage method setting), on top of the stage's. */
  throttle: Throttle.optional(),
  /** Whether callers must send an API key of a partner's usage plan (`x-api-key`). */
  apiKeyRequired: z.boolean().optional(),
});

const Partner = z.strictObject({
  name: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,30}$/, 'a lowercase letter then up to 30 lowercase letters, digits or hyphens'),
  /** The partner's rate across the service's stage. */
  throttle: Throttle.optional(),
  /** Requests per day, week or month. */
  quota: z
    .strictObject({
      limit: z.number().int().min(1).max(2_147_483_647),
      period: z.enum(['DAY', 'WEEK', 'MONTH']),
    })
    .optional(),
});

/** Settings of one service, by service name in `services`. */
export const ServiceSettings = z.strictObject({
  /** The service's stage throttle; overrides `apiThrottle`. */
  throttle: Throttle.optional(),
  /** Per route, keyed `METHOD /path` exactly as the service declares it (checked in {@link checkApiLimits}). */
  routes: z.record(z.string(), RouteSettings).optional(),
  /** Partner clients: an API key and a usage plan each. */
  partners: z.array(Partner).optional(),
});
export type ServiceSettings = z.infer<typeof ServiceSettings>;

/** The optional custom domain of the platform. */
export const Domain = z
  .strictObject({
    /** The domain clients call, e.g. `api.example.com`. */
    name: z
      .string()
      .regex(
        /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/,
        'a lowercase DNS name such as api.example.com',
      ),
    /** An ACM certificate for `name`, in the environment's region. */
    certificateArn: z
      .string()
      .regex(
        /^arn:aws[a-z-]*:acm:[a-z]{2}(-[a-z]+)+-\d:\d{12}:certificate\/[A-Za-z0-9-]+$/,
        'an ACM certificate ARN such as arn:aws:acm:eu-west-1:123456789012:certificate/0f1e...',
      ),
    /** The Route 53 hosted zone that gets the alias record (with zoneName). */
    hostedZoneId: z
      .string()
      .regex(/^Z[A-Z0-9]{1,31}$/, 'a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ')
      .optional(),
    /** The hosted zone's name, e.g. `example.com` (with hostedZoneId). */
    zoneName: z.string().optional(),
  })
  .refine((d) => (d.hostedZoneId === undefined) === (d.zoneName === undefined), {
    message: 'hostedZoneId and zoneName go together (both or neither)',
    path: ['zoneName'],
  })
  .refine((d) => d.zoneName === undefined || d.name === d.zoneName || d.name.endsWith(`.${d.zoneName}`), {
    message: 'the domain name must be in the hosted zone',
    path: ['zoneName'],
  });

/** The keys this module adds to the environment configuration. */
export interface ApiLimitsConfig {
  readonly region?: string;
  readonly apiThrottle: z.infer<typeof Throttle>;
  readonly apiGatewayQuota?: z.infer<typeof Throttle>;
  readonly services?: Record<string, ServiceSettings>;
  readonly domain?: z.infer<typeof Domain>;
}

/**
 * Checks what needs several keys at once: every throttle within the account's API Gateway quota
 * (`apiGatewayQuota`, API Gateway's default unless raised), and the certificate in the environment's region.
 */
export function checkApiLimits(config: ApiLimitsConfig, ctx: z.RefinementCtx): void {
  const quota = config.apiGatewayQuota ?? DEFAULT_API_GATEWAY_QUOTA;
  const check = (path: PropertyKey[], throttle: z.infer<typeof Throttle> | undefined): void => {
    if (!throttle) return;
    for (const key of ['rateLimit', 'burstLimit'] as const) {
      if (throttle[key] > quota[key]) {
        ctx.addIssue({
          code: 'custom',
          path: [...path, key],
          message:
            `above the account's API Gateway ${key === 'rateLimit' ? 'throttle rate' : 'burst'} in the region ` +
            `(apiGatewayQuota.${key} = ${quota[key]}), which caps every API of the account together; ` +
            `${key === 'rateLimit' ? 'ask AWS to raise "Throttle rate" (Service Quotas L-8A5B8E43)' : 'AWS sets the burst from the rate'}, then set apiGatewayQuota`,
        });
      }
    }
  };
  check(['apiThrottle'], config.apiThrottle);
  for (const [service, settings] of Object.entries(config.services ?? {})) {
    check(['services', service, 'throttle'], settings.throttle);
    for (const [route, routeSettings] of Object.entries(settings.routes ?? {})) {
      if (!ROUTE_KEY.test(route)) {
        ctx.addIssue({
          code: 'custom',
          path: ['services', service, 'routes', route],
          message: `"${route}" is not a route as "METHOD /path", e.g. "POST /orders"`,
        });
      }
      check(['services', service, 'routes', route, 'throttle'], routeSettings.throttle);
    }
    (settings.partners ?? []).forEach((partner, i) =>
      check(['services', service, 'partners', i, 'throttle'], partner.throttle),
    );
  }
  const certificateRegion = config.domain?.certificateArn.split(':')[3];
  if (config.region && certificateRegion && certificateRegion !== config.region) {
    ctx.addIssue({
      code: 'custom',
      path: ['domain', 'certificateArn'],
      message: `a regional custom domain needs a certificate in the API's region ${config.region}, not ${certificateRegion}`,
    });
  }
}
