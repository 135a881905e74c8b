import { Aws, CfnCondition, Fn, Stack } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as servicediscovery from 'aws-cdk-lib/aws-servicediscovery';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { IPlatform } from './platform';
import { NO_EXTERNAL_ALARM_TOPIC, PlatformRegistryKey } from './platform';
import { ServiceRegistry } from './service-registry';

/** Properties of {@link PlatformReference.fromRegistry}. */
export interface PlatformReferenceProps {
  /** Application name the platform was created with. */
  readonly appName: string;
  /** Environment name the platform was created with. */
  readonly envName: string;
}

/**
 * A platform found by name through the service registry. Every value is an SSM parameter read at deploy
 * time, so a stack that uses it never imports CloudFormation exports and can live in another app or
 * repository: `PlatformReference.fromRegistry(this, 'Platform', { appName: 'Shop', envName: 'dev' })`.
 */
export class PlatformReference extends Construct implements IPlatform {
  /** Attaches to the platform `{appName}-{envName}` through its registry entries. */
  public static fromRegistry(scope: Construct, id: string, props: PlatformReferenceProps): IPlatform {
    return new PlatformReference(scope, id, props);
  }

  /** Application name of the referenced platform. */
  public readonly appName: string;
  /** Environment name of the referenced platform. */
  public readonly envName: string;
  // The metrics namespace is the app name by convention; a literal keeps dashboards readable at synth.
  public readonly metricsNamespace: string;
  private readonly cache = new Map<string, unknown>();

  private constructor(scope: Construct, id: string, props: PlatformReferenceProps) {
    super(scope, id);
    ServiceRegistry.validateNames('PlatformReference', props.appName, props.envName);
    this.appName = props.appName;
    this.envName = props.envName;
    this.metricsNamespace = props.appName;
  }

  // Each value is read from the registry on first use only, so a stack gets a parameter for exactly the
  // platform resources it uses (no unused template parameters).

  /** The platform's user pool, imported by the ARN in the registry. */
  public get userPool(): cognito.IUserPool {
    return this.once('UserPool', () =>
      cognito.UserPool.fromUserPoolArn(this, 'UserPool', this.read(PlatformRegistryKey.USER_POOL_ARN)),
    );
  }

  /** The resource server's identifier, read from the registry at deploy time. */
  public get resourceServerIdentifier(): string {
    return this.once('ResourceServer', () => this.read(PlatformRegistryKey.RESOURCE_SERVER_ID));
  }

  /** The platform's bus, imported by the ARN in the registry. */
  public get eventBus(): events.IEventBus {
    return this.once('EventBus', () =>
      events.EventBus.fromEventBusArn(this, 'EventBus', this.read(PlatformRegistryKey.EVENT_BUS_ARN)),
    );
  }

  /** The platform's key, imported by the ARN in the registry. */
  public get encryptionKey(): kms.IKey {
    return this.once('Key', () =>
      kms.Key.fromKeyArn(this, 'Key', this.read(PlatformRegistryKey.KMS_KEY_ARN)),
    );
  }

  /** The platform's alarm topic, imported by the ARN in the registry. */
  public get alarmTopic(): sns.ITopic {
    return this.once('AlarmTopic', () =>
      sns.Topic.fromTopicArn(this, 'AlarmTopic', this.read(PlatformRegistryKey.ALARM_TOPIC_ARN)),
    );
  }

  /**
   * The alarm topic, and the platform's external alarm topic when it has one. How many there are is only
   * known at deploy time, so the second action is `Fn::If` on the registry value: AWS::NoValue (the list
   * element is dropped) when it is `none`.
   */
  public get alarmActions(): cloudwatch.IAlarmAction[] {
    return this.once('AlarmActions', () => {
      const external = this.read(PlatformRegistryKey.EXTERNAL_ALARM_TOPIC_ARN);
      const none = new CfnCondition(this, 'NoExternalAlarmTopic', {
        expression: Fn.conditionEquals(external, NO_EXTERNAL_ALARM_TOPIC),
      });
      const externalAction: cloudwatch.IAlarmAction = {
        bind: () => ({
          alarmActionArn: Fn.conditionIf(none.logicalId, Aws.NO_VALUE, external).toString(),
        }),
      };
      return [new cwActions.SnsAction(this.alarmTopic), externalAction];
    });
  }

  /** The registry's Cloud Map namespace, imported by the id in the registry. */
  public get namespace(): servicediscovery.IHttpNamespace {
    return this.once('Namespace', () => {
      // Only the id is read; the name is fixed by convention and the ARN follows from the id.
      const namespaceId = this.read(PlatformRegistryKey.NAMESPACE_ID);
      return servicediscovery.HttpNamespace.fromHttpNamespaceAttributes(this, 'Namespace', {
        namespaceId,
        namespaceName: ServiceRegistry.namespaceName(this.appName, this.envName),
        namespaceArn: Stack.of(this).formatArn({
          service: 'servicediscovery',
          resource: 'namespace',
          resourceName: namespaceId,
        }),
      });
    });
  }

  /** ARN of the platform's web ACL, read from the registry at deploy time. */
  public get webAclArn(): string {
    return this.once('WebAcl', () => this.read(PlatformRegistryKey.WEB_ACL_ARN));
  }

  private read(key: PlatformRegistryKey): string {
    return ServiceRegistry.lookup(this, this.appName, this.envName, ServiceRegistry.PLATFORM, key);
  }

  private once<T>(name: string, create: () => T): T {
    if (!this.cache.has(name)) this.cache.set(name, create());
    return this.cache.get(name) as T;
  }
}
