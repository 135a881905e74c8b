import { createHash, randomBytes } from 'node:crypto';
import type { EmulatorEndpoint, LocalFunction, LocalRoute, LocalSystem } from '../model';
import type { AccessDecision, CallerPrincipal } from './authorizer';
import { Authorizer, accessDeniedMessage, denialLine } from './authorizer';
import type { Caller } from './aws-proxy';
import { AuthorizingProxy } from './aws-proxy';
import type { EvaluatedInteraction } from './interactions';
import { deriveInteractions, evaluateInteractions } from './interactions';
import { PolicyModel } from './policy-model';

/** Environment variable that turns enforcement off (`off`, `false` or `0`). */
export const ENFORCE_VARIABLE = 'CDK_MICROSERVICES_ENFORCE';

/** Whether enforcement is on by the environment (on unless the variable says off). */
export function enforcementFromEnvironment(env: NodeJS.ProcessEnv = process.env): boolean {
  return !/^(off|false|0|no)$/i.test(env[ENFORCE_VARIABLE] ?? '');
}

/** Credentials a function's execution environment gets (as Lambda gives a role session's). */
export interface FunctionCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/**
 * IAM as the local runtime enforces it: the policy model of the provisioned assembly, the authorizer, the
 * authorizing proxy every function's AWS calls go through (each function with credentials of its own, mapped
 * to its role), and the service-principal interactions evaluated at start-up (rule → queue, mapping → queue,
 * pipe → stream, bus and dead-letter queue, alarm → topic, trigger → function, API → function).
 */
export class Enforcement {
  readonly model: PolicyModel;
  readonly authorizer: Authorizer;
  readonly proxy: AuthorizingProxy;
  /** Where functions send their AWS calls (the proxy). */
  endpoint = '';
  /** The start-up interactions and their decisions. */
  interactions: readonly EvaluatedInteraction[] = [];
  /** Those AWS would refuse (fixed at start-up; the gateway consults them on every request). */
  private refused: readonly EvaluatedInteraction[] = [];
  private readonly callers = new Map<string, Caller & { credentials: FunctionCredentials }>();
  private readonly byFunction = new Map<string, FunctionCredentials>();
  private readonly secret = randomBytes(20).toString('base64url');

  private constructor(
    readonly system: LocalSystem,
    emulator: EmulatorEndpoint,
    private readonly log: (line: string) => void,
  ) {
    this.model = new PolicyModel(system.resources, system.accountId, emulator.region);
    this.authorizer = new Authorizer(this.model);
    for (const fn of system.functions.values()) this.register(fn);
    this.proxy = new AuthorizingProxy({
      emulatorEndpoint: emulator.endpoint,
      authorizer: this.authorizer,
      callerOf: (key) => this.callers.get(key),
      log: (line) => log(line),
    });
  }

  /** Builds the model, starts the proxy and evaluates the start-up interactions (denials are logged). */
  static async start(
    system: LocalSystem,
    emulator: EmulatorEndpoint,
    log: (line: string) => void,
  ): Promise<Enforcement> {
    const enforcement = new Enforcement(system, emulator, log);
    enforcement.endpoint = await enforcement.proxy.start();
    try {
      enforcement.interactions = await evaluateInteractions(
        deriveInteractions(system, emulator.region),
        enforcement.authorizer,
      );
      enforcement.refused = enforcement.interactions.filter((i) => !i.decision.allowed);
    } catch (error) {
      await enforcement.proxy.stop();
      throw error;
    }
    for (const denied of enforcement.denied()) {
      log(
        `${denialLine(denied.decision, enforcement.model)} [${denied.kind}: ${denied.from} → ${denied.to}]`,
      );
    }
    return enforcement;
  }

  /** Start-up interactions AWS would refuse. */
  denied(): readonly EvaluatedInteraction[] {
    return this.refused;
  }

  /** The credentials of a function's execution environments. */
  credentialsOf(fn: LocalFunction): FunctionCredentials {
    return this.byFunction.get(fn.key) ?? this.register(fn);
  }

  /** Who signs with an access key (a function's role session), with the secret to check signatures. */
  signer(accessKeyId: string): { secretAccessKey: string; principal: CallerPrincipal } | undefined {
    const caller = this.callers.get(accessKeyId);
    return caller && { secretAccessKey: caller.credentials.secretAccessKey, principal: caller.principal };
  }

  /** `execute-api:Invoke` of an IAM route by a SigV4 caller, on the ARN of the method and path called. */
  async authorizeInvoke(
    principal: CallerPrincipal,
    route: LocalRoute,
    path: string,
  ): Promise<AccessDecision> {
    const resource = `arn:aws:execute-api:${this.model.region}:${this.model.accountId}:${route.service}/${route.stage}/${route.method}${path}`;
    const decision = await this.authorizer.authorize({ principal, action: 'execute-api:Invoke', resource });
    if (!decision.allowed)
      this.log(`${denialLine(decision, this.model)} [IAM route ${route.method} ${path}]`);
    return decision;
  }

  /** Whether API Gateway may invoke the route's function (its Lambda permission); a denial is logged once. */
  integrationDenied(route: LocalRoute): EvaluatedInteraction | undefined {
    return this.denied().find(
      (i) =>
        i.kind === 'api → function' && i.from === `${route.service} ${route.method} ${route.resourcePath}`,
    );
  }

  /** Whether the function a queue mapping invokes may poll its queue. */
  mappingAllowed(queueArn: string, functionKey: string): boolean {
    return !this.denied().some(
      (i) =>
        i.kind === 'event source mapping → queue' &&
        i.from === functionKey &&
        i.request.resource === queueArn,
    );
  }

  /** Whether a pipe may read its stream and write its bus and dead-letter queue. */
  pipeAllowed(streamArn: string): boolean {
    return !this.denied().some((i) => i.kind.startsWith('pipe') && this.pipeStream(i.from) === streamArn);
  }

  /** Rule targets AWS would fail to deliver to: `{ ruleArn, queueArn }`. */
  deniedRuleTargets(): { readonly ruleArn: string; readonly queueArn: string }[] {
    return this.denied()
      .filter((i) => i.kind === 'rule → queue')
      .map((i) => ({ ruleArn: String(i.request.context?.['aws:SourceArn']), queueArn: i.request.resource }));
  }

  /** Cognito's denial to invoke a trigger function (by its alias or function ARN), if any. */
  triggerDeniedFor(fn: LocalFunction): AccessDecision | undefined {
    return this.denied().find(
      (i) =>
        i.kind === 'trigger → function' &&
        i.request.resource.split(':').slice(0, 7).join(':') ===
          `arn:aws:lambda:${this.model.region}:${this.system.accountId}:function:${fn.name}`,
    )?.decision;
  }

  /** AWS's message for a decision. */
  message(decision: AccessDecision): string {
    return accessDeniedMessage(decision);
  }

  async stop(): Promise<void> {
    await this.proxy.stop();
  }

  private pipeStream(from: string): string | undefined {
    const resource = this.system.resources.find((r) => `${r.stackName}/${r.logicalId}` === from);
    return resource ? String(resource.properties.Source) : undefined;
  }

  private register(fn: LocalFunction): FunctionCredentials {
    const digest = createHash('sha256').update(`${this.secret}/${fn.key}`).digest();
    let id = 'ASIA';
    for (let i = 0; i < 16; i++) id += BASE32[digest[i] % 32];
    const credentials: FunctionCredentials = {
      accessKeyId: id,
      secretAccessKey: createHash('sha256')
        .update(`secret/${this.secret}/${fn.key}`)
        .digest('base64')
        .slice(0, 40),
      sessionToken: createHash('sha256').update(`token/${this.secret}/${fn.key}`).digest('base64'),
    };
    const principal: CallerPrincipal = {
      kind: 'role',
      roleArn: fn.roleArn ?? `arn:aws:iam::${this.system.accountId}:role/unknown-role-of-${fn.name}`,
      sessionName: fn.name,
    };
    this.callers.set(id, { functionKey: fn.key, principal, credentials });
    this.byFunction.set(fn.key, credentials);
    return credentials;
  }
}
