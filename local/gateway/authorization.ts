/**
 * The outcome of a route's authorizer (Cognito user pool or IAM), shared by both.
 */
import type { Rejection } from './responses';

/** Placeholder account of the local APIs and of IAM callers (moto's default account). */
export const LOCAL_ACCOUNT = '123456789012';

/** An authorizer's refusal. */
export interface Refusal {
  /** Always false: the request is refused. */
  readonly ok: false;
  /** The gateway response to render. */
  readonly rejection: Rejection;
}

/** The outcome of an authorizer: claims (Cognito) or identity (IAM) for the proxy event, or a refusal. */
export type Authorization =
  | {
      readonly ok: true;
      /** `requestContext.authorizer.claims` (Cognito). */
      readonly claims?: Record<string, string>;
      /** Fields of `requestContext.identity` (IAM). */
      readonly identity?: Record<string, string>;
    }
  | Refusal;

/**
 * A Cognito authorizer's 401 for a missing, malformed or unacceptable token.
 * @param reason - why, for the access log only
 */
export function unauthorized(reason: string): Refusal {
  return { ok: false, rejection: { types: ['UNAUTHORIZED'], message: 'Unauthorized', status: 401, reason } };
}
