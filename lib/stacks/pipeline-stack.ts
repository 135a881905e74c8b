import * as fs from 'node:fs';
import * as path from 'node:path';
import type { App, StackProps } from 'aws-cdk-lib';
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import type * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as pipelines from 'aws-cdk-lib/pipelines';
import type { Construct } from 'constructs';
import type { EnvironmentConfig } from '../config/environments';
import { loadEnvironmentConfig } from '../config/environments';
import type { PipelineConfig } from '../config/pipeline';
import { loadPipelineConfig, PIPELINE_CONTEXT_KEY } from '../config/pipeline';
import { nagResourceName } from '../constructs/validation';
import { ShopStage } from './shop-stage';

/** What the synth step installs for `npm test`: the emulator and the template linter the tests run. */
export const SYNTH_INSTALL_COMMANDS: readonly string[] = [
  'pip3 install --quiet "moto[server]==5.2.1" "cfn-lint==1.51.0"',
];

/** The synth step: the whole test suite, then the cloud assembly the rest of the pipeline deploys. */
export const SYNTH_COMMANDS: readonly string[] = ['npm ci', 'npm test', 'npx cdk synth'];

/** Props of {@link PipelineStack}. */
export interface PipelineStackProps extends StackProps {
  /** Source, branch and deployment targets. */
  readonly pipeline: PipelineConfig;
  /** The environment deployed first and smoke-tested (the pipeline's account and region). */
  readonly dev: EnvironmentConfig;
  /** The environment deployed after the manual approval. */
  readonly prod: EnvironmentConfig;
}

/**
 * The delivery pipeline of the reference system (CDK Pipelines, CodePipeline V2): source from a CodeConnections
 * connection; `npm ci && npm test && npx cdk synth`; the pipeline updates itself; the assets are published;
 * `dev` is deployed and smoke-tested through its registry (`scripts/smoke-test.ts`); a person approves; `prod`
 * is deployed. Artifacts, logs and builds are encrypted with the pipeline's rotating key.
 */
export class PipelineStack extends Stack {
  /** The pipeline. */
  public readonly pipeline: pipelines.CodePipeline;
  /** The environments it deploys, in order. */
  public readonly stages: { readonly dev: ShopStage; readonly prod: ShopStage };
  /**
   * The smoke-test user's `{ "username", "password" }` (a generated password), read by the smoke-test step. The
   * user itself is created once with `npx tsx scripts/smoke-test.ts --create-user` (see the README).
   */
  public readonly smokeTestSecret: secretsmanager.Secret;
  /** The key of the pipeline's artifacts and of every CodeBuild project's output. */
  public readonly artifactKey: kms.Key;

  constructor(scope: Construct, id: string, props: PipelineStackProps) {
    super(scope, id, props);
    const { pipeline: config, dev, prod } = props;

    this.artifactKey = new kms.Key(this, 'ArtifactKey', {
      description: `${dev.appName} pipeline: artifacts and build outputs`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const accessLogs = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: Duration.days(365) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const artifactBucket = new s3.Bucket(this, 'Artifacts', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.artifactKey,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'artifacts/',
      lifecycleRules: [{ expiration: Duration.days(90) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const source = pipelines.CodePipelineSource.connection(config.repository, config.branch, {
      connectionArn: config.connectionArn,
      triggerOnPush: true,
    });
    const stackName = this.stackName;
    const synth = new pipelines.CodeBuildStep('Synth', {
      input: source,
      installCommands: [...SYNTH_INSTALL_COMMANDS],
      commands: [
        ...SYNTH_COMMANDS,
        // The pipeline synthesizes itself from the repository: without the `pipeline` key in cdk.json it would
        // not find itself, and the self-update would fail with a less helpful message.
        `test -f cdk.out/${stackName}.template.json || { echo "cdk synth made no ${stackName}: commit the pipeline key to cdk.json" >&2; exit 1; }`,
      ],
      primaryOutputDirectory: 'cdk.out',
      buildEnvironment: { computeType: codebuild.ComputeType.LARGE },
      timeout: Duration.minutes(60),
    });

    this.pipeline = new pipelines.CodePipeline(this, 'Pipeline', {
      pipelineName: `${dev.appName}-Pipeline`,
      synth,
      artifactBucket,
      selfMutation: true,
      publishAssetsInParallel: false,
      cliVersion: cdkCliVersion(),
      codeBuildDefaults: {
        buildEnvironment: {
          buildImage: codebuild.LinuxBuildImage.STANDARD_7_0,
          computeType: codebuild.ComputeType.MEDIUM,
          privileged: false,
        },
        partialBuildSpec: codebuild.BuildSpec.fromObject({
          phases: { install: { 'runtime-versions': { nodejs: 20, python: '3.12' } } },
        }),
      },
    });

    const devStage = new ShopStage(this, 'Dev', {
      env: { account: config.account, region: config.region },
      config: dev,
    });
    this.pipeline.addStage(devStage);

    this.smokeTestSecret = new secretsmanager.Secret(this, 'SmokeTestUser', {
      secretName: `${dev.appName}/${dev.envName}/smoke-test-user`,
      description: `${dev.appName} ${dev.envName}: the Cognito user the pipeline's smoke test signs in as`,
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ username: config.smokeTestUser }),
        generateStringKey: 'password',
        passwordLength: 32,
        requireEachIncludedType: true,
        // Kept out so the password survives shells and JSON unquoted; Cognito's policy is met without them.
        excludeCharacters: `"'\`\\/@$`,
      },
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const registry = `arn:${this.partition}:ssm:${this.region}:${this.account}:parameter/${dev.appName}/${dev.envName}`;
    this.pipeline.addWave('SmokeTest', {
      post: [
        new pipelines.CodeBuildStep('SmokeTest', {
          input: source,
          installCommands: ['npm ci'],
          commands: [
            `npx tsx scripts/smoke-test.ts --app ${dev.appName} --env ${dev.envName} --secret ${dev.appName}/${dev.envName}/smoke-test-user`,
          ],
          rolePolicyStatements: [
            new iam.PolicyStatement({
              actions: ['ssm:GetParametersByPath'],
              resources: [registry, `${registry}/*`],
            }),
            new iam.PolicyStatement({
              actions: ['secretsmanager:GetSecretValue'],
              resources: [this.smokeTestSecret.secretArn],
            }),
          ],
          timeout: Duration.minutes(15),
        }),
      ],
    });

    this.pipeline.addWave('Approval', {
      post: [
        new pipelines.ManualApprovalStep('PromoteToProd', {
          comment: `Promote to ${prod.envName}: ${dev.envName} is deployed and its smoke test passed.`,
        }),
      ],
    });

    const prodStage = new ShopStage(this, 'Prod', {
      env: { account: config.prod?.account ?? config.account, region: config.region },
      config: prod,
    });
    this.pipeline.addStage(prodStage);
    this.stages = { dev: devStage, prod: prodStage };

    Validations.of(this.smokeTestSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        "The password must equal the Cognito user's, which a rotation function could change only with admin rights on the dev user pool; rotate by putting a new value and running the smoke test with --create-user.",
    });
    // Build now, so every role and policy exists, then acknowledge each wildcard CDK Pipelines grants, by its
    // exact finding id. A wildcard not recognised below stays a finding and fails synth.
    this.pipeline.buildPipeline();
    subInsteadOfJoin(this.pipeline.pipeline.node.defaultChild as codepipeline.CfnPipeline);
    for (const policy of this.pipeline.node.findAll().filter((c) => c instanceof iam.CfnPolicy)) {
      acknowledgeWildcards(policy as iam.CfnPolicy, {
        registry,
        artifactBucket,
        artifactKey: this.artifactKey,
      });
    }
  }
}

/**
 * Rewrites each action configuration value of `pipeline` that is an `Fn::Join` with an empty delimiter (CDK
 * Pipelines joins every deploy action's role ARN from the partition and a literal) as the equivalent `Fn::Sub`,
 * which cfn-lint asks for (E3703).
 */
function subInsteadOfJoin(pipeline: codepipeline.CfnPipeline): void {
  const stages = Stack.of(pipeline).resolve(pipeline.stages) as Array<{
    actions: Array<{ configuration?: Record<string, unknown> }>;
  }>;
  stages.forEach((stage, i) =>
    stage.actions.forEach((action, j) => {
      for (const [key, value] of Object.entries(action.configuration ?? {})) {
        const join = (value as { 'Fn::Join'?: [string, unknown[]] } | undefined)?.['Fn::Join'];
        if (!join || join[0] !== '' || !join[1].every((p) => typeof p === 'string' || isRef(p))) continue;
        const text = join[1]
          .map((p) => (typeof p === 'string' ? p.replace(/\$\{/g, '${!') : `\${${p.Ref}}`))
          .join('');
        pipeline.addPropertyOverride(`Stages.${i}.Actions.${j}.Configuration.${key}`, { 'Fn::Sub': text });
      }
    }),
  );
}

function isRef(node: unknown): node is { Ref: string } {
  return !!node && typeof node === 'object' && Object.keys(node).length === 1 && 'Ref' in node;
}

/** One segment of an ARN in a finding id: a literal, or a pseudo parameter (`<AWS::Region>`) when env-agnostic. */
const SEGMENT = '(?:<AWS::[A-Za-z]+>|[^:<>]+)';
const arn = (service: string, rest: string) =>
  new RegExp(`^Resource::arn:${SEGMENT}:${service}:${SEGMENT}:${SEGMENT}:${rest}$`);

/** Why each kind of wildcard that CDK Pipelines (and the smoke-test step) grants is needed, by finding. */
const WILDCARD_REASONS: ReadonlyArray<{ readonly finding: RegExp; readonly reason: string }> = [
  {
    finding: arn('logs', 'log-group:/aws/codebuild/<[A-Za-z0-9]+>:\\*'),
    reason: "The log streams of the CodeBuild project's own log group, which CodeBuild names per build.",
  },
  {
    finding: arn('codebuild', 'report-group/<[A-Za-z0-9]+>-\\*'),
    reason: "The CodeBuild project's own test report groups, which CodeBuild names <project>-<report>.",
  },
  {
    finding: arn('logs', 'log-group:/aws/codebuild/\\*'),
    reason:
      'The asset-publishing role is shared by the asset projects, which CDK Pipelines creates after the role: their log groups all lie under /aws/codebuild/ of this account and region.',
  },
  {
    finding: arn('codebuild', 'report-group/\\*'),
    reason:
      'The asset-publishing role is shared by the asset projects, which CDK Pipelines creates after the role: their report groups are named after them.',
  },
  {
    finding: new RegExp(`^Resource::arn:\\*:iam::${SEGMENT}:role/\\*$`),
    reason:
      'Self-update may assume only the CDK bootstrap roles (condition iam:ResourceTag/aws-cdk:bootstrap-role in deploy, file-publishing, image-publishing), whose names depend on the bootstrap qualifier.',
  },
];

/** The S3 and KMS action families CDK Pipelines grants on the artifact bucket and key. */
const ARTIFACT_ACTIONS =
  /^(s3:(GetObject|GetBucket|List|DeleteObject|Abort)|kms:(GenerateDataKey|ReEncrypt))\*$/;

/**
 * Acknowledges, on `policy`, each wildcard finding of cdk-nag's AwsSolutions-IAM5 that is a known CDK Pipelines
 * grant (or the smoke test's read of the registry under `registry`), each by its exact id and with its reason.
 * An S3 or KMS action family is acknowledged only where every statement granting it is on the pipeline's own
 * artifact bucket, its objects or its key.
 */
function acknowledgeWildcards(
  policy: iam.CfnPolicy,
  own: { readonly registry: string; readonly artifactBucket: s3.IBucket; readonly artifactKey: kms.IKey },
): void {
  const document = Stack.of(policy).resolve(policy.policyDocument) as {
    Statement: Array<{ Action: string | string[]; Resource: unknown }>;
  };
  const name = (value: string) => nagResourceName(policy, value);
  const artifacts = new Set([
    name(own.artifactBucket.bucketArn),
    name(own.artifactBucket.arnForObjects('*')),
    name(own.artifactKey.keyArn),
  ]);
  const findings = new Set<string>();
  /** The actions granted on "*" (acknowledged only when every one is a known CDK Pipelines need). */
  const onAnyResource = new Set<string>();
  /** Artifact action families granted on anything but the artifact bucket, its objects and its key. */
  const beyondArtifacts = new Set<string>();
  for (const statement of document.Statement) {
    const actions = ([] as string[]).concat(statement.Action);
    const resources = ([] as unknown[]).concat(statement.Resource).map((r) => name(r as string));
    for (const action of actions) {
      if (action.includes('*')) findings.add(`Action::${action}`);
      if (resources.some((r) => !artifacts.has(r))) beyondArtifacts.add(action);
    }
    for (const resource of resources) {
      if (resource.includes('*')) findings.add(`Resource::${resource}`);
      if (resource === '*') actions.forEach((a) => onAnyResource.add(a));
    }
  }
  const reasonFor = (finding: string): string | undefined => {
    if (finding === `Resource::${name(`${own.registry}/*`)}`) {
      return "The smoke test lists the dev registry (ssm:GetParametersByPath) to find every service's api-url; which services and keys exist is known only at run time.";
    }
    if (finding === `Resource::${name(own.artifactBucket.arnForObjects('*'))}`) {
      return "The objects of the pipeline's own artifact bucket, whose keys CodePipeline chooses per execution.";
    }
    if (finding === 'Resource::*') return anyResourceReason([...onAnyResource].sort());
    if (finding.startsWith('Action::')) {
      const action = finding.slice('Action::'.length);
      return ARTIFACT_ACTIONS.test(action) && !beyondArtifacts.has(action)
        ? `${action}, granted by CDK Pipelines only on the pipeline's own artifact bucket, its objects and its key, to read and write the encrypted artifacts.`
        : undefined;
    }
    return WILDCARD_REASONS.find((r) => r.finding.test(finding))?.reason;
  };
  for (const finding of findings) {
    const reason = reasonFor(finding);
    if (reason) Validations.of(policy).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason });
  }
}

/** Why CDK Pipelines grants `actions` on "*", or undefined when they are not exactly a set it is known to need. */
function anyResourceReason(actions: readonly string[]): string | undefined {
  const granted = actions.join(',');
  if (granted === 'cloudformation:DescribeStacks,s3:ListBucket') {
    return "Self-update (cdk deploy of the pipeline stack) reads the stack's state and lists the bootstrap bucket, which it finds at run time; CDK Pipelines grants both on any resource.";
  }
  if (granted === 'codebuild:BatchGetBuilds,codebuild:StartBuild,codebuild:StopBuild') {
    return 'The asset-publishing role, shared by the asset projects that CDK Pipelines creates after it, starts and watches their builds; CDK Pipelines grants this on any project.';
  }
  return undefined;
}

/**
 * Adds the delivery pipeline `{app}-Pipeline` to `app` when the `pipeline` context key is set (in `cdk.json`, or
 * `-c pipeline='{...}'`) and returns it; without the key it adds nothing and returns `undefined`. A bad value
 * throws an error naming the key and the value. The pipeline deploys the `dev` and `prod` environments of
 * `lib/config/environments.ts`, `dev` into the pipeline's account and region.
 */
export function addPipeline(app: App): PipelineStack | undefined {
  const config = loadPipelineConfig(app.node.tryGetContext(PIPELINE_CONTEXT_KEY));
  if (!config) return undefined;
  const dev = loadEnvironmentConfig('dev');
  const prod = loadEnvironmentConfig('prod');
  const stackName = `${dev.appName}-Pipeline`;
  return new PipelineStack(app, stackName, {
    env: { account: config.account, region: config.region },
    stackName,
    description: `${dev.appName}: delivery pipeline (${config.repository}@${config.branch} -> ${dev.envName} -> approval -> ${prod.envName})`,
    pipeline: config,
    dev,
    prod,
  });
}

/** The CDK CLI version this repository uses, so the pipeline's self-update and asset steps run the same one. */
function cdkCliVersion(): string {
  const manifest = path.join(__dirname, '..', '..', 'package.json');
  const pkg = JSON.parse(fs.readFileSync(manifest, 'utf8')) as { devDependencies?: Record<string, string> };
  return (pkg.devDependencies?.['aws-cdk'] ?? '').replace(/^[\^~]/, '');
}
