import { Stack } from 'aws-cdk-lib';
import * as servicediscovery from 'aws-cdk-lib/aws-servicediscovery';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { fail, requireMatch } from './validation';

const APP_NAME = /^[A-Za-z][A-Za-z0-9-]{0,31}$/;
const ENV_NAME = /^[a-z][a-z0-9-]{0,15}$/;
const SERVICE_NAME = /^[a-z][a-z0-9-]{1,30}$/;
const ENTRY_KEY = /^[a-z0-9][a-z0-9-]*(\/[a-z0-9][a-z0-9-]*)*$/;
/** Cloud Map allows 30 custom attributes per instance. */
const MAX_DISCOVERY_ATTRIBUTES = 30;

/**
 * Names in the service registry. Every shared value lives in SSM Parameter Store under
 * `/{app}/{env}/{service}/{key}` and the discoverable ones are mirrored as attributes of the
 * service's instance in the platform's Cloud Map HTTP namespace `{app}-{env}`.
 */
export class ServiceRegistry {
  /** The registry "service" that holds the platform's shared resources. */
  static readonly PLATFORM = 'platform';

  /** Throws unless `appName` and `envName` can be used in parameter, namespace and stack names. */
  static validateNames(construct: string, appName: string, envName: string): void {
    requireMatch(
      construct,
      'appName',
      appName,
      APP_NAME,
      'use a letter then up to 31 letters, digits or hyphens',
    );
    requireMatch(
      construct,
      'envName',
      envName,
      ENV_NAME,
      'use a lowercase letter then up to 15 lowercase letters, digits or hyphens',
    );
  }

  /** Throws unless `serviceName` is a valid lowercase service name (2-31 characters). */
  static validateServiceName(construct: string, serviceName: string): void {
    if (serviceName === ServiceRegistry.PLATFORM) {
      fail(construct, 'serviceName', serviceName, "is reserved for the platform's own registry entries");
    }
    requireMatch(
      construct,
      'serviceName',
      serviceName,
      SERVICE_NAME,
      'use a lowercase letter then 1-30 lowercase letters, digits or hyphens',
    );
  }

  /** The SSM parameter name of one registry entry: `/{app}/{env}/{service}/{key}`. */
  static parameterName(appName: string, envName: string, serviceName: string, key: string): string {
    return `/${appName}/${envName}/${serviceName}/${key}`;
  }

  /** The Cloud Map HTTP namespace of a platform: `{app}-{env}`, lowercase. */
  static namespaceName(appName: string, envName: string): string {
    return `${appName}-${envName}`.toLowerCase();
  }

  /**
   * Reads one registry entry at deploy time. The value becomes an SSM-typed CloudFormation parameter,
   * so the reading stack has no `Fn::ImportValue` and deploys independently of the writer.
   */
  static lookup(
    scope: Construct,
    appName: string,
    envName: string,
    serviceName: string,
    key: string,
  ): string {
    return ssm.StringParameter.valueForStringParameter(
      scope,
      ServiceRegistry.parameterName(appName, envName, serviceName, key),
    );
  }
}

/** Properties of {@link RegistryEntries}. */
export interface RegistryEntriesProps {
  /** Application name, the first level of every parameter name. */
  readonly appName: string;
  /** Environment name, the second level of every parameter name. */
  readonly envName: string;
  /** The service the entries describe (`platform` for the platform itself). */
  readonly serviceName: string;
  /** Human-readable description of the service, used for the Cloud Map service. */
  readonly description: string;
  /** The platform's Cloud Map namespace the service registers its instance in. */
  readonly namespace: servicediscovery.IHttpNamespace;
  /**
   * Entries published as SSM parameters and mirrored into Cloud Map (key → value).
   * Keys are lowercase words separated by hyphens, optionally nested with `/`.
   */
  readonly entries: Record<string, string>;
  /**
   * Entries published to SSM only (e.g. one per function), kept out of Cloud Map's 30-attribute limit.
   * @default - none
   */
  readonly parameterOnlyEntries?: Record<string, string>;
}

/**
 * Publishes a service's entries into the service registry: one SSM String parameter per entry and one
 * Cloud Map service instance carrying the discoverable entries as attributes.
 */
export class RegistryEntries extends Construct {
  /** The SSM parameters written, by entry key. */
  public readonly parameters: Record<string, ssm.StringParameter> = {};
  /** The Cloud Map service registered in the platform namespace. */
  public readonly discoveryService: servicediscovery.Service;

  constructor(scope: Construct, id: string, props: RegistryEntriesProps) {
    super(scope, id);
    const all = { ...props.entries, ...(props.parameterOnlyEntries ?? {}) };
    for (const key of Object.keys(all)) requireEntryKey(key);
    const discoverable = Object.keys(props.entries);
    if (discoverable.length > MAX_DISCOVERY_ATTRIBUTES) {
      fail(
        'RegistryEntries',
        'entries',
        discoverable,
        `Cloud Map allows at most ${MAX_DISCOVERY_ATTRIBUTES} attributes per instance`,
      );
    }

    this.props = props;
    for (const [key, value] of Object.entries(all)) this.addParameter(key, value);

    this.discoveryService = new servicediscovery.Service(this, 'Discovery', {
      namespace: props.namespace,
      name: props.serviceName,
      description: props.description,
    });
    this.discoveryService.registerNonIpInstance('Instance', {
      instanceId: `${props.serviceName}-${props.envName}`,
      customAttributes: { ...props.entries },
    });
  }

  /**
   * Publishes one more entry to SSM only (not to Cloud Map), e.g. the function of a route added after the
   * service was created. Keys are lowercase words separated by hyphens, optionally nested with `/`.
   */
  public addParameterOnlyEntry(key: string, value: string): ssm.StringParameter {
    requireEntryKey(key);
    if (this.parameters[key]) fail('RegistryEntries', 'entries key', key, 'is already published');
    return this.addParameter(key, value);
  }

  private addParameter(key: string, value: string): ssm.StringParameter {
    const { appName, envName, serviceName } = this.props;
    this.parameters[key] = new ssm.StringParameter(this, `Param-${key}`, {
      parameterName: ServiceRegistry.parameterName(appName, envName, serviceName, key),
      stringValue: value,
      description: `${serviceName} ${key} (${appName} ${envName}), written by ${Stack.of(this).stackName}`,
    });
    return this.parameters[key];
  }

  private readonly props: RegistryEntriesProps;
}

/** Registry entry keys are lowercase words separated by hyphens, optionally nested with `/`. */
function requireEntryKey(key: string): void {
  requireMatch(
    'RegistryEntries',
    'entries key',
    key,
    ENTRY_KEY,
    'use lowercase words separated by hyphens or /',
  );
}
