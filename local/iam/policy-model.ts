import type { ResolvedResource } from '../model';

/** An IAM policy document as templates hold it. */
export interface PolicyDocument {
  readonly Version?: string;
  readonly Statement: readonly Record<string, unknown>[];
}

/** A named policy of a role (inline, `AWS::IAM::Policy` or customer-managed). */
export interface NamedPolicy {
  /** `{stack}/{logicalId}` of the resource that holds it (what a log line names). */
  readonly name: string;
  readonly document: PolicyDocument;
}

/** An execution role and what its identity policies say. */
export interface RoleModel {
  readonly arn: string;
  readonly name: string;
  /** `{stack}/{logicalId}` of the AWS::IAM::Role. */
  readonly source: string;
  readonly policies: readonly NamedPolicy[];
  /** AWS-managed policies attached by ARN: their contents are not known locally. */
  readonly managedPolicyArns: readonly string[];
}

/** A resource policy (queue, topic, key, function permissions, bus, API) and where it comes from. */
export interface ResourcePolicy {
  /** What a log line names, e.g. `Shop-local-Orders/QueuePolicy1234 (AWS::SQS::QueuePolicy)`. */
  readonly source: string;
  readonly document: PolicyDocument;
}

/**
 * What AWS would evaluate a call against, built from the resolved resources of a cloud assembly: the identity
 * policies of every role, the resource policies of queues, topics, buses, APIs and functions (each
 * `AWS::Lambda::Permission` becomes a statement of its function's policy, per qualifier, as Lambda keeps it),
 * the key policy of every KMS key and which key encrypts which table, stream, queue and topic.
 */
export class PolicyModel {
  readonly accountId: string;
  readonly region: string;
  private readonly roles = new Map<string, RoleModel>();
  private readonly resourcePolicies = new Map<
    string,
    { sources: string[]; statements: Record<string, unknown>[] }
  >();
  private readonly keysOf = new Map<string, string>();
  private readonly names = new Map<string, string>();

  constructor(resources: readonly ResolvedResource[], accountId: string, region: string) {
    this.accountId = accountId;
    this.region = region;
    this.build(resources);
  }

  /** The role with this ARN, or undefined when the assembly has none. */
  role(arn: string): RoleModel | undefined {
    return this.roles.get(arn);
  }

  /** The resource policy of an ARN (for a function: of exactly this qualifier), if any. */
  resourcePolicy(arn: string): ResourcePolicy | undefined {
    // An API's policy (kept under `{api}/*`) applies to every method ARN of the API.
    const api = /^(arn:[^:]+:execute-api:[^:]*:[^:]*:[^/]+)\//.exec(arn)?.[1];
    const policy =
      this.resourcePolicies.get(arn) ?? (api ? this.resourcePolicies.get(`${api}/*`) : undefined);
    if (!policy) return undefined;
    return {
      source: policy.sources.join(', '),
      document: { Version: '2012-10-17', Statement: policy.statements },
    };
  }

  /** ARN of the customer-managed key that encrypts the resource (a table's index or stream: the table's). */
  keyOf(resourceArn: string): string | undefined {
    const direct = this.keysOf.get(resourceArn);
    if (direct) return direct;
    const table = /^(arn:[^:]+:dynamodb:[^:]*:[^:]*:table\/[^/]+)\//.exec(resourceArn)?.[1];
    return table ? this.keysOf.get(table) : undefined;
  }

  /** `{stack}/{logicalId}` of the resource an ARN (or name) belongs to, for log lines. */
  nameOf(arn: string): string | undefined {
    return this.names.get(arn) ?? this.names.get(arn.replace(/\/(index|stream)\/.*$/, ''));
  }

  private build(resources: readonly ResolvedResource[]): void {
    const roleByName = new Map<
      string,
      RoleModel & { policies: NamedPolicy[]; managedPolicyArns: string[] }
    >();
    const keyArnById = new Map<string, string>();
    const queueArnByUrl = new Map<string, string>();
    const busArnByName = new Map<string, string>();
    const functionArnByName = new Map<string, string>();
    const where = (r: ResolvedResource) => `${r.stackName}/${r.logicalId}`;
    /** Customer-managed policies of the assembly, by ARN (a role may attach them by ManagedPolicyArns). */
    const managedByArn = new Map<string, NamedPolicy>();

    for (const r of resources) {
      const arn = typeof r.attributes.Arn === 'string' ? r.attributes.Arn : undefined;
      if (arn) this.names.set(arn, where(r));
      switch (r.type) {
        case 'AWS::IAM::Role': {
          if (!arn) break;
          const role = {
            arn,
            name: r.ref,
            source: where(r),
            policies: (
              (r.properties.Policies ?? []) as { PolicyName?: string; PolicyDocument?: PolicyDocument }[]
            )
              .filter((p) => p.PolicyDocument)
              .map((p) => ({ name: `${where(r)}:${p.PolicyName ?? 'inline'}`, document: p.PolicyDocument! })),
            managedPolicyArns: ((r.properties.ManagedPolicyArns ?? []) as unknown[]).map(String),
          };
          roleByName.set(r.ref, role);
          this.roles.set(arn, role);
          break;
        }
        case 'AWS::KMS::Key':
          if (arn) {
            keyArnById.set(r.ref, arn);
            keyArnById.set(arn, arn);
          }
          break;
        case 'AWS::SQS::Queue':
          if (arn) queueArnByUrl.set(r.ref, arn);
          break;
        case 'AWS::Events::EventBus':
          if (arn) busArnByName.set(r.ref, arn);
          break;
        case 'AWS::Lambda::Function':
          if (arn) functionArnByName.set(r.ref, arn);
          break;
        case 'AWS::DynamoDB::Table':
          if (typeof r.attributes.StreamArn === 'string') this.names.set(r.attributes.StreamArn, where(r));
          this.names.set(r.ref, where(r));
          break;
        default:
          break;
      }
    }
    const keyArn = (reference: unknown): string | undefined => {
      if (typeof reference !== 'string' || reference.startsWith('alias/')) return undefined;
      return keyArnById.get(reference) ?? (reference.startsWith('arn:') ? reference : undefined);
    };

    for (const r of resources) {
      const p = r.properties;
      const arn = typeof r.attributes.Arn === 'string' ? r.attributes.Arn : undefined;
      const source = `${where(r)} (${r.type})`;
      switch (r.type) {
        case 'AWS::IAM::Policy':
        case 'AWS::IAM::ManagedPolicy': {
          const document = p.PolicyDocument as PolicyDocument | undefined;
          if (!document) break;
          for (const roleName of (p.Roles ?? []) as string[]) {
            roleByName.get(roleName)?.policies.push({ name: where(r), document });
          }
          if (r.type === 'AWS::IAM::ManagedPolicy') managedByArn.set(r.ref, { name: where(r), document });
          break;
        }
        case 'AWS::KMS::Key':
          // Without a KeyPolicy, AWS gives a key its default policy: the account (root) may use it through IAM.
          if (arn) {
            this.addResourcePolicy(
              arn,
              p.KeyPolicy ? source : `${source}, default key policy`,
              (p.KeyPolicy as PolicyDocument | undefined) ?? {
                Statement: [
                  {
                    Sid: 'Enable IAM User Permissions',
                    Effect: 'Allow',
                    Principal: { AWS: `arn:aws:iam::${this.accountId}:root` },
                    Action: 'kms:*',
                    Resource: '*',
                  },
                ],
              },
            );
          }
          break;
        case 'AWS::IAM::RolePolicy': {
          const document = p.PolicyDocument as PolicyDocument | undefined;
          if (document) roleByName.get(String(p.RoleName))?.policies.push({ name: where(r), document });
          break;
        }
        case 'AWS::SQS::QueueInlinePolicy': {
          const queueArn = queueArnByUrl.get(String(p.Queue));
          if (queueArn) this.addResourcePolicy(queueArn, source, p.PolicyDocument as PolicyDocument);
          break;
        }
        case 'AWS::SNS::TopicInlinePolicy':
          this.addResourcePolicy(String(p.TopicArn), source, p.PolicyDocument as PolicyDocument);
          break;
        case 'AWS::SQS::QueuePolicy':
          for (const url of (p.Queues ?? []) as string[]) {
            const queueArn = queueArnByUrl.get(url);
            if (queueArn) this.addResourcePolicy(queueArn, source, p.PolicyDocument as PolicyDocument);
          }
          break;
        case 'AWS::SNS::TopicPolicy':
          for (const topicArn of (p.Topics ?? []) as string[]) {
            this.addResourcePolicy(topicArn, source, p.PolicyDocument as PolicyDocument);
          }
          break;
        case 'AWS::Events::EventBusPolicy': {
          const busArn = busArnByName.get(String(p.EventBusName ?? 'default'));
          const statement = p.Statement as Record<string, unknown> | undefined;
          if (busArn && statement) this.addResourcePolicy(busArn, source, { Statement: [statement] });
          break;
        }
        case 'AWS::ApiGateway::RestApi':
          if (p.Policy) {
            const apiArn = `arn:aws:execute-api:${this.region}:${this.accountId}:${r.ref}/*`;
            this.addResourcePolicy(apiArn, source, p.Policy as PolicyDocument);
          }
          break;
        case 'AWS::Lambda::Permission': {
          const target = functionArnOf(
            String(p.FunctionName),
            functionArnByName,
            this.region,
            this.accountId,
          );
          const principal = String(p.Principal);
          const condition: Record<string, Record<string, string>> = {};
          if (p.SourceArn !== undefined) condition.ArnLike = { 'aws:SourceArn': String(p.SourceArn) };
          if (p.SourceAccount !== undefined)
            condition.StringEquals = { 'aws:SourceAccount': String(p.SourceAccount) };
          this.addResourcePolicy(target, source, {
            Statement: [
              {
                Sid: r.logicalId,
                Effect: 'Allow',
                Principal: principal.endsWith('.amazonaws.com') ? { Service: principal } : { AWS: principal },
                Action: String(p.Action),
                Resource: target,
                ...(Object.keys(condition).length > 0 ? { Condition: condition } : {}),
              },
            ],
          });
          break;
        }
        case 'AWS::DynamoDB::Table': {
          const sse = p.SSESpecification as
            { SSEEnabled?: unknown; SSEType?: string; KMSMasterKeyId?: unknown } | undefined;
          const key = sse?.SSEType === 'KMS' ? keyArn(sse.KMSMasterKeyId) : undefined;
          if (key && arn) this.keysOf.set(arn, key);
          break;
        }
        case 'AWS::SecretsManager::Secret': {
          const key = keyArn(p.KmsKeyId);
          if (key && r.ref) this.keysOf.set(r.ref, key);
          break;
        }
        case 'AWS::SQS::Queue':
        case 'AWS::SNS::Topic': {
          const key = keyArn(p.KmsMasterKeyId);
          const resourceArn = r.type === 'AWS::SNS::Topic' ? r.ref : arn;
          if (key && resourceArn) this.keysOf.set(resourceArn, key);
          break;
        }
        default:
          break;
      }
    }
    // Customer-managed policies a role attaches by ARN count as its own; only AWS-managed ones stay unknown.
    for (const role of roleByName.values()) {
      for (const policyArn of role.managedPolicyArns) {
        const managed = managedByArn.get(policyArn);
        if (managed && !role.policies.includes(managed)) role.policies.push(managed);
      }
      role.managedPolicyArns = role.managedPolicyArns.filter((policyArn) => !managedByArn.has(policyArn));
    }
  }

  private addResourcePolicy(arn: string, source: string, document: PolicyDocument): void {
    const existing = this.resourcePolicies.get(arn) ?? { sources: [], statements: [] };
    const statements = Array.isArray(document.Statement) ? document.Statement : [document.Statement];
    existing.sources.push(source);
    existing.statements.push(...(statements as Record<string, unknown>[]));
    this.resourcePolicies.set(arn, existing);
  }
}

/** A function ARN (qualified when the permission names an alias or version) from a name, partial or full ARN. */
function functionArnOf(
  reference: string,
  byName: ReadonlyMap<string, string>,
  region: string,
  account: string,
): string {
  if (reference.startsWith('arn:')) return reference;
  const [name, qualifier] = reference.split(':');
  const base = byName.get(name) ?? `arn:aws:lambda:${region}:${account}:function:${name}`;
  return qualifier ? `${base}:${qualifier}` : base;
}
