import { z } from 'zod';
import { checkApiLimits, Domain, ServiceSettings, Throttle } from './api-limits';
import { configurationProblems } from './problems';

/** Log retention values CloudWatch accepts (days). */
const RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/** How each function's `live` alias moves to a new version (CodeDeploy); see `TrafficShift`. */
const Deployment = z
  .strictObject({
    strategy: z.enum(['CANARY', 'LINEAR', 'ALL_AT_ONCE']),
    /** Traffic share of the canary, or of each linear step (CANARY and LINEAR). */
    percentage: z.number().int().min(1).max(99).optional(),
    /** Minutes before the rest (CANARY) or between steps (LINEAR). */
    intervalMinutes: z.number().int().min(1).max(2880).optional(),
  })
  .refine(
    (d) => d.strategy === 'ALL_AT_ONCE' || (d.percentage !== undefined && d.intervalMinutes !== undefined),
    {
      message: 'CANARY and LINEAR need percentage and intervalMinutes',
      path: ['strategy'],
    },
  );

/** Provisioned concurrency with target-tracking auto scaling for the latency-critical routes. */
const ProvisionedScaling = z
  .strictObject({
    minCapacity: z.number().int().min(1).max(100000),
    maxCapacity: z.number().int().min(1).max(100000),
    utilizationTarget: z.number().min(0.1).max(0.9),
  })
  .refine((p) => p.minCapacity <= p.maxCapacity, {
    message: 'at least minCapacity',
    path: ['maxCapacity'],
  });

/** Typed, validated configuration of one environment of the reference system. */
export const EnvironmentConfigSchema = z
  .strictObject({
    appName: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9-]{0,31}$/, 'a letter then up to 31 letters, digits or hyphens'),
    envName: z
      .string()
      .regex(
        /^[a-z][a-z0-9-]{0,15}$/,
        'a lowercase letter then up to 15 lowercase letters, digits or hyphens',
      ),
    /** AWS account; omit for an environment-agnostic synth (the CLI's credentials decide). */
    account: z
      .string()
      .regex(/^\d{12}$/, 'a 12-digit AWS account id')
      .optional(),
    region: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'an AWS region such as eu-west-1')
      .optional(),
    /** Keep tables, keys, user pool and logs when a stack is deleted. */
    retainData: z.boolean(),
    logRetentionDays: z
      .number()
      .refine((d) => RETENTION_DAYS.includes(d), { message: `one of ${RETENTION_DAYS.join(', ')}` }),
    logLevel: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR']),
    /** The stage throttle of every service without its own (`services.<name>.throttle`). */
    apiThrottle: Throttle,
    /**
     * The account's API Gateway throttle quota in the region, which every throttle must fit in: 10,000 rps and a
     * 5,000 bucket unless AWS raised it (see lib/config/api-limits.ts).
     */
    apiGatewayQuota: Throttle.optional(),
    /** Per service (by service name): its stage throttle, per-route throttles and API keys, partner plans. */
    services: z.record(z.string(), ServiceSettings).optional(),
    /** A custom domain in front of every service's API (`https://{name}/{service}/...`); omit for none. */
    domain: Domain.optional(),
    mfaRequired: z.boolean(),
    threatProtection: z.boolean(),
    allowPasswordAuth: z.boolean(),
    /** Per-IP requests per 5 minutes before WAF blocks, for requests that are not SigV4-signed. */
    wafRateLimitPer5Minutes: z.number().int().min(10).max(2_000_000_000),
    /**
     * Per-IP requests per 5 minutes before WAF blocks, for requests with a SigV4 Authorization header
     * (service-to-service calls sharing Lambda's egress addresses); at least wafRateLimitPer5Minutes.
     */
    wafSigV4RateLimitPer5Minutes: z.number().int().min(10).max(2_000_000_000),
    /** E-mail addresses subscribed to the platform's alarm topic. */
    alarmEmails: z.array(z.email()),
    /**
     * The most lines an order may have: the orders service's `maxLinesPerOrder` setting in AppConfig, at most
     * the request schema's bound of 50; omit for 50.
     */
    maxLinesPerOrder: z.number().int().min(1).max(50).optional(),
    /** An existing SNS topic every alarm also notifies (e.g. the on-call pager); omit for none. */
    externalAlarmTopicArn: z
      .string()
      .regex(
        /^arn:aws[a-z-]*:sns:[a-z]{2}(-[a-z]+)+-\d:\d{12}:[A-Za-z0-9_-]{1,256}$/,
        'an SNS topic ARN such as arn:aws:sns:eu-west-1:123456789012:ops-alerts',
      )
      .optional(),
    /** Safe rollouts through CodeDeploy; omit to deploy at once (no deployment groups). */
    deployment: Deployment.optional(),
    /** Provisioned concurrency auto scaling of the routes marked latency-critical; omit for none. */
    latencyCriticalScaling: ProvisionedScaling.optional(),
  })
  .refine((c) => c.wafSigV4RateLimitPer5Minutes >= c.wafRateLimitPer5Minutes, {
    message: 'at least wafRateLimitPer5Minutes',
    path: ['wafSigV4RateLimitPer5Minutes'],
  })
  .superRefine(checkApiLimits);
export type EnvironmentConfig = z.infer<typeof EnvironmentConfigSchema>;

const base = {
  appName: 'Shop',
  logLevel: 'INFO',
  apiThrottle: { rateLimit: 50, burstLimit: 100 },
  mfaRequired: false,
  threatProtection: false,
  allowPasswordAuth: false,
  wafRateLimitPer5Minutes: 2000,
  wafSigV4RateLimitPer5Minutes: 100_000,
  alarmEmails: [],
} as const;

/** The environments of the reference system. `cdk synth -c env=<name>` picks one. */
export const ENVIRONMENTS: Record<string, unknown> = {
  local: {
    ...base,
    envName: 'local',
    region: 'us-east-1',
    retainData: false,
    logRetentionDays: 1,
    logLevel: 'DEBUG',
    allowPasswordAuth: true,
    // Low enough that the local suites can exceed it without reaching the schema's bound of 50.
    maxLinesPerOrder: 10,
    // The local suites and the benchmark send many thousands of requests from 127.0.0.1, and the local
    // runtime evaluates the web ACL's rules as written: keep both per-IP limits out of their way.
    wafRateLimitPer5Minutes: 100_000_000,
    wafSigV4RateLimitPer5Minutes: 100_000_000,
  },
  dev: {
    ...base,
    envName: 'dev',
    retainData: false,
    logRetentionDays: 7,
    logLevel: 'DEBUG',
    allowPasswordAuth: true,
  },
  prod: {
    ...base,
    envName: 'prod',
    retainData: true,
    logRetentionDays: 365,
    apiThrottle: { rateLimit: 1000, burstLimit: 2000 },
    threatProtection: true,
    wafRateLimitPer5Minutes: 5000,
    wafSigV4RateLimitPer5Minutes: 200_000,
    // Each function's live alias takes 10% of the traffic for 5 minutes, then the rest; its alarms roll it back.
    deployment: { strategy: 'CANARY', percentage: 10, intervalMinutes: 5 },
    // POST /orders (checkout, which also calls users) keeps 2-20 warm environments, scaled at 70% in use.
    latencyCriticalScaling: { minCapacity: 2, maxCapacity: 20, utilizationTarget: 0.7 },
  },
};

/**
 * Returns the validated configuration of `envName`, with `overrides` (e.g. from `-c` context) applied.
 * Throws an error naming every bad key and its value, so `cdk synth` stops before anything is built.
 */
export function loadEnvironmentConfig(
  envName: string,
  overrides: Record<string, unknown> = {},
): EnvironmentConfig {
  const raw = ENVIRONMENTS[envName];
  if (raw === undefined) {
    throw new Error(
      `Unknown environment env=${JSON.stringify(envName)}: use one of ${Object.keys(ENVIRONMENTS).join(', ')}`,
    );
  }
  const candidate = { ...(raw as Record<string, unknown>), ...overrides };
  const parsed = EnvironmentConfigSchema.safeParse(candidate);
  if (!parsed.success) {
    const problems = configurationProblems(candidate, parsed.error.issues);
    throw new Error(`Invalid configuration for environment "${envName}":\n${problems.join('\n')}`);
  }
  return parsed.data;
}
