/**
 * Runtime configuration and secrets of a service (`cdk-microservices/kit/config`): feature flags and settings
 * from AWS AppConfig, secrets from AWS Secrets Manager, each read through Powertools Parameters and cached for
 * the execution environment. The `Microservice` construct's `configuration` prop creates them and gives each
 * function only identifiers in its environment (see {@link CONFIG_VARIABLES}), never a value.
 *
 * ```ts
 * if (await featureFlag('express-checkout')) { ... }
 * const max = await setting('maxLinesPerOrder', z.number());
 * const apiKey = await secret('payment-api-key');
 * ```
 */
import { getAppConfig } from '@aws-lambda-powertools/parameters/appconfig';
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import type { $ZodType, output } from 'zod/v4/core';
import { safeParse } from 'zod/v4/core';

/** The environment variables the constructs set for a function that reads the service's configuration. */
export const CONFIG_VARIABLES = {
  /** AppConfig application id of the service. */
  APPLICATION: 'CONFIG_APPLICATION_ID',
  /** AppConfig environment id (one per platform environment). */
  ENVIRONMENT: 'CONFIG_ENVIRONMENT_ID',
  /** Configuration profile id of the feature flags (`AWS.AppConfig.FeatureFlags`). */
  FLAGS_PROFILE: 'CONFIG_FLAGS_PROFILE_ID',
  /** Configuration profile id of the settings (freeform JSON). */
  SETTINGS_PROFILE: 'CONFIG_SETTINGS_PROFILE_ID',
  /** How long a fetched configuration or secret is used before it is fetched again, in seconds. */
  MAX_AGE: 'CONFIG_MAX_AGE_SECONDS',
  /** Prefix of the variables holding a secret's ARN: `SECRET_ARN_PAYMENT_API_KEY` for `payment-api-key`. */
  SECRET_ARN_PREFIX: 'SECRET_ARN_',
} as const;

/** Seconds a value is cached when {@link CONFIG_VARIABLES.MAX_AGE} is not set. */
export const DEFAULT_MAX_AGE_SECONDS = 60;

/** The configuration a function asks for is not there: a deployment or declaration bug, not a client error. */
export class ConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigurationError';
  }
}

/** Name of the environment variable holding the ARN of secret `name` (`payment-api-key` → `SECRET_ARN_PAYMENT_API_KEY`). */
export function secretVariableOf(name: string): string {
  return `${CONFIG_VARIABLES.SECRET_ARN_PREFIX}${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

/** Options of {@link featureFlag}, {@link setting} and {@link secret}. */
export interface ConfigReadOptions {
  /**
   * Fetch even if a cached value is younger than the maximum age.
   * @default false
   */
  readonly forceFetch?: boolean;
}

/** A feature flag's value as AppConfig serves a `AWS.AppConfig.FeatureFlags` profile. */
interface FlagValue {
  readonly enabled?: boolean;
}

/**
 * Whether feature flag `name` of the service is on in this environment. Throws a {@link ConfigurationError}
 * when the function has no feature flags or the flag is not declared.
 */
export async function featureFlag(name: string, options: ConfigReadOptions = {}): Promise<boolean> {
  const flags = await profile('featureFlag', name, CONFIG_VARIABLES.FLAGS_PROFILE, 'featureFlags', options);
  const value = flags[name] as FlagValue | undefined;
  if (value === undefined || typeof value !== 'object') {
    throw new ConfigurationError(
      `featureFlag(${JSON.stringify(name)}): no such flag; the service declares ${listOf(flags)}`,
    );
  }
  return value.enabled === true;
}

/**
 * The value of setting `name` of the service in this environment, checked against `schema` when one is given.
 * Throws a {@link ConfigurationError} when the function has no settings, the setting is not declared or its
 * value does not match `schema`.
 */
export async function setting<S extends $ZodType = $ZodType<unknown>>(
  name: string,
  schema?: S,
  options: ConfigReadOptions = {},
): Promise<output<S>> {
  const settings = await profile('setting', name, CONFIG_VARIABLES.SETTINGS_PROFILE, 'settings', options);
  if (!Object.prototype.hasOwnProperty.call(settings, name)) {
    throw new ConfigurationError(
      `setting(${JSON.stringify(name)}): no such setting; the service declares ${listOf(settings)}`,
    );
  }
  const value = settings[name];
  if (!schema) return value as output<S>;
  const parsed = safeParse(schema, value);
  if (!parsed.success) {
    throw new ConfigurationError(
      `setting(${JSON.stringify(name)}) = ${JSON.stringify(value)} does not match its schema: ` +
        parsed.error.issues.map((issue) => issue.message).join('; '),
    );
  }
  return parsed.data;
}

/**
 * The value of secret `name` of the service (a string secret). Throws a {@link ConfigurationError} when the
 * function was not given that secret (no `SECRET_ARN_...` variable) or the secret has no string value.
 */
export async function secret(name: string, options: ConfigReadOptions = {}): Promise<string> {
  const variable = secretVariableOf(name);
  const arn = process.env[variable];
  if (!arn) {
    throw new ConfigurationError(
      `secret(${JSON.stringify(name)}): ${variable} is not set; declare the secret in the service's ` +
        'configuration.secrets and give this function access to it',
    );
  }
  const value = await getSecret(arn, { maxAge: maxAgeSeconds(), forceFetch: options.forceFetch });
  if (typeof value !== 'string') {
    throw new ConfigurationError(`secret(${JSON.stringify(name)}): the secret has no string value`);
  }
  return value;
}

/** A configuration profile of the service as a JSON object (Powertools caches it for the maximum age). */
async function profile(
  reader: string,
  name: string,
  variable: string,
  prop: string,
  options: ConfigReadOptions,
): Promise<Record<string, unknown>> {
  const application = process.env[CONFIG_VARIABLES.APPLICATION];
  const environment = process.env[CONFIG_VARIABLES.ENVIRONMENT];
  const profileId = process.env[variable];
  if (!application || !environment || !profileId) {
    const missing = [CONFIG_VARIABLES.APPLICATION, CONFIG_VARIABLES.ENVIRONMENT, variable].filter(
      (v) => !process.env[v],
    );
    throw new ConfigurationError(
      `${reader}(${JSON.stringify(name)}): ${missing.join(', ')} not set; declare configuration.${prop} ` +
        "on the service's Microservice",
    );
  }
  const value = await getAppConfig(profileId, {
    application,
    environment,
    transform: 'json',
    maxAge: maxAgeSeconds(),
    forceFetch: options.forceFetch,
  });
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigurationError(
      `${reader}(${JSON.stringify(name)}): configuration profile ${profileId} is not a JSON object`,
    );
  }
  return value as Record<string, unknown>;
}

function maxAgeSeconds(): number {
  const raw = process.env[CONFIG_VARIABLES.MAX_AGE];
  const seconds = raw === undefined ? DEFAULT_MAX_AGE_SECONDS : Number(raw);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : DEFAULT_MAX_AGE_SECONDS;
}

function listOf(values: Record<string, unknown>): string {
  const names = Object.keys(values).sort();
  return names.length === 0 ? 'none' : names.join(', ');
}
