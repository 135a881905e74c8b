// Internal to the constructs (not exported from lib/index.ts): the permissions of a synchronous call.
import { Validations } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type { IMicroservice } from './microservice-reference';
import type { ServiceCall } from './route';
import type { ServiceFunction } from './service-function';
import { nagResourceName } from './validation';

/**
 * Lets `fn` make `call` to `callee`: `execute-api:Invoke` on exactly the called route (any stage), declared for
 * `cdk-microservices check` with a concrete ARN the call matches, and the one wildcard acknowledged for cdk-nag.
 */
export function grantServiceCall(fn: ServiceFunction, callee: IMicroservice, call: ServiceCall): iam.Grant {
  const grant = callee.grantInvoke(fn, call.method, call.path);
  // A concrete method ARN the call matches (any stage; path parameters filled in).
  fn.declareAccess(
    ['execute-api:Invoke'],
    [callee.routeArn(call.method, call.path.replace(/\{[^}]+\}|\*/g, 'x'), 'stage')],
  );
  Validations.of(fn.role).acknowledge({
    id: `AwsSolutions-IAM5[Resource::${nagResourceName(fn, callee.routeArn(call.method, call.path))}]`,
    reason: `May invoke only ${call.method} ${call.path} of the ${call.service} API (found in the registry), on any stage; a trailing * stands for the path parameter.`,
  });
  return grant;
}
