import type { StackProps } from 'aws-cdk-lib';
import { Stack, Tags } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { MicroserviceProps } from '../constructs/microservice';
import { Microservice } from '../constructs/microservice';
import { PlatformReference } from '../constructs/platform-reference';

/** A service as the reference system declares it: everything but the platform it attaches to. */
export type ServiceDefinition = Omit<MicroserviceProps, 'platform'>;

/** Properties of {@link ServiceStack}. */
export interface ServiceStackProps extends StackProps {
  /** Application name of the platform to attach to. */
  readonly appName: string;
  /** Environment name of the platform to attach to. */
  readonly envName: string;
  /** The service. */
  readonly service: ServiceDefinition;
}

/**
 * One service in its own stack (`{app}-{env}-{Service}`), attached to the platform by name through the
 * service registry, so it deploys on its own and its template has no `Fn::ImportValue`.
 */
export class ServiceStack extends Stack {
  public readonly service: Microservice;

  constructor(scope: Construct, id: string, props: ServiceStackProps) {
    super(scope, id, props);
    Tags.of(this).add('app', props.appName);
    Tags.of(this).add('environment', props.envName);
    Tags.of(this).add('service', props.service.serviceName);
    const platform = PlatformReference.fromRegistry(this, 'Platform', {
      appName: props.appName,
      envName: props.envName,
    });
    this.service = new Microservice(this, 'Service', { ...props.service, platform });
  }
}
