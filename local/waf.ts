/**
 * The web ACLs of the cloud assembly, evaluated by the local API gateway on every request as AWS WAF
 * evaluates the web ACL associated with an API stage: rules in priority order, rule actions (Block, Allow,
 * Count, CAPTCHA, Challenge), rule groups with their OverrideAction, RuleActionOverrides, ExcludedRules and
 * scope-down statements, labels, and the default action. A request the web ACL does not allow is answered
 * with the API's WAF_FILTERED gateway response (403), before authorization.
 * https://docs.aws.amazon.com/waf/latest/developerguide/web-acl-processing-order.html
 *
 * The web ACLs come from the provisioner's resolved resources (AWS::WAFv2::WebACL in the platform stack,
 * AWS::WAFv2::WebACLAssociation in each service stack, whose WebACLArn comes from the registry).
 */
import type { ManagedRuleGroup } from './waf/managed-rules';
import { MANAGED_RULE_GROUPS, NOT_EMULATED_MANAGED_RULES } from './waf/managed-rules';
import type { WafRequest } from './waf/request';
import { DEFAULT_BODY_INSPECTION_LIMIT, InspectedRequest } from './waf/request';
import type { CompileEnvironment, EvaluationContext, Predicate, ReferencedResource } from './waf/statements';
import { compileStatement, statementType } from './waf/statements';

export type { WafRequest } from './waf/request';
export { NOT_EMULATED_MANAGED_RULES } from './waf/managed-rules';
export { NOT_EMULATED_STATEMENTS } from './waf/statements';

type Props = Readonly<Record<string, unknown>>;

/** A resolved resource of the assembly, as the provisioner records it (`LocalSystem.resources`). */
export interface WafResourceInput {
  readonly stackName: string;
  readonly logicalId: string;
  readonly type: string;
  readonly properties: Props;
  /** `Fn::GetAtt` values; `Arn` is what other resources refer to. */
  readonly attributes?: Readonly<Record<string, unknown>>;
  readonly ref?: string;
}

/** What a web ACL decided for one request. */
export interface WafVerdict {
  readonly action: 'ALLOW' | 'BLOCK' | 'CAPTCHA' | 'CHALLENGE';
  readonly webAcl: string;
  /** The terminating rule (`Rule`, `{vendor}-{group}/{rule}` or `{group}/{rule}`); undefined: the default action. */
  readonly rule?: string;
  /** Rules that matched with a Count action (or under a Count override). */
  readonly counted: readonly string[];
  /** Labels the request carries after evaluation. */
  readonly labels: readonly string[];
}

type Action = WafVerdict['action'] | 'COUNT';

/** What one rule decided: a terminating action, or nothing (no match, or Count). */
interface Outcome {
  readonly action: WafVerdict['action'];
  readonly rule: string;
}

interface RuleState extends EvaluationContext {
  readonly counted: string[];
}

interface CompiledRule {
  readonly name: string;
  readonly priority: number;
  readonly evaluate: (state: RuleState) => Outcome | undefined;
}

function actionOf(action: unknown): Action | undefined {
  const [key] = Object.keys((action ?? {}) as Props);
  switch (key) {
    case 'Block':
      return 'BLOCK';
    case 'Allow':
      return 'ALLOW';
    case 'Count':
      return 'COUNT';
    case 'Captcha':
      return 'CAPTCHA';
    case 'Challenge':
      return 'CHALLENGE';
    default:
      return undefined;
  }
}

/** Names of rules whose action is overridden (RuleActionOverrides; ExcludedRules mean Count). */
function overridesOf(statement: Props): Map<string, Action> {
  const overrides = new Map<string, Action>();
  for (const excluded of (statement.ExcludedRules as Props[] | undefined) ?? [])
    overrides.set(String(excluded.Name), 'COUNT');
  for (const override of (statement.RuleActionOverrides as Props[] | undefined) ?? []) {
    const action = actionOf(override.ActionToUse);
    if (action) overrides.set(String(override.Name), action);
  }
  return overrides;
}

function bodyLimitOf(properties: Props): number {
  const config = properties.AssociationConfig as Props | undefined;
  const apiGateway = (config?.RequestBody as Props | undefined)?.API_GATEWAY as Props | undefined;
  const kb = /^KB_(\d+)$/.exec(String(apiGateway?.DefaultSizeInspectionLimit ?? ''))?.[1];
  return kb ? Number(kb) * 1024 : DEFAULT_BODY_INSPECTION_LIMIT;
}

/** A compiled AWS::WAFv2::WebACL. */
export class WebAcl {
  readonly name: string;
  readonly arn: string;
  readonly defaultAction: WafVerdict['action'];
  /** What this web ACL uses that is not emulated (each reported once, at start-up). */
  readonly notEmulated: readonly string[];
  private readonly rules: readonly CompiledRule[];
  private readonly bodyLimit: number;
  private readonly labelPrefix: string;

  constructor(
    resource: { readonly name: string; readonly arn: string; readonly properties: Props },
    byArn: ReadonlyMap<string, ReferencedResource> = new Map(),
  ) {
    this.name = resource.name;
    this.arn = resource.arn;
    const properties = resource.properties;
    const defaultAction = actionOf(properties.DefaultAction);
    this.defaultAction = defaultAction === 'BLOCK' ? 'BLOCK' : 'ALLOW';
    this.bodyLimit = bodyLimitOf(properties);
    const account = resource.arn.split(':')[4] || '000000000000';
    this.labelPrefix = `awswaf:${account}:webacl:${this.name}:`;
    const notEmulated = new Set<string>();
    this.rules = compileRules(properties.Rules, {
      byArn,
      labelPrefix: this.labelPrefix,
      account,
      notEmulated: (what) => notEmulated.add(what),
    });
    this.notEmulated = [...notEmulated];
  }

  /** Evaluates the rules in priority order against one request. */
  evaluate(request: WafRequest, now: number = Date.now()): WafVerdict {
    const state: RuleState = {
      request: new InspectedRequest(request, this.bodyLimit),
      labels: new Set(),
      now,
      counted: [],
    };
    for (const rule of this.rules) {
      const outcome = rule.evaluate(state);
      if (outcome) {
        return {
          action: outcome.action,
          webAcl: this.name,
          rule: outcome.rule,
          counted: state.counted,
          labels: [...state.labels],
        };
      }
    }
    return {
      action: this.defaultAction,
      webAcl: this.name,
      counted: state.counted,
      labels: [...state.labels],
    };
  }
}

interface RulesEnvironment {
  readonly byArn: ReadonlyMap<string, ReferencedResource>;
  /** Prefix of the labels the rules add (`awswaf:{account}:webacl:{name}:` or `...:rulegroup:{name}:`). */
  readonly labelPrefix: string;
  readonly account: string;
  readonly notEmulated: (what: string) => void;
  /** Prefix of rule names in verdicts (`{group}/` inside a rule group). */
  readonly namePrefix?: string;
}

function compileRules(rules: unknown, env: RulesEnvironment): CompiledRule[] {
  return ((rules as Props[] | undefined) ?? [])
    .map((rule) => compileRule(rule, env))
    .filter((rule): rule is CompiledRule => rule !== undefined)
    .sort((a, b) => a.priority - b.priority);
}

function compileRule(rule: Props, env: RulesEnvironment): CompiledRule | undefined {
  const name = String(rule.Name ?? '(unnamed)');
  const priority = Number(rule.Priority ?? 0);
  const [type, body] = statementType(rule.Statement as Props | undefined);
  const statementEnv: CompileEnvironment = {
    byArn: env.byArn,
    notEmulated: (what) => env.notEmulated(`${env.namePrefix ?? ''}${name}: ${what}`),
  };
  if (type === 'ManagedRuleGroupStatement' || type === 'RuleGroupReferenceStatement') {
    const group =
      type === 'ManagedRuleGroupStatement' ? managedGroup(name, body, env) : ruleGroup(name, body, env);
    if (!group) return undefined;
    return { name, priority, evaluate: groupRule(rule, body, group, statementEnv) };
  }
  const matches = compileStatement(rule.Statement as Props | undefined, statementEnv);
  const action = actionOf(rule.Action) ?? 'BLOCK';
  const labels = ((rule.RuleLabels as Props[] | undefined) ?? []).map(
    (label) => `${env.labelPrefix}${String(label.Name)}`,
  );
  const display = `${env.namePrefix ?? ''}${name}`;
  return {
    name,
    priority,
    evaluate: (state) => {
      if (matches(state) !== true) return undefined;
      for (const label of labels) state.labels.add(label);
      if (action === 'COUNT') {
        state.counted.push(display);
        return undefined;
      }
      return { action, rule: display };
    },
  };
}

/** The rules of a group in evaluation order, each deciding with its own action (before overrides). */
interface GroupRules {
  /** How the group is named in verdicts, e.g. `AWS-AWSManagedRulesCommonRuleSet`. */
  readonly display: string;
  readonly rules: readonly {
    readonly name: string;
    /** The rule's action when it matches (labels added), undefined when it does not match. */
    readonly evaluate: (state: RuleState) => Action | undefined;
  }[];
}

function managedGroup(ruleName: string, body: Props, env: RulesEnvironment): GroupRules | undefined {
  const vendor = String(body.VendorName ?? '');
  const groupName = String(body.Name ?? '');
  const group: ManagedRuleGroup | undefined = MANAGED_RULE_GROUPS.get(`${vendor}/${groupName}`);
  const display = `${vendor}-${groupName}`;
  if (!group) {
    const known = NOT_EMULATED_MANAGED_RULES.find((entry) => entry.what.includes(groupName));
    env.notEmulated(
      `${display} (rule ${ruleName})${known ? `: ${known.why}` : ': managed rule group not emulated'}`,
    );
    return undefined;
  }
  for (const part of group.notEmulated) env.notEmulated(`${display}/${part.rules}: ${part.why}`);
  return {
    display,
    rules: group.rules.map((managed) => ({
      name: managed.name,
      evaluate: (state: RuleState) => {
        if (!managed.matches(state.request)) return undefined;
        state.labels.add(managed.label);
        return 'BLOCK';
      },
    })),
  };
}

function ruleGroup(ruleName: string, body: Props, env: RulesEnvironment): GroupRules | undefined {
  const arn = String(body.Arn ?? '');
  const group = env.byArn.get(arn);
  if (!group || group.type !== 'AWS::WAFv2::RuleGroup') {
    env.notEmulated(`${ruleName}: rule group ${arn} is not in the assembly`);
    return undefined;
  }
  const labelPrefix = `awswaf:${env.account}:rulegroup:${group.name}:`;
  const compiled = ((group.properties.Rules as Props[] | undefined) ?? [])
    .slice()
    .sort((a, b) => Number(a.Priority ?? 0) - Number(b.Priority ?? 0))
    .map((rule) => {
      const name = String(rule.Name ?? '(unnamed)');
      const matches = compileStatement(rule.Statement as Props | undefined, {
        byArn: env.byArn,
        notEmulated: (what) => env.notEmulated(`${group.name}/${name}: ${what}`),
      });
      const action = actionOf(rule.Action) ?? 'BLOCK';
      const labels = ((rule.RuleLabels as Props[] | undefined) ?? []).map(
        (l) => `${labelPrefix}${String(l.Name)}`,
      );
      return {
        name,
        evaluate: (state: RuleState): Action | undefined => {
          if (matches(state) !== true) return undefined;
          for (const label of labels) state.labels.add(label);
          return action;
        },
      };
    });
  return { display: group.name, rules: compiled };
}

/**
 * A web ACL rule that runs a rule group: its scope-down statement first (managed groups), then the group's
 * rules in order with RuleActionOverrides / ExcludedRules applied; the first terminating action ends the
 * group, and becomes the web ACL's unless the rule's OverrideAction is Count.
 */
function groupRule(
  rule: Props,
  body: Props,
  group: GroupRules,
  env: CompileEnvironment,
): (state: RuleState) => Outcome | undefined {
  const scopeDown: Predicate | undefined =
    body.ScopeDownStatement !== undefined
      ? compileStatement(body.ScopeDownStatement as Props, env)
      : undefined;
  const overrides = overridesOf(body);
  const countAll = actionOf(rule.OverrideAction) === 'COUNT';
  return (state) => {
    if (scopeDown && scopeDown(state) !== true) return undefined;
    for (const inner of group.rules) {
      const own = inner.evaluate(state);
      if (own === undefined) continue;
      const action = overrides.get(inner.name) ?? own;
      const display = `${group.display}/${inner.name}`;
      if (action === 'COUNT') {
        state.counted.push(display);
        continue;
      }
      if (countAll) {
        state.counted.push(display);
        return undefined;
      }
      return { action, rule: display };
    }
    return undefined;
  };
}

// --- The gateway's view -----------------------------------------------------------------------------------

/** The request as the local gateway read it (structurally its IncomingRequest). */
export interface GatewayRequest {
  readonly method: string;
  /** Path as sent (percent-encoded), without the query. */
  readonly rawPath: string;
  readonly rawQuery: string;
  readonly multiValueHeaders: Readonly<Record<string, readonly string[]>>;
  readonly body: Buffer;
  readonly sourceIp: string;
}

/** A WAF refusal, in the shape of the gateway's rejections (rendered with the API's WAF_FILTERED response). */
export interface WafRejection {
  readonly types: readonly string[];
  readonly message: string;
  readonly status: number;
  /** For the access log: the web ACL, the rule and the client. */
  readonly reason: string;
}

/** Options of {@link WebAclGuard}. */
export interface WebAclGuardOptions {
  /** Clock of the rate-based rules (ms). @default Date.now */
  readonly now?: () => number;
}

/** Hosts a client uses to reach the local gateway; WAF sees the API's own domain instead. */
const LOOPBACK_HOST = /^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\]|0\.0\.0\.0)(?::\d+)?$/i;

/**
 * The web ACL of each service's API stage, evaluated per request by the local gateway. A service whose stage
 * has no association is not filtered (as on AWS).
 */
export class WebAclGuard {
  private readonly now: () => number;

  private constructor(
    private readonly byService: ReadonlyMap<string, { acl: WebAcl; host: string }>,
    private readonly warnings: readonly string[],
    options: WebAclGuardOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /**
   * The web ACLs of the assembly and the API stages they are associated with, from the resolved resources
   * (`LocalSystem.resources`). Undefined when no API has a web ACL.
   */
  static fromResources(
    resources: readonly WafResourceInput[],
    options: WebAclGuardOptions = {},
  ): WebAclGuard | undefined {
    const arnOf = (r: WafResourceInput) =>
      String(r.attributes?.Arn ?? r.ref ?? `${r.stackName}/${r.logicalId}`);
    const nameOf = (r: WafResourceInput) =>
      String(r.properties.Name ?? r.attributes?.Name ?? `${r.stackName}-${r.logicalId}`);
    const byArn = new Map<string, ReferencedResource>();
    for (const r of resources) {
      if (['AWS::WAFv2::IPSet', 'AWS::WAFv2::RegexPatternSet', 'AWS::WAFv2::RuleGroup'].includes(r.type))
        byArn.set(arnOf(r), { type: r.type, name: nameOf(r), properties: r.properties });
    }
    const acls = new Map<string, WebAcl>();
    const aclOf = (arn: string) => {
      let acl = acls.get(arn);
      if (!acl) {
        const resource = resources.find((r) => r.type === 'AWS::WAFv2::WebACL' && arnOf(r) === arn);
        if (!resource) return undefined;
        acl = new WebAcl({ name: nameOf(resource), arn, properties: resource.properties }, byArn);
        acls.set(arn, acl);
      }
      return acl;
    };
    const byService = new Map<string, { acl: WebAcl; host: string }>();
    const warnings: string[] = [];
    for (const association of resources.filter((r) => r.type === 'AWS::WAFv2::WebACLAssociation')) {
      const where = `${association.stackName}/${association.logicalId}`;
      const resourceArn = String(association.properties.ResourceArn ?? '');
      const stage = /^arn:[^:]+:apigateway:([^:]*):[^:]*:\/restapis\/([^/]+)\/stages\/([^/]+)$/.exec(
        resourceArn,
      );
      if (!stage) {
        warnings.push(`${where}: ${resourceArn || 'no ResourceArn'} is not an API stage; not emulated`);
        continue;
      }
      const acl = aclOf(String(association.properties.WebACLArn ?? ''));
      if (!acl) {
        warnings.push(`${where}: web ACL ${String(association.properties.WebACLArn)} is not in the assembly`);
        continue;
      }
      const [, region, service] = stage;
      byService.set(service, { acl, host: `${service}.execute-api.${region || 'us-east-1'}.amazonaws.com` });
    }
    if (byService.size === 0 && warnings.length === 0) return undefined;
    return new WebAclGuard(byService, warnings, options);
  }

  /** The web ACL of a service's API, if any. */
  aclOf(service: string): WebAcl | undefined {
    return this.byService.get(service)?.acl;
  }

  /** Lines for the start-up log: what is enforced where, and (once) what is not emulated. */
  describe(): string[] {
    const services = new Map<WebAcl, string[]>();
    for (const [service, { acl }] of this.byService)
      services.set(acl, [...(services.get(acl) ?? []), service]);
    const lines = [...this.warnings.map((w) => `Warning: ${w}`)];
    for (const [acl, names] of services) {
      lines.push(`web ACL ${acl.name} on ${names.sort().join(', ')}: default ${acl.defaultAction}`);
      for (const what of acl.notEmulated) lines.push(`  not emulated: ${what}`);
    }
    return lines;
  }

  /** Evaluates the service's web ACL; a rejection to render when it does not allow the request. */
  inspect(service: string, request: GatewayRequest): WafRejection | undefined {
    const entry = this.byService.get(service);
    if (!entry) return undefined;
    const headers: [string, string][] = [];
    for (const [name, values] of Object.entries(request.multiValueHeaders)) {
      for (const value of values) {
        const host = name.toLowerCase() === 'host' && LOOPBACK_HOST.test(value.trim());
        headers.push([name, host ? entry.host : value]);
      }
    }
    const verdict = entry.acl.evaluate(
      {
        method: request.method,
        uriPath: request.rawPath,
        queryString: request.rawQuery,
        headers,
        body: request.body,
        sourceIp: request.sourceIp,
      },
      this.now(),
    );
    if (verdict.action === 'ALLOW') return undefined;
    const how =
      verdict.action === 'BLOCK'
        ? 'blocked'
        : `${verdict.action} (an API client holds no WAF token: treated as blocked)`;
    return {
      types: ['WAF_FILTERED'],
      message: 'Forbidden',
      status: 403,
      reason: `${how} by web ACL ${verdict.webAcl}, rule ${verdict.rule ?? '(default action)'}, client ${request.sourceIp}`,
    };
  }
}
