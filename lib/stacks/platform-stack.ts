import type { StackProps } from 'aws-cdk-lib';
import { Stack, Tags } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { EnvironmentConfig } from '../config/environments';
import { DataProtection } from '../constructs/data-protection';
import type { ApiScope, UserGroup } from '../constructs/platform';
import { FrontDoor } from '../constructs/front-door';
import { Platform } from '../constructs/platform';
import { LogLevel } from '../constructs/service-function';
import { deploymentOf } from './services/defaults';

/** Properties of {@link PlatformStack}. */
export interface PlatformStackProps extends StackProps {
  /** The environment's configuration. */
  readonly config: EnvironmentConfig;
  /** Scopes of the resource server. */
  readonly scopes: ApiScope[];
  /** Scope names every signed-in user receives. */
  readonly defaultScopes: string[];
  /** User groups and the scopes they add. */
  readonly groups: UserGroup[];
}

/** The platform stack of one environment: `{app}-{env}-Platform`. */
export class PlatformStack extends Stack {
  /** The environment's platform. */
  public readonly platform: Platform;
  /** The custom domain in front of every service's API (present when `config.domain` is set). */
  public readonly frontDoor?: FrontDoor;

  constructor(scope: Construct, id: string, props: PlatformStackProps) {
    super(scope, id, props);
    const { config } = props;
    Tags.of(this).add('app', config.appName);
    Tags.of(this).add('environment', config.envName);
    this.platform = new Platform(this, 'Platform', {
      appName: config.appName,
      envName: config.envName,
      scopes: props.scopes,
      defaultScopes: props.defaultScopes,
      groups: props.groups,
      mfa: config.mfaRequired ? cognito.Mfa.REQUIRED : cognito.Mfa.OPTIONAL,
      threatProtection: config.threatProtection,
      allowPasswordAuth: config.allowPasswordAuth,
      dataProtection: config.retainData ? DataProtection.RETAIN : DataProtection.DESTROY,
      logRetention: config.logRetentionDays as logs.RetentionDays,
      logLevel: LogLevel[config.logLevel],
      alarmEmails: config.alarmEmails,
      externalAlarmTopicArn: config.externalAlarmTopicArn,
      wafRateLimitPer5Minutes: config.wafRateLimitPer5Minutes,
      wafSigV4RateLimitPer5Minutes: config.wafSigV4RateLimitPer5Minutes,
      // The account-wide API Gateway logging role lives in the AccountStack, shared by all environments.
      configureApiGatewayAccount: false,
      deployment: deploymentOf(config),
    });
    if (config.domain) {
      const { domain } = config;
      this.frontDoor = new FrontDoor(this, 'FrontDoor', {
        platform: this.platform,
        domainName: domain.name,
        certificate: acm.Certificate.fromCertificateArn(this, 'FrontDoorCertificate', domain.certificateArn),
        hostedZone:
          domain.hostedZoneId && domain.zoneName
            ? route53.HostedZone.fromHostedZoneAttributes(this, 'FrontDoorZone', {
                hostedZoneId: domain.hostedZoneId,
                zoneName: domain.zoneName,
              })
            : undefined,
      });
    }
  }
}
