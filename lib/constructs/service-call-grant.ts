// Internal to the constructs (not exported from lib/index.ts): the permissions of a synchronous call.
import { Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { IMicroservice } from './microservice-reference';
import type { HttpMethod, ServiceCall } from './route';
import type { ServiceFunction } from './service-function';
import { nagResourceName } from './validation';

/**
 * `execute-api:Invoke` on `routeArn` (one route of the API named `route.api`, any stage) for `grantee`. The ARN's
 * wildcards (the stage, path parameters) are the route's and nothing more, so the cdk-nag finding on them is
 * acknowledged on the grantee's principal, naming that one ARN.
 */
export function grantRouteInvoke(
  grantee: iam.IGrantable,
  routeArn: string,
  route: { readonly api: string; readonly method: HttpMethod; readonly path: string },
): iam.Grant {
  const grant = iam.Grant.addToPrincipal({
    grantee,
    actions: ['execute-api:Invoke'],
    resourceArns: [routeArn],
  });
  const principal = grantee.grantPrincipal as unknown;
  if (Construct.isConstruct(principal)) {
    Validations.of(principal).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagResourceName(principal, routeArn)}]`,
      reason: `May invoke only ${route.method} ${route.path} of the ${route.api} API, on any stage; a * in the path stands for a path parameter.`,
    });
  }
  return grant;
}

/**
 * Lets `fn` make `call` to `callee`: `execute-api:Invoke` on exactly the called route (any stage), declared for
 * `cdk-microservices check` with a concrete ARN the call matches.
 */
export function grantServiceCall(fn: ServiceFunction, callee: IMicroservice, call: ServiceCall): iam.Grant {
  const grant = callee.grantInvoke(fn, call.method, call.path);
  // A concrete method ARN the call matches (any stage; path parameters filled in).
  fn.declareAccess(
    ['execute-api:Invoke'],
    [callee.routeArn(call.method, call.path.replace(/\{[^}]+\}|\*/g, 'x'), 'stage')],
  );
  return grant;
}
