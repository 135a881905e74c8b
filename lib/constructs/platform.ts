import { Aws, Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as servicediscovery from 'aws-cdk-lib/aws-servicediscovery';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct, type IConstruct } from 'constructs';
import { ApiGatewayAccount } from './api-gateway-account';
import type { DeploymentOptions } from './deployment';
import type { PlatformMonitoringOptions } from './monitoring/platform-dashboard';
import { PlatformDashboard } from './monitoring/platform-dashboard';
import { DataProtection, removalPolicyFor } from './data-protection';
import { packagedHandler } from './package-paths';
import { RegistryEntries, ServiceRegistry } from './service-registry';
import type { LogLevel } from './service-function';
import { ServiceFunction } from './service-function';
import { fail, requireIntegerInRange, requireMatch } from './validation';

/** Default per-IP limits of the web ACL's rate rules, per 5 minutes. */
const DEFAULT_WAF_RATE_LIMIT = 2000;
const DEFAULT_WAF_SIGV4_RATE_LIMIT = 100_000;

/** Matches requests whose Authorization header claims a SigV4 signature (WAF cannot verify it). */
const SIGV4_AUTHORIZATION: wafv2.CfnWebACL.StatementProperty = {
  byteMatchStatement: {
    fieldToMatch: { singleHeader: { Name: 'authorization' } },
    positionalConstraint: 'STARTS_WITH',
    searchString: 'AWS4-HMAC-SHA256 ',
    textTransformations: [{ priority: 0, type: 'NONE' }],
  },
};

/** Cognito custom scope names: printable ASCII without space, `"`, `/` or `\`. */
const SCOPE_NAME = /^[\x21\x23-\x2E\x30-\x5B\x5D-\x7E]{1,256}$/;

/**
 * The shared infrastructure a service attaches to, whether it is the {@link Platform} itself or a
 * {@link PlatformReference} read from the service registry.
 */
export interface IPlatform extends IConstruct {
  /** Application name (first level of registry names). */
  readonly appName: string;
  /** Environment name (second level of registry names). */
  readonly envName: string;
  /** The user pool whose access tokens the services' APIs accept. */
  readonly userPool: cognito.IUserPool;
  /** Identifier of the Cognito resource server; a scope on the wire is `{identifier}/{scope}`. */
  readonly resourceServerIdentifier: string;
  /**
   * Names of the scopes the resource server declares, when they are known at synth. A {@link Microservice}
   * whose route requires a scope not in this list fails synth.
   * @default - unknown (a platform attached by name): the routes' scopes are checked at synth only against a
   * {@link Platform} of the same app and environment in the same CDK app, else by the local runtime
   */
  readonly declaredScopes?: readonly string[];
  /** The application's custom event bus. */
  readonly eventBus: events.IEventBus;
  /** The platform's KMS key (alarm topic and shared encrypted resources). */
  readonly encryptionKey: kms.IKey;
  /** Topic every alarm notifies. */
  readonly alarmTopic: sns.ITopic;
  /**
   * Everything each alarm of the system notifies: the alarm topic, and the external topic the platform
   * was configured with, if any. Constructs attach these to their alarms.
   * @default - only `alarmTopic`
   */
  readonly alarmActions?: cloudwatch.IAlarmAction[];
  /** Cloud Map HTTP namespace of the service registry. */
  readonly namespace: servicediscovery.IHttpNamespace;
  /** ARN of the regional WAF web ACL every API stage is associated with. */
  readonly webAclArn: string;
  /** CloudWatch metrics namespace shared by the application's functions. */
  readonly metricsNamespace: string;
}

/** Keys of the platform's entries in the service registry (`/{app}/{env}/platform/{key}`). */
export enum PlatformRegistryKey {
  USER_POOL_ARN = 'user-pool-arn',
  USER_POOL_ID = 'user-pool-id',
  USER_POOL_CLIENT_ID = 'user-pool-client-id',
  RESOURCE_SERVER_ID = 'resource-server-id',
  EVENT_BUS_ARN = 'event-bus-arn',
  EVENT_BUS_NAME = 'event-bus-name',
  KMS_KEY_ARN = 'kms-key-arn',
  ALARM_TOPIC_ARN = 'alarm-topic-arn',
  /** ARN of an existing topic every alarm also notifies, or {@link NO_EXTERNAL_ALARM_TOPIC}. */
  EXTERNAL_ALARM_TOPIC_ARN = 'external-alarm-topic-arn',
  WEB_ACL_ARN = 'web-acl-arn',
  NAMESPACE_ID = 'namespace-id',
  NAMESPACE_ARN = 'namespace-arn',
  NAMESPACE_NAME = 'namespace-name',
  METRICS_NAMESPACE = 'metrics-namespace',
}

/**
 * Registry value of {@link PlatformRegistryKey.EXTERNAL_ALARM_TOPIC_ARN} when no external topic is configured
 * (an SSM parameter cannot be empty).
 */
export const NO_EXTERNAL_ALARM_TOPIC = 'none';

/** An SNS standard topic ARN (alarm actions cannot notify FIFO topics). */
const SNS_TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z]{2}(-[a-z]+)+-\d:\d{12}:[A-Za-z0-9_-]{1,256}$/;
/** A plausible e-mail address (SNS confirms the subscription; this catches typos at synth). */
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** A custom OAuth scope of the platform's resource server. */
export interface ApiScope {
  /** Scope name without the resource-server prefix, e.g. `users.read`. */
  readonly name: string;
  /** What the scope allows. */
  readonly description: string;
}

/** A Cognito group and the scopes its members' access tokens receive. */
export interface UserGroup {
  /** Group name, as it appears in the `cognito:groups` claim. */
  readonly name: string;
  /**
   * What the group is for.
   * @default - none
   */
  readonly description?: string;
  /**
   * Scope names (declared in `scopes`) added to members' access tokens.
   * @default - none beyond `defaultScopes`
   */
  readonly scopes?: string[];
  /**
   * Precedence when a user is in several groups (lower wins).
   * @default - position in the list
   */
  readonly precedence?: number;
}

/** Properties of {@link Platform}. */
export interface PlatformProps {
  /** Application name, e.g. `Shop`. */
  readonly appName: string;
  /** Environment name, e.g. `dev`. */
  readonly envName: string;
  /**
   * Custom scopes of the resource server, which routes require.
   * @default - none
   */
  readonly scopes?: ApiScope[];
  /**
   * Scope names every signed-in user's access token receives.
   * @default - none
   */
  readonly defaultScopes?: string[];
  /**
   * Cognito groups, each adding scopes to its members' tokens.
   * @default - none
   */
  readonly groups?: UserGroup[];
  /**
   * Identifier of the resource server (the scope prefix).
   * @default 'api'
   */
  readonly resourceServerIdentifier?: string;
  /**
   * Multi-factor authentication.
   * @default cognito.Mfa.OPTIONAL (TOTP)
   */
  readonly mfa?: cognito.Mfa;
  /**
   * Cognito threat protection (Plus feature plan, adaptive authentication enforced). Costs extra per user.
   * @default false - Essentials feature plan
   */
  readonly threatProtection?: boolean;
  /**
   * Allow USER_PASSWORD_AUTH (password sent to Cognito over TLS) besides SRP; handy for CLIs and local tests.
   * @default false - SRP only
   */
  readonly allowPasswordAuth?: boolean;
  /**
   * OAuth callback URLs of the user app client; the authorization-code flow is enabled only when given
   * (with `domainPrefix`).
   * @default - OAuth flows disabled
   */
  readonly callbackUrls?: string[];
  /**
   * Prefix of the Cognito hosted domain (`{prefix}.auth.{region}.amazoncognito.com`), required with `callbackUrls`.
   * @default - no hosted domain
   */
  readonly domainPrefix?: string;
  /**
   * Whether stateful resources (user pool, key) outlive the stack.
   * @default DataProtection.RETAIN
   */
  readonly dataProtection?: DataProtection;
  /**
   * Retention of the platform's log groups.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Log level of platform functions.
   * @default LogLevel.INFO
   */
  readonly logLevel?: LogLevel;
  /**
   * How long the event archive keeps events for replay.
   * @default Duration.days(30)
   */
  readonly eventArchiveRetention?: Duration;
  /**
   * E-mail addresses subscribed to the alarm topic.
   * @default - none
   */
  readonly alarmEmails?: string[];
  /**
   * ARN of an existing SNS topic (e.g. an on-call or chat integration) that every alarm of the system also
   * notifies, besides the platform's alarm topic. SNS cannot subscribe a topic to a topic, so each alarm
   * names it as a second action, read from the registry. Its policy (and key policy, if it is encrypted)
   * must let `cloudwatch.amazonaws.com` publish.
   * @default - alarms notify only the platform's alarm topic
   */
  readonly externalAlarmTopicArn?: string;
  /**
   * Requests per client IP per 5 minutes before WAF blocks it, for requests that are not SigV4-signed.
   * @default 2000
   */
  readonly wafRateLimitPer5Minutes?: number;
  /**
   * Requests per client IP per 5 minutes before WAF blocks it, for requests whose Authorization header
   * starts with `AWS4-HMAC-SHA256 ` (service-to-service calls, which share Lambda's egress addresses).
   * At least `wafRateLimitPer5Minutes`.
   * @default 100000 (about 330 requests a second from one address)
   */
  readonly wafSigV4RateLimitPer5Minutes?: number;
  /**
   * Set the account's API Gateway CloudWatch role (needed once per account and region for execution logs).
   * Turn off when another stack already manages it.
   * @default true
   */
  readonly configureApiGatewayAccount?: boolean;
  /**
   * Monitoring: the platform dashboard with every service side by side, alarms on the Cognito trigger, saved
   * log queries across services (see {@link PlatformDashboard}).
   * @default - on, showing the services of this app found at synth
   */
  readonly monitoring?: PlatformMonitoringOptions;
  /**
   * How a new version of the Cognito trigger reaches its `live` alias: through CodeDeploy (e.g. a canary) with
   * automatic rollback on the new version's alarms, which notify the platform's alarm destinations.
   * @default - no CodeDeploy: the alias moves at once
   */
  readonly deployment?: DeploymentOptions;
}

/**
 * The shared infrastructure of an application environment: Cognito user pool (strong passwords, MFA,
 * groups, resource-server scopes added to access tokens by group), an EventBridge bus with an archive,
 * a KMS key, the alarm topic, a regional WAF web ACL for the APIs, and the service registry
 * (SSM parameters mirrored in a Cloud Map HTTP namespace) that services attach through.
 */
export class Platform extends Construct implements IPlatform {
  /** Application name (first level of registry names). */
  public readonly appName: string;
  /** Environment name (second level of registry names). */
  public readonly envName: string;
  /** CloudWatch metrics namespace of the application's functions (the app name). */
  public readonly metricsNamespace: string;
  /** Identifier of the resource server; a scope on the wire is `{identifier}/{scope}`. */
  public readonly resourceServerIdentifier: string;
  /** Names of the scopes of the resource server (`scopes[].name`), which routes may require. */
  public readonly declaredScopes: readonly string[];
  /** The user pool whose access tokens the services' APIs accept. */
  public readonly userPool: cognito.UserPool;
  /** The app client end users sign in with. */
  public readonly userPoolClient: cognito.UserPoolClient;
  /** The resource server declaring the custom scopes. */
  public readonly resourceServer: cognito.UserPoolResourceServer;
  /** Pre-token-generation trigger that adds scopes to access tokens by group. */
  public readonly tokenCustomizer: ServiceFunction;
  /** The application's custom event bus. */
  public readonly eventBus: events.EventBus;
  /** Archive of every event on the bus, for replay. */
  public readonly eventArchive: events.Archive;
  /** The platform's KMS key (alarm topic and shared encrypted resources). */
  public readonly encryptionKey: kms.Key;
  /** Topic every alarm notifies. */
  public readonly alarmTopic: sns.Topic;
  /** Everything each alarm notifies: the alarm topic and the external topic, if configured. */
  public readonly alarmActions: cloudwatch.IAlarmAction[];
  /** Cloud Map HTTP namespace mirroring the service registry. */
  public readonly namespace: servicediscovery.HttpNamespace;
  /** The regional WAF web ACL of every API stage. */
  public readonly webAcl: wafv2.CfnWebACL;
  /** ARN of {@link Platform.webAcl}. */
  public readonly webAclArn: string;
  /** The platform's registry entries (`/{app}/{env}/platform/...`). */
  public readonly registry: RegistryEntries;
  /** The platform dashboard and the Cognito trigger's alarms (absent with `monitoring.enabled: false`). */
  public readonly monitoring?: PlatformDashboard;

  constructor(scope: Construct, id: string, props: PlatformProps) {
    super(scope, id);
    ServiceRegistry.validateNames('Platform', props.appName, props.envName);
    requireIntegerInRange(
      'Platform',
      'wafRateLimitPer5Minutes',
      props.wafRateLimitPer5Minutes,
      10,
      2_000_000_000,
    );
    requireIntegerInRange(
      'Platform',
      'wafSigV4RateLimitPer5Minutes',
      props.wafSigV4RateLimitPer5Minutes,
      10,
      2_000_000_000,
    );
    const rateLimit = props.wafRateLimitPer5Minutes ?? DEFAULT_WAF_RATE_LIMIT;
    const sigV4RateLimit =
      props.wafSigV4RateLimitPer5Minutes ?? Math.max(DEFAULT_WAF_SIGV4_RATE_LIMIT, rateLimit);
    if (sigV4RateLimit < rateLimit) {
      fail(
        'Platform',
        'wafSigV4RateLimitPer5Minutes',
        sigV4RateLimit,
        `must be at least wafRateLimitPer5Minutes (${rateLimit}): a signed-looking request must not be limited harder than an anonymous one`,
      );
    }
    this.appName = props.appName;
    this.envName = props.envName;
    this.metricsNamespace = props.appName;
    this.resourceServerIdentifier = props.resourceServerIdentifier ?? 'api';
    requireMatch(
      'Platform',
      'resourceServerIdentifier',
      this.resourceServerIdentifier,
      /^[\x21\x23-\x5B\x5D-\x7E]{1,256}$/,
      'printable ASCII without spaces, quotes or backslashes',
    );
    const grants = scopeGrants(props, this.resourceServerIdentifier);
    this.declaredScopes = (props.scopes ?? []).map((scope) => scope.name);
    const dataProtection = props.dataProtection ?? DataProtection.RETAIN;
    const removalPolicy = removalPolicyFor(dataProtection);
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;

    this.encryptionKey = new kms.Key(this, 'Key', {
      description: `${props.appName} ${props.envName} platform key`,
      enableKeyRotation: true,
      removalPolicy,
    });

    // --- Alarms -----------------------------------------------------------------------------------
    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', {
      displayName: `${props.appName} ${props.envName} alarms`,
      masterKey: this.encryptionKey,
      enforceSSL: true,
    });
    // A topic policy replaces SNS's default one, so CloudWatch alarms may publish only if it says so.
    // Restricted to alarms of this account and region (confused-deputy prevention), as AWS shows in
    // https://repost.aws/knowledge-center/cloudwatch-receive-sns-for-alarm-trigger
    this.alarmTopic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.alarmTopic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
          ArnLike: {
            'aws:SourceArn': `arn:${Aws.PARTITION}:cloudwatch:${Aws.REGION}:${Aws.ACCOUNT_ID}:alarm:*`,
          },
        },
      }),
    );
    // CloudWatch alarms publish to the encrypted topic, so CloudWatch must be able to use the key: the
    // statement AWS documents in "Enable compatibility between event sources from AWS services and
    // encrypted topics" (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services),
    // which carries no condition. None is added here: whether the KMS request SNS makes for CloudWatch
    // carries aws:SourceAccount/aws:SourceArn is not documented, and a condition that is absent from the
    // request would silently drop every notification. Least privilege is kept by the two actions SNS needs
    // and by the topic policy above, which decides who may publish at all.
    this.encryptionKey.grant(
      new iam.ServicePrincipal('cloudwatch.amazonaws.com'),
      'kms:Decrypt',
      'kms:GenerateDataKey*',
    );
    (props.alarmEmails ?? []).forEach((email, index) => {
      if (!Token.isUnresolved(email)) {
        requireMatch('Platform', `alarmEmails[${index}]`, email, EMAIL, 'must be an e-mail address');
      }
      this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(email));
    });
    if (props.externalAlarmTopicArn !== undefined && !Token.isUnresolved(props.externalAlarmTopicArn)) {
      requireMatch(
        'Platform',
        'externalAlarmTopicArn',
        props.externalAlarmTopicArn,
        SNS_TOPIC_ARN,
        'must be the ARN of an SNS standard topic, e.g. arn:aws:sns:eu-west-1:123456789012:ops-alerts',
      );
    }
    this.alarmActions = [
      new cwActions.SnsAction(this.alarmTopic),
      ...(props.externalAlarmTopicArn === undefined
        ? []
        : [
            new cwActions.SnsAction(
              sns.Topic.fromTopicArn(this, 'ExternalAlarmTopic', props.externalAlarmTopicArn),
            ),
          ]),
    ];

    // --- Identity ---------------------------------------------------------------------------------
    this.tokenCustomizer = new ServiceFunction(this, 'TokenCustomizer', {
      entry: packagedHandler('platform/handlers/pre-token-generation.ts'),
      serviceName: 'platform',
      metricsNamespace: this.metricsNamespace,
      description: 'Adds resource-server scopes to access tokens according to the user groups',
      memorySize: 256,
      timeout: Duration.seconds(5),
      logLevel: props.logLevel,
      logRetention,
      dataProtection,
      environment: { SCOPE_GRANTS: JSON.stringify(grants) },
      deployment: props.deployment && { alarmActions: this.alarmActions, ...props.deployment },
    });

    const threatProtection = props.threatProtection ?? false;
    this.userPool = new cognito.UserPool(this, 'UserPool', {
      selfSignUpEnabled: true,
      signInAliases: { email: true },
      autoVerify: { email: true },
      standardAttributes: { email: { required: true, mutable: true } },
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      mfa: props.mfa ?? cognito.Mfa.OPTIONAL,
      mfaSecondFactor: { otp: true, sms: false },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      featurePlan: threatProtection ? cognito.FeaturePlan.PLUS : cognito.FeaturePlan.ESSENTIALS,
      standardThreatProtectionMode: threatProtection
        ? cognito.StandardThreatProtectionMode.FULL_FUNCTION
        : undefined,
      deletionProtection: dataProtection === DataProtection.RETAIN,
      removalPolicy,
    });
    this.userPool.addTrigger(
      cognito.UserPoolOperation.PRE_TOKEN_GENERATION_CONFIG,
      this.tokenCustomizer.liveAlias,
      cognito.LambdaVersion.V2_0,
    );
    if ((props.mfa ?? cognito.Mfa.OPTIONAL) !== cognito.Mfa.REQUIRED) {
      Validations.of(this.userPool).acknowledge({
        id: 'AwsSolutions-COG2',
        reason:
          'MFA (TOTP) is optional for shoppers by product decision; set mfa: Mfa.REQUIRED to require it.',
      });
    }
    if (!threatProtection) {
      const reason =
        'Threat protection needs the paid Plus feature plan; it is enabled per environment with threatProtection: true (prod).';
      Validations.of(this.userPool).acknowledge(
        { id: 'AwsSolutions-COG3', reason },
        { id: 'AwsSolutions-COG8', reason },
      );
    }

    if (props.callbackUrls?.length && !props.domainPrefix) {
      fail(
        'Platform',
        'domainPrefix',
        props.domainPrefix,
        'is required with callbackUrls: the OAuth flow needs a hosted domain',
      );
    }
    if (props.domainPrefix) {
      requireMatch(
        'Platform',
        'domainPrefix',
        props.domainPrefix,
        /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/,
        'lowercase letters, digits and hyphens',
      );
      this.userPool.addDomain('Domain', { cognitoDomain: { domainPrefix: props.domainPrefix } });
    }

    this.resourceServer = this.userPool.addResourceServer('ResourceServer', {
      identifier: this.resourceServerIdentifier,
      userPoolResourceServerName: `${props.appName} ${props.envName} API`,
      scopes: (props.scopes ?? []).map(
        (s) => new cognito.ResourceServerScope({ scopeName: s.name, scopeDescription: s.description }),
      ),
    });

    // The client may request only what every user is entitled to; group scopes come from the token trigger.
    const oauthScopes = (props.defaultScopes ?? []).map((name) =>
      cognito.OAuthScope.custom(this.scope(name)),
    );
    this.userPoolClient = this.userPool.addClient('UserClient', {
      authFlows: { userSrp: true, userPassword: props.allowPasswordAuth ?? false },
      generateSecret: false,
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.days(30),
      ...(props.callbackUrls && props.callbackUrls.length > 0
        ? {
            oAuth: {
              flows: { authorizationCodeGrant: true },
              scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, ...oauthScopes],
              callbackUrls: props.callbackUrls,
            },
          }
        : { disableOAuth: true }),
    });
    // The client may name the resource server's scopes only once they exist.
    this.userPoolClient.node.addDependency(this.resourceServer);

    (props.groups ?? []).forEach((group, index) => {
      new cognito.CfnUserPoolGroup(this, `Group-${group.name}`, {
        userPoolId: this.userPool.userPoolId,
        groupName: group.name,
        description: group.description,
        precedence: group.precedence ?? index,
      });
    });

    // --- Events -----------------------------------------------------------------------------------
    this.eventBus = new events.EventBus(this, 'EventBus', {
      description: `${props.appName} ${props.envName} domain events`,
    });
    this.eventArchive = this.eventBus.archive('Archive', {
      description: `Every ${props.appName} ${props.envName} event, for replay`,
      eventPattern: { account: [Stack.of(this).account] },
      retention: props.eventArchiveRetention ?? Duration.days(30),
    });

    // --- Edge protection --------------------------------------------------------------------------
    this.webAcl = new wafv2.CfnWebACL(this, 'WebAcl', {
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      description: `${props.appName} ${props.envName} API protection`,
      visibilityConfig: visibility(`${props.appName}-${props.envName}-waf`),
      rules: [
        managedRule('AWSManagedRulesCommonRuleSet', 1),
        managedRule('AWSManagedRulesKnownBadInputsRuleSet', 2),
        managedRule('AWSManagedRulesAmazonIpReputationList', 3),
        // Every request is counted by exactly one of the two per-IP rate rules below. Service-to-service
        // calls (SigV4-signed, to IAM routes) come from Lambda's shared egress addresses: at scale a handful
        // of IPs carry many calls a second, which a per-IP limit sized for people would block, so requests
        // whose Authorization header starts with the SigV4 prefix get their own, higher limit. WAF cannot
        // check a signature, so anyone can send that prefix: the trade-off is that such a client is limited
        // at the higher SigV4 limit instead of the anonymous one, never unlimited, and every request it
        // sends with a forged signature is refused by API Gateway (403) before any integration runs. The
        // stage and method throttles bound both kinds further.
        {
          name: 'RateLimitPerIp',
          priority: 10,
          action: { block: {} },
          statement: {
            rateBasedStatement: {
              limit: rateLimit,
              aggregateKeyType: 'IP',
              scopeDownStatement: { notStatement: { statement: SIGV4_AUTHORIZATION } },
            },
          },
          visibilityConfig: visibility('RateLimitPerIp'),
        },
        {
          name: 'RateLimitPerIpSigV4',
          priority: 11,
          action: { block: {} },
          statement: {
            rateBasedStatement: {
              limit: sigV4RateLimit,
              aggregateKeyType: 'IP',
              scopeDownStatement: SIGV4_AUTHORIZATION,
            },
          },
          visibilityConfig: visibility('RateLimitPerIpSigV4'),
        },
      ],
    });
    this.webAclArn = this.webAcl.attrArn;

    if (props.configureApiGatewayAccount ?? true) new ApiGatewayAccount(this, 'ApiGatewayAccount');

    if (props.monitoring?.enabled ?? true) {
      this.monitoring = new PlatformDashboard(this, 'Monitoring', {
        platform: this,
        services: props.monitoring?.services,
        cognitoTrigger: this.tokenCustomizer.function,
        alarmTiming: props.monitoring?.alarmTiming,
      });
    }

    // --- Service registry -------------------------------------------------------------------------
    this.namespace = new servicediscovery.HttpNamespace(this, 'Namespace', {
      name: ServiceRegistry.namespaceName(props.appName, props.envName),
      description: `${props.appName} ${props.envName} service registry`,
    });
    this.registry = new RegistryEntries(this, 'Registry', {
      appName: props.appName,
      envName: props.envName,
      serviceName: ServiceRegistry.PLATFORM,
      description: `${props.appName} ${props.envName} shared platform resources`,
      namespace: this.namespace,
      entries: {
        [PlatformRegistryKey.USER_POOL_ARN]: this.userPool.userPoolArn,
        [PlatformRegistryKey.USER_POOL_ID]: this.userPool.userPoolId,
        [PlatformRegistryKey.USER_POOL_CLIENT_ID]: this.userPoolClient.userPoolClientId,
        [PlatformRegistryKey.RESOURCE_SERVER_ID]: this.resourceServer.userPoolResourceServerId,
        [PlatformRegistryKey.EVENT_BUS_ARN]: this.eventBus.eventBusArn,
        [PlatformRegistryKey.EVENT_BUS_NAME]: this.eventBus.eventBusName,
        [PlatformRegistryKey.KMS_KEY_ARN]: this.encryptionKey.keyArn,
        [PlatformRegistryKey.ALARM_TOPIC_ARN]: this.alarmTopic.topicArn,
        [PlatformRegistryKey.EXTERNAL_ALARM_TOPIC_ARN]:
          props.externalAlarmTopicArn ?? NO_EXTERNAL_ALARM_TOPIC,
        [PlatformRegistryKey.WEB_ACL_ARN]: this.webAclArn,
        [PlatformRegistryKey.NAMESPACE_ID]: this.namespace.namespaceId,
        [PlatformRegistryKey.NAMESPACE_ARN]: this.namespace.namespaceArn,
        [PlatformRegistryKey.NAMESPACE_NAME]: this.namespace.namespaceName,
        [PlatformRegistryKey.METRICS_NAMESPACE]: this.metricsNamespace,
      },
    });
  }

  /** The on-the-wire form of one of this platform's scopes: `{resourceServerIdentifier}/{name}`. */
  public scope(name: string): string {
    return `${this.resourceServerIdentifier}/${name}`;
  }
}

/** Scopes granted to every user and per group, fully qualified, as the token customizer reads them. */
interface ScopeGrants {
  readonly defaultScopes: string[];
  readonly groups: Record<string, string[]>;
}

function scopeGrants(props: PlatformProps, identifier: string): ScopeGrants {
  const declared = new Set<string>();
  for (const scope of props.scopes ?? []) {
    requireMatch(
      'Platform',
      'scopes[].name',
      scope.name,
      SCOPE_NAME,
      'printable ASCII without spaces, quotes, / or \\',
    );
    if (declared.has(scope.name)) fail('Platform', 'scopes[].name', scope.name, 'is declared twice');
    declared.add(scope.name);
  }
  const qualify = (where: string, names: readonly string[]): string[] =>
    names.map((name) => {
      if (!declared.has(name))
        fail('Platform', where, name, `is not one of the declared scopes [${[...declared].join(', ')}]`);
      return `${identifier}/${name}`;
    });
  const groups: Record<string, string[]> = {};
  for (const group of props.groups ?? []) {
    requireMatch(
      'Platform',
      'groups[].name',
      group.name,
      /^[\p{L}\p{M}\p{S}\p{N}\p{P}]{1,128}$/u,
      'use 1-128 characters without spaces',
    );
    if (groups[group.name]) fail('Platform', 'groups[].name', group.name, 'is declared twice');
    groups[group.name] = qualify(`groups[${group.name}].scopes`, group.scopes ?? []);
  }
  return { defaultScopes: qualify('defaultScopes', props.defaultScopes ?? []), groups };
}

function visibility(metricName: string): wafv2.CfnWebACL.VisibilityConfigProperty {
  return { cloudWatchMetricsEnabled: true, sampledRequestsEnabled: true, metricName };
}

function managedRule(name: string, priority: number): wafv2.CfnWebACL.RuleProperty {
  return {
    name,
    priority,
    overrideAction: { none: {} },
    statement: { managedRuleGroupStatement: { vendorName: 'AWS', name } },
    visibilityConfig: visibility(name),
  };
}
