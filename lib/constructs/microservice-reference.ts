import { Stack } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';
import { Construct } from 'constructs';
import { EventType } from './event-type';
import type { HttpMethod } from './route';
import { grantRouteInvoke } from './service-call-grant';
import { ServiceRegistry } from './service-registry';

/** Registry keys a microservice publishes under `/{app}/{env}/{service}/`. */
export enum ServiceRegistryKey {
  API_URL = 'api-url',
  API_ID = 'api-id',
  TABLE_NAME = 'table-name',
  TABLE_ARN = 'table-arn',
}

/**
 * What other stacks need of a microservice, whether defined in this app ({@link Microservice}) or found by name
 * ({@link Microservice.fromRegistry}): where its API is, permission to call its routes, the source of its events.
 */
export interface IMicroservice extends IConstruct {
  /** The service name. */
  readonly serviceName: string;
  /** The API's invoke URL (stage included, trailing slash). */
  readonly apiUrl: string;
  /** The REST API's id. */
  readonly apiId: string;
  /** EventBridge source of the service's events: `{app}.{service}`. */
  readonly eventSource: string;
  /**
   * The `execute-api` ARN of `method path` on `stage`; path parameters (`{id}`) and a trailing `*` match any
   * value.
   */
  routeArn(method: HttpMethod, path: string, stage?: string): string;
  /** Allows `grantee` to call `method path` (a route with `RouteAccess.IAM`) on any stage. */
  grantInvoke(grantee: iam.IGrantable, method: HttpMethod, path: string): iam.Grant;
}

/** Properties of {@link Microservice.fromRegistry}. */
export interface MicroserviceReferenceProps {
  /** Application name of the platform the service attaches to. */
  readonly appName: string;
  /** Environment name of the platform the service attaches to. */
  readonly envName: string;
  /** The service. */
  readonly serviceName: string;
}

/**
 * A microservice found by name through the service registry: its API URL and id are SSM parameters read at
 * deploy time (only those used), so the referencing stack deploys independently of the service's.
 */
export class MicroserviceReference extends Construct implements IMicroservice {
  public readonly serviceName: string;
  public readonly eventSource: string;
  private readonly appName: string;
  private readonly envName: string;

  constructor(scope: Construct, id: string, props: MicroserviceReferenceProps) {
    super(scope, id);
    ServiceRegistry.validateNames('Microservice.fromRegistry', props.appName, props.envName);
    ServiceRegistry.validateServiceName('Microservice.fromRegistry', props.serviceName);
    this.serviceName = props.serviceName;
    this.appName = props.appName;
    this.envName = props.envName;
    this.eventSource = EventType.sourceOf(props.appName, props.serviceName);
  }

  public get apiUrl(): string {
    return this.read(ServiceRegistryKey.API_URL);
  }

  public get apiId(): string {
    return this.read(ServiceRegistryKey.API_ID);
  }

  public routeArn(method: HttpMethod, path: string, stage = '*'): string {
    return Stack.of(this).formatArn({
      service: 'execute-api',
      resource: this.apiId,
      resourceName: `${stage}/${method}${path.replace(/\{[^}]+\}/g, '*')}`,
    });
  }

  public grantInvoke(grantee: iam.IGrantable, method: HttpMethod, path: string): iam.Grant {
    return grantRouteInvoke(grantee, this.routeArn(method, path), { api: this.serviceName, method, path });
  }

  private read(key: ServiceRegistryKey): string {
    return ServiceRegistry.lookup(this, this.appName, this.envName, this.serviceName, key);
  }
}
