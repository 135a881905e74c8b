import type { Simulation } from '@cloud-copilot/iam-simulate';
import type { PolicyModel } from './policy-model';
import { loadSimulator } from './simulator';

/** Who makes a call: a function's role (as one of its sessions), or an AWS service acting for a resource. */
export type CallerPrincipal =
  | { readonly kind: 'role'; readonly roleArn: string; readonly sessionName: string }
  | { readonly kind: 'service'; readonly service: string };

/** One request as IAM sees it: principal, action, resource and the context keys AWS would set. */
export interface AccessRequest {
  readonly principal: CallerPrincipal;
  /** e.g. `dynamodb:PutItem` */
  readonly action: string;
  /** The ARN the action is on. */
  readonly resource: string;
  /** Context keys of the request (aws:SourceArn, aws:SourceAccount, kms:ViaService, ...). */
  readonly context?: Readonly<Record<string, string | readonly string[]>>;
}

/** The outcome of one evaluation, with what a log line and an AccessDenied message need. */
export interface AccessDecision {
  readonly request: AccessRequest;
  readonly allowed: boolean;
  /** The principal as AWS names it in messages (an assumed-role session ARN or a service principal). */
  readonly principalArn: string;
  /**
   * Why it is denied: which policy lacks the statement or which one denies, naming the template resources
   * (`Shop-local-Orders/ServiceRole...`); empty when allowed.
   */
  readonly reason: string;
  /** AWS's wording for the end of an AccessDenied message (`because no identity-based policy allows ...`). */
  readonly awsReason: string;
}

/**
 * Evaluates requests against a {@link PolicyModel} with `@cloud-copilot/iam-simulate`, the way AWS would for a
 * request within one account: identity policies of the caller's role, the resource policy of the target
 * (queue, topic, bus, API, function), and for KMS the key policy, which must allow the call itself or
 * delegate to IAM. Every call is made over TLS (`aws:SecureTransport` is true), as the SDK does on AWS.
 * Decisions are cached: policies do not change while the runtime runs.
 */
export class Authorizer {
  /** Decisions kept, at most; the oldest is dropped first (IAM-route paths carry ids, so keys are unbounded). */
  static readonly MAX_CACHED = 10_000;
  private readonly cache = new Map<string, Promise<AccessDecision>>();
  private readonly simulator: ReturnType<typeof loadSimulator>;

  /** @throws SimulatorUnavailableError when the optional peer `@cloud-copilot/iam-simulate` is not installed */
  constructor(readonly model: PolicyModel) {
    this.simulator = loadSimulator();
  }

  /** Evaluates one request. */
  authorize(request: AccessRequest): Promise<AccessDecision> {
    const key = JSON.stringify(request);
    let decision = this.cache.get(key);
    if (!decision) {
      decision = this.evaluate(request);
      if (this.cache.size >= Authorizer.MAX_CACHED) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(key, decision);
      decision.catch(() => this.cache.delete(key));
    }
    return decision;
  }

  /**
   * Evaluates a request and, when its target is encrypted with a customer-managed key, the KMS calls the
   * service makes with the caller's permissions (`kmsActions`, via the service): the first denial, or the
   * last decision when everything is allowed.
   */
  async authorizeWithKey(request: AccessRequest, kmsActions: readonly string[]): Promise<AccessDecision> {
    const decision = await this.authorize(request);
    if (!decision.allowed) return decision;
    const key = this.model.keyOf(request.resource);
    if (!key) return decision;
    const service = request.action.split(':')[0];
    for (const action of kmsActions) {
      const kms = await this.authorize({
        principal: request.principal,
        action,
        resource: key,
        context: {
          ...request.context,
          'kms:ViaService': `${service === 'execute-api' ? 'apigateway' : service}.${this.model.region}.amazonaws.com`,
          'kms:CallerAccount': this.model.accountId,
        },
      });
      if (!kms.allowed) return kms;
    }
    return decision;
  }

  private async evaluate(request: AccessRequest): Promise<AccessDecision> {
    const { model } = this;
    const { principal } = request;
    const role = principal.kind === 'role' ? model.role(principal.roleArn) : undefined;
    const principalArn =
      principal.kind === 'role'
        ? `arn:aws:sts::${model.accountId}:assumed-role/${role?.name ?? principal.roleArn.split('/').pop()}/${principal.sessionName}`
        : principal.service;
    const resourcePolicy = model.resourcePolicy(request.resource);
    const identityPolicies = role?.policies ?? [];
    const simulation: Simulation = {
      request: {
        principal: principalArn,
        action: request.action,
        resource: { resource: request.resource, accountId: model.accountId },
        contextVariables: {
          'aws:SecureTransport': 'true',
          ...(principal.kind === 'role'
            ? { 'aws:PrincipalArn': principal.roleArn, 'aws:PrincipalAccount': model.accountId }
            : {}),
          ...(request.context as Record<string, string | string[]> | undefined),
        },
      },
      identityPolicies: identityPolicies.map((p) => ({ name: p.name, policy: p.document })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: resourcePolicy?.document,
    };
    const result = await this.simulator.runSimulation(simulation, {});
    if (result.resultType === 'error') {
      const errors = JSON.stringify(result.errors);
      return {
        request,
        allowed: false,
        principalArn,
        reason: `the evaluator refused the request or a policy (a malformed policy or ARN): ${errors}`,
        awsReason: `because no identity-based policy allows the ${request.action} action`,
      };
    }
    if (result.overallResult === 'Allowed') {
      return { request, allowed: true, principalArn, reason: '', awsReason: '' };
    }
    const analysis = result.resultType === 'single' ? result.result.analysis : undefined;
    const denials = analysis ? this.simulator.getDenialReasons(analysis) : [];
    const explicit = denials.find((d) => d.denialType === 'Explicit');
    const isKms = request.action.startsWith('kms:');
    const roleName = role
      ? `the policies of role ${role.source} (${role.policies.map((p) => p.name).join(', ') || 'none'})`
      : undefined;
    const resourceName = resourcePolicy
      ? `the resource policy ${resourcePolicy.source}`
      : `${model.nameOf(request.resource) ?? request.resource}, which has no resource policy`;
    let reason: string;
    let awsReason: string;
    if (explicit && explicit.denialType === 'Explicit') {
      const where =
        explicit.policyType === 'resource'
          ? resourceName
          : (explicit.policyIdentifier ?? 'an identity policy');
      reason = `explicitly denied by statement ${explicit.statementId ?? `#${explicit.statementIndex}`} of ${where}`;
      awsReason = `with an explicit deny in a ${explicit.policyType === 'resource' ? 'resource' : 'identity'}-based policy`;
    } else if (isKms) {
      reason =
        `${resourceName.replace('the resource policy', 'the key policy')} has no statement allowing it` +
        (role ? `, nor one delegating to IAM that ${roleName} use` : '');
      awsReason = `because no resource-based policy allows the ${request.action} action`;
    } else if (principal.kind === 'service') {
      reason = resourcePolicy
        ? `${resourceName} has no statement allowing ${principal.service}`
        : `${model.nameOf(request.resource) ?? request.resource} has no resource policy allowing ${principal.service}`;
      awsReason = `because no resource-based policy allows the ${request.action} action`;
    } else if (!role) {
      reason = `the caller's role ${principal.roleArn} is not in the assembly`;
      awsReason = `because no identity-based policy allows the ${request.action} action`;
    } else {
      reason = `no statement in ${roleName} allows it, nor does ${resourceName}`;
      if (role.managedPolicyArns.length > 0) {
        reason += ` (AWS-managed policies ${role.managedPolicyArns.join(', ')} are not evaluated locally)`;
      }
      awsReason = `because no identity-based policy allows the ${request.action} action`;
    }
    return { request, allowed: false, principalArn, reason, awsReason };
  }
}

/** AWS's AccessDenied message for a decision. */
export function accessDeniedMessage(decision: AccessDecision): string {
  return `User: ${decision.principalArn} is not authorized to perform: ${decision.request.action} on resource: ${decision.request.resource} ${decision.awsReason}`;
}

/** One log line for a denial: principal, action, resource and which policy lacks the statement. */
export function denialLine(decision: AccessDecision, model: PolicyModel): string {
  const target = model.nameOf(decision.request.resource);
  return (
    `DENIED ${decision.principalArn} ${decision.request.action} on ${decision.request.resource}` +
    `${target ? ` (${target})` : ''}: ${decision.reason}`
  );
}
