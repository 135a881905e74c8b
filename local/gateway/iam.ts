/**
 * API Gateway's AWS_IAM authorization: the request's SigV4 signature checked with the caller's secret
 * (local/sigv4.ts), then, when IAM is enforced, `execute-api:Invoke` on the method ARN for the caller.
 */
import type { AccessDecision, CallerPrincipal } from '../iam/authorizer';
import type { EmulatorEndpoint, LocalRoute } from '../model';
import { parseSigV4, verifySigV4 } from '../sigv4';
import type { Authorization } from './authorization';
import { LOCAL_ACCOUNT } from './authorization';
import type { IncomingRequest } from './request';
import { headerValue, multiValueHeader } from './request';

/** What the gateway asks of the runtime's IAM enforcement. */
export interface GatewayIam {
  /** The secret and principal of an access key; undefined when the key is unknown. */
  signer(
    accessKeyId: string,
  ): { readonly secretAccessKey: string; readonly principal: CallerPrincipal } | undefined;
  /** `execute-api:Invoke` on the method ARN of the path called. */
  authorizeInvoke(principal: CallerPrincipal, route: LocalRoute, path: string): Promise<AccessDecision>;
  /** A reason when the route's function has no permission for API Gateway (the call is answered 500). */
  integrationDenied(route: LocalRoute): { readonly decision: AccessDecision } | undefined;
  /** AWS's AccessDenied message. */
  message(decision: AccessDecision): string;
}

/** AWS's message for a signature that does not verify. */
const SIGNATURE_MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your AWS ' +
  'Secret Access Key and signing method. Consult the service documentation for details.';

/**
 * Authorizes a request to an AWS_IAM route.
 * @param route - the route called
 * @param request - the request (its body read)
 * @param emulator - the region signatures must be scoped to, and the credentials that sign when `iam` is absent
 * @param iam - IAM enforcement (who signs with which key, and whether they may invoke the route)
 * @returns the caller's identity for the proxy event, or API Gateway's 403
 */
export async function authorizeIam(
  route: LocalRoute,
  request: IncomingRequest,
  emulator: EmulatorEndpoint,
  iam: GatewayIam | undefined,
): Promise<Authorization> {
  const denied = (message: string, reason: string, types = ['ACCESS_DENIED']): Authorization => ({
    ok: false,
    rejection: { types, message, status: 403, reason },
  });
  const invalid = (reason: string) => denied(SIGNATURE_MISMATCH, reason, ['INVALID_SIGNATURE']);
  const header = headerValue(request.headers, 'authorization');
  if (!header) return denied('Missing Authentication Token', 'no Authorization header');
  const parsed = parseSigV4(header);
  if (!parsed) return denied(`Authorization header is not AWS4-HMAC-SHA256`, 'not a SigV4 signature');
  const { accessKeyId, region, service } = parsed;
  const caller = iam
    ? iam.signer(accessKeyId)
    : accessKeyId === emulator.accessKeyId
      ? { secretAccessKey: emulator.secretAccessKey, principal: undefined }
      : undefined;
  if (!caller) {
    return denied(
      'The security token included in the request is invalid.',
      `unknown access key ${accessKeyId}`,
    );
  }
  if (service !== 'execute-api' || region !== emulator.region) {
    return invalid(`credential scope ${region}/${service} is not ${emulator.region}/execute-api`);
  }
  const failure = await verifySigV4(
    {
      method: request.method,
      path: request.rawPath,
      query: request.multiValueQuery,
      header: (name) => multiValueHeader(request.multiValueHeaders, name),
      body: request.body,
    },
    parsed,
    caller.secretAccessKey,
  );
  if (failure) return invalid(failure);
  if (iam && caller.principal) {
    const decision = await iam.authorizeInvoke(
      caller.principal,
      route,
      request.calledPath.slice(route.service.length + 1),
    );
    if (!decision.allowed) return denied(iam.message(decision), decision.reason);
  }
  return {
    ok: true,
    identity: {
      accessKey: accessKeyId,
      accountId: LOCAL_ACCOUNT,
      caller: `${accessKeyId}:local`,
      user: `${accessKeyId}:local`,
      userArn: `arn:aws:iam::${LOCAL_ACCOUNT}:user/local`,
    },
  };
}
