import { Arn, ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as appconfig from 'aws-cdk-lib/aws-appconfig';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { CONFIG_VARIABLES } from '../../functions/shared/config';
import type { ServiceSecretDefinition } from './service-secrets';
import { fail, requireMatch } from './validation';

/** A setting's value: any JSON value. */
export type SettingValue = string | number | boolean | null | readonly SettingValue[] | SettingObject;

/** A JSON object as a setting's value. */
export interface SettingObject {
  readonly [key: string]: SettingValue;
}

/**
 * The runtime configuration of a service, declared in {@link MicroserviceProps.configuration}: feature flags and
 * settings served by AWS AppConfig, secrets stored in AWS Secrets Manager. Every function of the service gets
 * the identifiers in its environment and the grants to read them; handlers read the values with
 * `featureFlag`, `setting` and `secret` of `cdk-microservices/kit/config`.
 */
export interface ServiceConfigurationOptions {
  /**
   * Feature flags and whether each is on in this environment, e.g. `{ 'express-checkout': false }`: an
   * AppConfig configuration profile of type `AWS.AppConfig.FeatureFlags`. Names: a letter, then up to 63
   * letters, digits, `_` or `-`.
   * @default - no feature flags
   */
  readonly featureFlags?: Record<string, boolean>;
  /**
   * Settings and their values in this environment, e.g. `{ maxLinesPerOrder: 25 }`: a freeform JSON
   * AppConfig configuration profile. Names: a letter, then up to 63 letters, digits, `_` or `-`.
   * @default - no settings
   */
  readonly settings?: Record<string, SettingValue>;
  /**
   * Secrets of the service, each a Secrets Manager secret encrypted with the service's key; their values are
   * set by an operator, never in the template (see {@link ServiceSecretDefinition}).
   * @default - no secrets
   */
  readonly secrets?: ServiceSecretDefinition[];
  /**
   * How AppConfig rolls a change of flags or settings out to the functions.
   * @default - AppConfig's predefined `AppConfig.AllAtOnce` (no new resource)
   */
  readonly deploymentStrategy?: appconfig.IDeploymentStrategy;
  /**
   * How long a function uses a fetched configuration or secret before it fetches it again (Powertools
   * Parameters' cache), from 0 to 1 hour.
   * @default Duration.minutes(1)
   */
  readonly maxAge?: Duration;
}

/** Properties of {@link ServiceConfiguration}. */
export interface ServiceConfigurationProps {
  /** Name of the AppConfig application, e.g. `Shop-prod-orders`. */
  readonly applicationName: string;
  /** Name of the AppConfig environment, e.g. `prod`. */
  readonly environmentName: string;
  /**
   * Feature flags and whether each is on.
   * @default - no feature flags profile
   */
  readonly featureFlags?: Record<string, boolean>;
  /**
   * Settings and their values.
   * @default - no settings profile
   */
  readonly settings?: Record<string, SettingValue>;
  /**
   * How AppConfig rolls a change out.
   * @default - AppConfig's predefined `AppConfig.AllAtOnce`
   */
  readonly deploymentStrategy?: appconfig.IDeploymentStrategy;
  /**
   * How long functions cache a fetched configuration.
   * @default Duration.minutes(1)
   */
  readonly maxAge?: Duration;
}

/** A flag or setting name: what AppConfig accepts as a feature flag key, used for settings alike. */
const CONFIG_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

/**
 * Feature flags and settings of one service in one environment, in AWS AppConfig: an application, an
 * environment, a hosted `AWS.AppConfig.FeatureFlags` profile for the flags and a freeform JSON profile for the
 * settings, each deployed to the environment with the deployment strategy. Functions get identifiers only
 * ({@link environmentVariables}) and read access to exactly these profiles ({@link grantRead}).
 */
export class ServiceConfiguration extends Construct {
  /** The service's AppConfig application. */
  public readonly application: appconfig.Application;
  /** The AppConfig environment the profiles are deployed to. */
  public readonly environment: appconfig.Environment;
  /** The feature flags profile (when there are flags). */
  public readonly featureFlagsProfile?: appconfig.HostedConfiguration;
  /** The settings profile (when there are settings). */
  public readonly settingsProfile?: appconfig.HostedConfiguration;
  /** How long functions cache a fetched configuration. */
  public readonly maxAge: Duration;

  constructor(scope: Construct, id: string, props: ServiceConfigurationProps) {
    super(scope, id);
    const flags = props.featureFlags ?? {};
    const settings = props.settings ?? {};
    validateNames('featureFlags', flags);
    validateNames('settings', settings);
    for (const [name, enabled] of Object.entries(flags)) {
      if (typeof enabled !== 'boolean') {
        fail('Microservice', `configuration.featureFlags.${name}`, enabled, 'must be true or false');
      }
    }
    this.maxAge = configurationMaxAge(props.maxAge);
    this.application = new appconfig.Application(this, 'Application', {
      applicationName: props.applicationName,
      description: `Feature flags and settings of ${props.applicationName}`,
    });
    this.environment = new appconfig.Environment(this, 'Environment', {
      application: this.application,
      environmentName: props.environmentName,
    });
    const deploymentStrategy =
      props.deploymentStrategy ??
      appconfig.DeploymentStrategy.fromDeploymentStrategyId(
        this,
        'AllAtOnce',
        appconfig.DeploymentStrategyId.ALL_AT_ONCE,
      );
    if (Object.keys(flags).length > 0) {
      this.featureFlagsProfile = new appconfig.HostedConfiguration(this, 'FeatureFlags', {
        application: this.application,
        name: 'feature-flags',
        description: 'Feature flags (read with featureFlag() of cdk-microservices/kit/config)',
        type: appconfig.ConfigurationType.FEATURE_FLAGS,
        content: appconfig.ConfigurationContent.fromInlineJson(JSON.stringify(featureFlagsDocument(flags))),
        deployTo: [this.environment],
        deploymentStrategy,
      });
    }
    if (Object.keys(settings).length > 0) {
      this.settingsProfile = new appconfig.HostedConfiguration(this, 'Settings', {
        application: this.application,
        name: 'settings',
        description: 'Settings (read with setting() of cdk-microservices/kit/config)',
        type: appconfig.ConfigurationType.FREEFORM,
        content: appconfig.ConfigurationContent.fromInlineJson(JSON.stringify(settings)),
        deployTo: [this.environment],
        deploymentStrategy,
      });
    }
  }

  /** Identifiers a function needs to read the configuration (no value of a flag or setting). */
  public environmentVariables(): Record<string, string> {
    return {
      [CONFIG_VARIABLES.APPLICATION]: this.application.applicationId,
      [CONFIG_VARIABLES.ENVIRONMENT]: this.environment.environmentId,
      ...(this.featureFlagsProfile
        ? { [CONFIG_VARIABLES.FLAGS_PROFILE]: this.featureFlagsProfile.configurationProfileId }
        : {}),
      ...(this.settingsProfile
        ? { [CONFIG_VARIABLES.SETTINGS_PROFILE]: this.settingsProfile.configurationProfileId }
        : {}),
      [CONFIG_VARIABLES.MAX_AGE]: String(this.maxAge.toSeconds()),
    };
  }

  /**
   * Lets `grantee` start configuration sessions on, and get the latest configuration of, exactly this
   * environment's profiles (`appconfig:StartConfigurationSession`, `appconfig:GetLatestConfiguration`).
   */
  public grantRead(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['appconfig:StartConfigurationSession', 'appconfig:GetLatestConfiguration'],
      resourceArns: this.profiles().map((profile) => this.configurationArn(profile.configurationProfileId)),
    });
  }

  /** `arn:{partition}:appconfig:{region}:{account}:application/{app}/environment/{env}/configuration/{profile}` */
  private configurationArn(profileId: string): string {
    return Arn.format(
      {
        service: 'appconfig',
        resource: 'application',
        resourceName: `${this.application.applicationId}/environment/${this.environment.environmentId}/configuration/${profileId}`,
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      },
      Stack.of(this),
    );
  }

  private profiles(): appconfig.HostedConfiguration[] {
    return [this.featureFlagsProfile, this.settingsProfile].filter(
      (p): p is appconfig.HostedConfiguration => p !== undefined,
    );
  }
}

/** `maxAge` or its default (1 minute); fails synth naming `configuration.maxAge` when above 1 hour. */
export function configurationMaxAge(maxAge: Duration | undefined): Duration {
  const value = maxAge ?? Duration.minutes(1);
  if (!value.isUnresolved() && value.toSeconds() > 3600) {
    fail('Microservice', 'configuration.maxAge', value.toHumanString(), 'must be at most 1 hour');
  }
  return value;
}

/** The `AWS.AppConfig.FeatureFlags` document of `flags` (version 1: flag definitions and their values). */
export function featureFlagsDocument(flags: Record<string, boolean>): {
  version: '1';
  flags: Record<string, { name: string }>;
  values: Record<string, { enabled: boolean }>;
} {
  const names = Object.keys(flags).sort();
  return {
    version: '1',
    flags: Object.fromEntries(names.map((name) => [name, { name }])),
    values: Object.fromEntries(names.map((name) => [name, { enabled: flags[name] }])),
  };
}

function validateNames(prop: string, values: Record<string, unknown>): void {
  for (const name of Object.keys(values)) {
    requireMatch(
      'Microservice',
      `configuration.${prop}`,
      name,
      CONFIG_NAME,
      'a name is a letter, then up to 63 letters, digits, _ or -',
    );
  }
}
