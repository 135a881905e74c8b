import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as targets from 'aws-cdk-lib/aws-route53-targets';
import { Construct } from 'constructs';
import type { Platform } from './platform';
import { ServiceRegistry } from './service-registry';
import { fail, requireMatch } from './validation';

// The front door: one custom domain for every service's API (`api.example.com/{service}/...`). The platform
// creates the domain and publishes its name in the registry; each service maps its stage under its own base path,
// finding the domain by name, so no stack imports another's exports.

/** Registry keys of the front door, under the platform's entries (`/{app}/{env}/platform/{key}`). */
export enum FrontDoorRegistryKey {
  /** The custom domain name, e.g. `api.example.com`. */
  DOMAIN_NAME = 'front-door/domain-name',
}

/** Registry key under which a service publishes its URL behind the front door (`/{app}/{env}/{service}/...`). */
export const FRONT_DOOR_URL_KEY = 'front-door-url';

/** A DNS name API Gateway accepts for a custom domain: lowercase labels, at least two. */
const DOMAIN_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/;
/** A REST API base path: one segment of letters, digits and `$-_.+!*'()`. */
const BASE_PATH = /^[A-Za-z0-9$\-_.+!*'()]{1,128}$/;

/** Properties of {@link FrontDoor}. */
export interface FrontDoorProps {
  /** The platform whose registry publishes the domain's name, so services find it by name. */
  readonly platform: Platform;
  /** The custom domain name clients call, e.g. `api.example.com` (lowercase). */
  readonly domainName: string;
  /**
   * The ACM certificate of `domainName`, in the API's region (a regional endpoint serves it), e.g.
   * `acm.Certificate.fromCertificateArn(this, 'Cert', arn)`.
   */
  readonly certificate: acm.ICertificate;
  /**
   * The Route 53 hosted zone that gets an alias record `domainName` → the domain's regional endpoint.
   * @default - no DNS record (point the name at `regionalDomainName` yourself)
   */
  readonly hostedZone?: route53.IHostedZone;
  /**
   * The TLS security policy. `TLS_1_0` is refused; an enhanced `SecurityPolicy_TLS13_*` policy also needs
   * `endpointAccessMode` (set to STRICT here).
   * @default apigateway.SecurityPolicy.TLS_1_2
   */
  readonly securityPolicy?: apigateway.SecurityPolicy;
}

/**
 * The platform's front door: a regional API Gateway custom domain (TLS 1.2 or later, an ACM certificate, an
 * optional Route 53 alias record) whose name is published in the service registry as
 * {@link FrontDoorRegistryKey.DOMAIN_NAME}. Each service maps its API's stage under its own base path with
 * {@link MicroserviceProps.frontDoor}, so clients see one entry point: `https://api.example.com/orders/...`.
 *
 * The APIs keep their `execute-api` endpoints: service-to-service calls ({@link ServiceCall}) are SigV4-signed
 * for the `execute-api` host and go there.
 */
export class FrontDoor extends Construct {
  /** The custom domain. */
  public readonly domain: apigateway.DomainName;
  /** The domain name clients call. */
  public readonly domainName: string;
  /** The alias record (present when a hosted zone was given). */
  public readonly aliasRecord?: route53.ARecord;

  constructor(scope: Construct, id: string, props: FrontDoorProps) {
    super(scope, id);
    requireMatch(
      'FrontDoor',
      'domainName',
      props.domainName,
      DOMAIN_NAME,
      'a lowercase DNS name with at least two labels, e.g. api.example.com',
    );
    const securityPolicy = props.securityPolicy ?? apigateway.SecurityPolicy.TLS_1_2;
    if (securityPolicy === apigateway.SecurityPolicy.TLS_1_0) {
      fail('FrontDoor', 'securityPolicy', securityPolicy, 'clients connect with TLS 1.2 or later');
    }
    this.domainName = props.domainName;
    this.domain = new apigateway.DomainName(this, 'Domain', {
      domainName: props.domainName,
      certificate: props.certificate,
      endpointType: apigateway.EndpointType.REGIONAL,
      securityPolicy,
      endpointAccessMode: securityPolicy.startsWith('SecurityPolicy_')
        ? apigateway.EndpointAccessMode.STRICT
        : undefined,
    });
    if (props.hostedZone) {
      this.aliasRecord = new route53.ARecord(this, 'AliasRecord', {
        zone: props.hostedZone,
        recordName: props.domainName,
        target: route53.RecordTarget.fromAlias(new targets.ApiGatewayDomain(this.domain)),
        comment: `${props.platform.appName} ${props.platform.envName} front door`,
      });
    }
    props.platform.registry.addParameterOnlyEntry(FrontDoorRegistryKey.DOMAIN_NAME, props.domainName);
  }
}

/** How a service is mapped on the platform's front door ({@link MicroserviceProps.frontDoor}). */
export interface ServiceFrontDoorOptions {
  /**
   * The custom domain name to map on.
   * @default - the platform's {@link FrontDoor}, read from the registry at deploy time (the platform must have
   * one)
   */
  readonly domainName?: string;
  /**
   * The base path clients use, one segment: `https://{domain}/{basePath}/{route path}`.
   * @default - the service name
   */
  readonly basePath?: string;
}

/** What {@link mapOnFrontDoor} needs of a service. */
interface FrontDoorMappingProps {
  readonly appName: string;
  readonly envName: string;
  readonly serviceName: string;
  readonly api: apigateway.RestApi;
  readonly options: ServiceFrontDoorOptions;
}

/**
 * Maps a service's API stage under its base path on the front door (an `AWS::ApiGateway::BasePathMapping` in the
 * service's stack, the domain found by name). Returns the mapping and the service's URL behind the front door.
 */
export function mapOnFrontDoor(
  scope: Construct,
  id: string,
  props: FrontDoorMappingProps,
): { mapping: apigateway.CfnBasePathMapping; url: string } {
  const basePath = props.options.basePath ?? props.serviceName;
  requireMatch(
    'Microservice',
    'frontDoor.basePath',
    basePath,
    BASE_PATH,
    "one path segment of letters, digits or $-_.+!*'()",
  );
  if (props.options.domainName !== undefined) {
    requireMatch(
      'Microservice',
      'frontDoor.domainName',
      props.options.domainName,
      DOMAIN_NAME,
      'a lowercase DNS name with at least two labels, e.g. api.example.com',
    );
  }
  const domainName =
    props.options.domainName ??
    ServiceRegistry.lookup(
      scope,
      props.appName,
      props.envName,
      ServiceRegistry.PLATFORM,
      FrontDoorRegistryKey.DOMAIN_NAME,
    );
  const mapping = new apigateway.CfnBasePathMapping(scope, id, {
    domainName,
    basePath,
    restApiId: props.api.restApiId,
    stage: props.api.deploymentStage.stageName,
  });
  return { mapping, url: `https://${domainName}/${basePath}/` };
}
