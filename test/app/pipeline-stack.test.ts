import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { CfnElement, cx_api } from 'aws-cdk-lib';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { cdkJsonContext } from '../../lib/config/cdk-context';
import { loadEnvironmentConfig } from '../../lib/config/environments';
import { loadPipelineConfig } from '../../lib/config/pipeline';
import type { PipelineStack } from '../../lib/stacks/pipeline-stack';
import { addPipeline, SYNTH_COMMANDS, SYNTH_INSTALL_COMMANDS } from '../../lib/stacks/pipeline-stack';
import { addSecurityChecks, createShopSystem } from '../../lib/stacks/shop-system';
import type { StatefulRecording } from '../../scripts/record-stateful-ids';
import { RECORDING_FILE } from '../../scripts/record-stateful-ids';
import { ROOT } from '../helpers';
import { acknowledgements } from './synth';

const CONNECTION =
  'arn:aws:codeconnections:eu-west-1:111111111111:connection/8f1c0a4e-2f43-4a0b-9d61-0123456789ab';
/** A pipeline in 111111111111 deploying dev there and prod into 222222222222, from acme/shop@release. */
const PIPELINE = {
  connectionArn: CONNECTION,
  repository: 'acme/shop',
  branch: 'release',
  account: '111111111111',
  region: 'eu-west-1',
  prod: { account: '222222222222' },
};

const STANDALONE = [
  'Shop-Account',
  'Shop-dev-Inventory',
  'Shop-dev-Orders',
  'Shop-dev-Platform',
  'Shop-dev-Users',
];

describe('pipeline configuration (the pipeline context key)', () => {
  it('is absent when the key is not set', () => {
    expect(loadPipelineConfig(undefined)).toBeUndefined();
    expect(loadPipelineConfig('')).toBeUndefined();
  });

  it('takes an object (cdk.json) or the same as a JSON string (-c pipeline=...), with defaults', () => {
    const minimal = { connectionArn: CONNECTION, repository: 'acme/shop' };
    const expected = { ...minimal, branch: 'main', smokeTestUser: 'smoke-test@example.com' };
    expect(loadPipelineConfig(minimal)).toEqual(expected);
    expect(loadPipelineConfig(JSON.stringify(minimal))).toEqual(expected);
    expect(
      loadPipelineConfig({
        ...minimal,
        connectionArn:
          'arn:aws:codestar-connections:us-east-1:111111111111:connection/0f1c0a4e-2f43-4a0b-9d61-0123456789ab',
      })?.connectionArn,
    ).toMatch(/^arn:aws:codestar-connections:/);
  });

  it('fails naming every bad key and its value', () => {
    expect(() =>
      loadPipelineConfig({
        connectionArn: 'arn:aws:s3:::my-bucket',
        repository: 'just-a-name',
        branch: 'main; rm -rf /',
        region: 'Europe',
        smokeTestUser: 'smoke-test',
      }),
    ).toThrow(
      [
        'Invalid pipeline configuration:',
        '  pipeline.connectionArn = "arn:aws:s3:::my-bucket": a connection ARN such as arn:aws:codeconnections:eu-west-1:123456789012:connection/8f1c0a4e-2f43-4a0b-9d61-0123456789ab',
        '  pipeline.repository = "just-a-name": owner/name, such as my-org/cdk-microservices',
        '  pipeline.branch = "main; rm -rf /": a branch name of letters, digits, ".", "_", "/" or "-"',
        '  pipeline.region = "Europe": an AWS region such as eu-west-1',
        '  pipeline.smokeTestUser = "smoke-test": Invalid email address',
      ].join('\n'),
    );
  });

  it('fails on an unknown key, on a cross-account prod without the pipeline account, and on a value that is not an object', () => {
    expect(() => loadPipelineConfig({ connectionArn: CONNECTION, repository: 'a/b', brnach: 'x' })).toThrow(
      /pipeline = \{.*"brnach":"x"\}: Unrecognized key: "brnach"/,
    );
    expect(() =>
      loadPipelineConfig({ connectionArn: CONNECTION, repository: 'a/b', prod: { account: '222222222222' } }),
    ).toThrow(
      'pipeline.account = undefined: set (with region) when prod.account is: a cross-account pipeline needs its own account and region',
    );
    expect(() => loadPipelineConfig('{connectionArn:')).toThrow(
      'Invalid pipeline configuration: pipeline = "{connectionArn:": a JSON object such as',
    );
    expect(() => loadPipelineConfig(['a/b'])).toThrow(
      'Invalid pipeline configuration: pipeline = ["a/b"]: an object with connectionArn and repository',
    );
  });
});

describe('PipelineStack, enabled (as bin/app.ts builds it, with the standalone dev system beside it)', () => {
  let app: App;
  let outdir: string;
  let assembly: cx_api.CloudAssembly;
  let stack: PipelineStack;
  let template: Template;
  let stages: Array<{
    Name: string;
    Actions: Array<{
      Name: string;
      RunOrder: number;
      Configuration: Record<string, unknown>;
      RoleArn?: unknown;
    }>;
  }>;

  beforeAll(() => {
    outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-pipeline-'));
    app = new App({
      outdir,
      context: { ...cdkJsonContext(), env: 'dev', 'aws:cdk:bundling-stacks': [], pipeline: PIPELINE },
    });
    createShopSystem(app, loadEnvironmentConfig('dev'));
    stack = addPipeline(app)!;
    addSecurityChecks(app);
    // Throws when cdk-nag finds anything unacknowledged, in the pipeline stack or in a stage's stacks.
    assembly = app.synth();
    template = Template.fromStack(stack);
    const [pipeline] = Object.values(template.findResources('AWS::CodePipeline::Pipeline'));
    stages = pipeline.Properties.Stages;
  }, 600_000);
  afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

  const actions = (stage: string) => stages.find((s) => s.Name === stage)!.Actions;
  const buildSpecOf = (projectName: string) => {
    const projects = template.findResources('AWS::CodeBuild::Project');
    const [project] = Object.entries(projects).filter(([id]) => id.startsWith(projectName));
    return {
      id: project[0],
      props: project[1].Properties,
      spec: JSON.parse(project[1].Properties.Source.BuildSpec),
    };
  };

  it('adds Shop-Pipeline next to the standalone stacks, with one nested assembly per deployed environment', () => {
    expect(assembly.stacks.map((s) => s.stackName).sort()).toEqual([...STANDALONE, 'Shop-Pipeline'].sort());
    expect(assembly.nestedAssemblies.map((a) => a.directoryName).sort()).toEqual([
      'assembly-Shop-Pipeline-Dev',
      'assembly-Shop-Pipeline-Prod',
    ]);
    expect(stack.account).toBe('111111111111');
    expect(stack.region).toBe('eu-west-1');
  });

  it('runs Source, Build, UpdatePipeline, Assets, Dev, SmokeTest, Approval and Prod, in that order', () => {
    expect(stages.map((s) => s.Name)).toEqual([
      'Source',
      'Build',
      'UpdatePipeline',
      'Assets',
      'Dev',
      'SmokeTest',
      'Approval',
      'Prod',
    ]);
    template.hasResourceProperties('AWS::CodePipeline::Pipeline', {
      Name: 'Shop-Pipeline',
      PipelineType: 'V2',
      RestartExecutionOnUpdate: true,
      ArtifactStore: {
        Type: 'S3',
        Location: {
          Ref: stack.getLogicalId(stack.node.findChild('Artifacts').node.defaultChild as CfnElement),
        },
        EncryptionKey: {
          Type: 'KMS',
          Id: {
            'Fn::GetAtt': [stack.getLogicalId(stack.artifactKey.node.defaultChild as CfnElement), 'Arn'],
          },
        },
      },
    });
  });

  it('takes the source from the configured connection, repository and branch, on every push', () => {
    expect(actions('Source')).toEqual([
      expect.objectContaining({
        Name: 'acme_shop',
        ActionTypeId: {
          Category: 'Source',
          Owner: 'AWS',
          Provider: 'CodeStarSourceConnection',
          Version: '1',
        },
        Configuration: {
          ConnectionArn: CONNECTION,
          FullRepositoryId: 'acme/shop',
          BranchName: 'release',
          DetectChanges: true,
        },
      }),
    ]);
  });

  it('installs moto and cfn-lint, then runs npm ci, npm test and cdk synth, and checks that the pipeline synthesized itself', () => {
    expect(actions('Build')).toEqual([
      expect.objectContaining({
        Name: 'Synth',
        ActionTypeId: { Category: 'Build', Owner: 'AWS', Provider: 'CodeBuild', Version: '1' },
      }),
    ]);
    const synth = buildSpecOf('PipelineBuildSynthCdkBuildProject');
    expect(SYNTH_INSTALL_COMMANDS).toEqual(['pip3 install --quiet "moto[server]==5.2.1" "cfn-lint==1.51.0"']);
    expect(SYNTH_COMMANDS).toEqual(['npm ci', 'npm test', 'npx cdk synth']);
    expect(synth.spec.phases).toEqual({
      install: {
        'runtime-versions': { nodejs: 20, python: '3.12' },
        commands: ['pip3 install --quiet "moto[server]==5.2.1" "cfn-lint==1.51.0"'],
      },
      build: {
        commands: [
          'npm ci',
          'npm test',
          'npx cdk synth',
          'test -f cdk.out/Shop-Pipeline.template.json || { echo "cdk synth made no Shop-Pipeline: commit the pipeline key to cdk.json" >&2; exit 1; }',
        ],
      },
    });
    expect(synth.spec.artifacts).toEqual({ 'base-directory': 'cdk.out', files: ['**/*'] });
    expect(synth.props).toMatchObject({
      Environment: {
        ComputeType: 'BUILD_GENERAL1_LARGE',
        Image: 'aws/codebuild/standard:7.0',
        PrivilegedMode: false,
      },
      TimeoutInMinutes: 60,
    });
  });

  it('updates itself with the CDK CLI of package.json, then publishes the assets in one project', () => {
    const cli = (
      JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
        devDependencies: Record<string, string>;
      }
    ).devDependencies['aws-cdk'];
    expect(actions('UpdatePipeline').map((a) => a.Name)).toEqual(['SelfMutate']);
    const self = buildSpecOf('PipelineUpdatePipelineSelfMutation');
    expect(self.spec.phases.install.commands).toEqual([`npm install -g aws-cdk@${cli}`]);
    expect(self.spec.phases.build.commands).toEqual([
      'cdk -a . deploy Shop-Pipeline --require-approval=never --verbose',
    ]);
    expect(actions('Assets').map((a) => a.Name)).toEqual(['FileAssets']);
  });

  it('deploys every dev stack in dependency order: account and platform, then users and inventory, then orders', () => {
    const dev = actions('Dev');
    expect(dev.map((a) => [a.Name, a.RunOrder])).toEqual([
      ['Shop-Account.Prepare', 1],
      ['Shop-dev-Platform.Prepare', 1],
      ['Shop-Account.Deploy', 2],
      ['Shop-dev-Platform.Deploy', 2],
      ['Shop-dev-Inventory.Prepare', 3],
      ['Shop-dev-Users.Prepare', 3],
      ['Shop-dev-Inventory.Deploy', 4],
      ['Shop-dev-Users.Deploy', 4],
      ['Shop-dev-Orders.Prepare', 5],
      ['Shop-dev-Orders.Deploy', 6],
    ]);
    expect.hasAssertions();
    for (const prepare of dev.filter((a) => a.Name.endsWith('.Prepare'))) {
      expect(prepare.Configuration).toEqual({
        StackName: prepare.Name.replace(/\.Prepare$/, ''),
        Capabilities: 'CAPABILITY_NAMED_IAM,CAPABILITY_AUTO_EXPAND',
        // cfn-lint (E3703) asks for Fn::Sub rather than CDK Pipelines' Fn::Join.
        RoleArn: {
          'Fn::Sub':
            'arn:${AWS::Partition}:iam::111111111111:role/cdk-hnb659fds-cfn-exec-role-111111111111-eu-west-1',
        },
        ActionMode: 'CHANGE_SET_REPLACE',
        ChangeSetName: 'PipelineChange',
        TemplatePath: expect.stringMatching(
          /^Synth_Output::assembly-Shop-Pipeline-Dev\/ShopPipelineDevShop[A-Za-z]+[0-9A-F]{8}\.template\.json$/,
        ),
      });
    }
  });

  it('smoke-tests dev with scripts/smoke-test.ts, allowed to read only the dev registry and the smoke-test secret', () => {
    expect(actions('SmokeTest')).toEqual([
      expect.objectContaining({
        Name: 'SmokeTest',
        ActionTypeId: { Category: 'Build', Owner: 'AWS', Provider: 'CodeBuild', Version: '1' },
      }),
    ]);
    const smoke = buildSpecOf('PipelineSmokeTest');
    expect(smoke.spec.phases).toEqual({
      install: { 'runtime-versions': { nodejs: 20, python: '3.12' }, commands: ['npm ci'] },
      build: {
        commands: ['npx tsx scripts/smoke-test.ts --app Shop --env dev --secret Shop/dev/smoke-test-user'],
      },
    });
    const secret = stack.getLogicalId(stack.smokeTestSecret.node.defaultChild as CfnElement);
    const role = (smoke.props.ServiceRole as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const [policy] = Object.values(
      template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: role }] } }),
    );
    const statements = policy.Properties.PolicyDocument.Statement as Array<Record<string, unknown>>;
    expect(
      statements.filter((s) => !/^(logs|codebuild|s3|kms):/.test([s.Action].flat()[0] as string)),
    ).toEqual([
      {
        Action: 'ssm:GetParametersByPath',
        Effect: 'Allow',
        Resource: [
          'arn:aws:ssm:eu-west-1:111111111111:parameter/Shop/dev',
          'arn:aws:ssm:eu-west-1:111111111111:parameter/Shop/dev/*',
        ],
      },
      { Action: 'secretsmanager:GetSecretValue', Effect: 'Allow', Resource: { Ref: secret } },
    ]);
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      Name: 'Shop/dev/smoke-test-user',
      GenerateSecretString: {
        SecretStringTemplate: '{"username":"smoke-test@example.com"}',
        GenerateStringKey: 'password',
        PasswordLength: 32,
        RequireEachIncludedType: true,
        ExcludeCharacters: '"\'`\\/@$',
      },
    });
  });

  it('waits for a manual approval before prod', () => {
    expect(actions('Approval')).toEqual([
      expect.objectContaining({
        Name: 'PromoteToProd',
        ActionTypeId: { Category: 'Approval', Owner: 'AWS', Provider: 'Manual', Version: '1' },
        Configuration: { CustomData: 'Promote to prod: dev is deployed and its smoke test passed.' },
        RunOrder: 1,
      }),
    ]);
  });

  it("deploys every prod stack into the prod account through that account's bootstrap roles", () => {
    const prod = actions('Prod');
    expect(prod.map((a) => a.Name)).toEqual([
      'Shop-Account.Prepare',
      'Shop-prod-Platform.Prepare',
      'Shop-Account.Deploy',
      'Shop-prod-Platform.Deploy',
      'Shop-prod-Inventory.Prepare',
      'Shop-prod-Users.Prepare',
      'Shop-prod-Inventory.Deploy',
      'Shop-prod-Users.Deploy',
      'Shop-prod-Orders.Prepare',
      'Shop-prod-Orders.Deploy',
    ]);
    expect.hasAssertions();
    for (const action of prod.filter((a) => a.Name.endsWith('.Prepare'))) {
      expect(action.Configuration.RoleArn).toEqual({
        'Fn::Sub':
          'arn:${AWS::Partition}:iam::222222222222:role/cdk-hnb659fds-cfn-exec-role-222222222222-eu-west-1',
      });
      expect(JSON.stringify(action.RoleArn)).toContain(
        ':iam::222222222222:role/cdk-hnb659fds-deploy-role-222222222222-eu-west-1',
      );
    }
  });

  it('encrypts artifacts and every build with its rotating key, and logs artifact access', () => {
    const key = stack.getLogicalId(stack.artifactKey.node.defaultChild as CfnElement);
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: {
              SSEAlgorithm: 'aws:kms',
              KMSMasterKeyID: { 'Fn::GetAtt': [key, 'Arn'] },
            },
          },
        ],
      },
      LoggingConfiguration: {
        DestinationBucketName: { Ref: Match.stringLikeRegexp('^AccessLogs[0-9A-F]{8}$') },
        LogFilePrefix: 'artifacts/',
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
    const projects = Object.entries(template.findResources('AWS::CodeBuild::Project'));
    // Synth, self-update, the asset project and the smoke test.
    expect(projects).toHaveLength(4);
    for (const [id, project] of projects) {
      expect({ id, key: project.Properties.EncryptionKey }).toEqual({
        id,
        key: { 'Fn::GetAtt': [key, 'Arn'] },
      });
    }
  });

  it('passes cdk-nag with a specific reason for each acknowledged finding of the pipeline', () => {
    const report = JSON.parse(fs.readFileSync(path.join(outdir, 'validation-report.json'), 'utf8'));
    expect(report.pluginReports.flatMap((r: { violations?: unknown[] }) => r.violations ?? [])).toEqual([]);
    const acks = acknowledgements(stack);
    expect(acks.length).toBeGreaterThan(10);
    for (const ack of acks) {
      expect({ ...ack, reasonLength: ack.reason.length >= 40 }).toEqual({ ...ack, reasonLength: true });
    }
    expect(acks.filter((a) => a.path === 'Shop-Pipeline/SmokeTestUser').map((a) => a.id)).toEqual([
      'Annotation::AwsSolutions-SMG4',
    ]);
    expect(acks.map((a) => a.id)).toContain(
      'Annotation::AwsSolutions-IAM5[Resource::arn:aws:ssm:eu-west-1:111111111111:parameter/Shop/dev/*]',
    );
  });

  it('passes cfn-lint: the pipeline and every stack of both stages', () => {
    const templates = [
      assembly.getStackByName('Shop-Pipeline').templateFullPath,
      ...assembly.nestedAssemblies.flatMap((nested) =>
        nested.nestedAssembly.stacks.map((s) => s.templateFullPath),
      ),
    ];
    expect(templates).toHaveLength(11);
    const lint = spawnSync('cfn-lint', ['--format', 'parseable', ...templates], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(lint.error).toBeUndefined();
    expect(lint.stdout + lint.stderr).toBe('');
    expect(lint.status).toBe(0);
  });

  it('deploys the stacks of each environment with their stack names and recorded stateful logical IDs', () => {
    const recording = JSON.parse(
      fs.readFileSync(path.join(ROOT, RECORDING_FILE), 'utf8'),
    ) as StatefulRecording;
    expect.hasAssertions();
    for (const [envName, nested] of [
      ['dev', 'assembly-Shop-Pipeline-Dev'],
      ['prod', 'assembly-Shop-Pipeline-Prod'],
    ] as const) {
      const stacks = assembly.nestedAssemblies.find((a) => a.directoryName === nested)!.nestedAssembly.stacks;
      expect(stacks.map((s) => s.stackName).sort()).toEqual(Object.keys(recording[envName]).sort());
      for (const s of stacks) {
        const resources = s.template.Resources as Record<string, { Type: string }>;
        const missing = recording[envName][s.stackName].filter(
          (r) => resources[r.logicalId]?.Type !== r.type,
        );
        expect({ stack: s.stackName, missing }).toEqual({ stack: s.stackName, missing: [] });
      }
    }
    // The dev stage's stacks are the standalone dev stacks, resource for resource. Only IDs that CDK derives from
    // the construct path (which now includes the stage) or from a content hash move: Lambda permissions and SQS
    // event source mappings (path), API deployments and function versions (hash). None holds state: moving an
    // environment from manual deploys to the pipeline recreates them.
    const DERIVED = [
      'AWS::Lambda::Permission',
      'AWS::Lambda::EventSourceMapping',
      'AWS::ApiGateway::Deployment',
      'AWS::Lambda::Version',
    ];
    const summary = (resources: Record<string, { Type: string }>) => ({
      kept: Object.entries(resources)
        .filter(([, r]) => !DERIVED.includes(r.Type))
        .map(([id, r]) => `${id} ${r.Type}`)
        .sort(),
      derived: DERIVED.map((type) => Object.values(resources).filter((r) => r.Type === type).length),
    });
    for (const name of STANDALONE) {
      const standalone = assembly.getStackByName(name).template.Resources;
      const staged = assembly.nestedAssemblies
        .find((a) => a.directoryName === 'assembly-Shop-Pipeline-Dev')!
        .nestedAssembly.stacks.find((s) => s.stackName === name)!.template.Resources;
      expect({ name, ...summary(staged) }).toEqual({ name, ...summary(standalone) });
    }
  });
});

describe('PipelineStack, minimal configuration (connection and repository only)', () => {
  it('synthesizes an environment-agnostic pipeline that passes cdk-nag and cfn-lint', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-pipeline-agnostic-'));
    try {
      const app = new App({
        outdir,
        context: {
          ...cdkJsonContext(),
          'aws:cdk:bundling-stacks': [],
          pipeline: JSON.stringify({ connectionArn: CONNECTION, repository: 'acme/shop' }),
        },
      });
      const stack = addPipeline(app)!;
      addSecurityChecks(app);
      // Throws on any unacknowledged finding: the acknowledgements match ARNs made of pseudo parameters too.
      const assembly = app.synth();
      expect(stack.resolve(stack.account)).toEqual({ Ref: 'AWS::AccountId' });
      const ids = acknowledgements(stack).map((a) => a.id);
      expect(ids).toContain(
        'Annotation::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:parameter/Shop/dev/*]',
      );
      const source = Template.fromStack(stack).findResources('AWS::CodePipeline::Pipeline');
      expect(JSON.stringify(source)).toContain('"BranchName":"main"');
      const lint = spawnSync(
        'cfn-lint',
        ['--format', 'parseable', assembly.getStackByName('Shop-Pipeline').templateFullPath],
        { cwd: ROOT, encoding: 'utf8' },
      );
      expect({ status: lint.status, output: lint.stdout + lint.stderr }).toEqual({ status: 0, output: '' });
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });
});

describe('bin/app.ts', () => {
  const run = (context: Record<string, unknown>) => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-app-'));
    const result = spawnSync(process.execPath, ['--import', 'tsx', path.join('bin', 'app.ts')], {
      cwd: ROOT,
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH,
        CDK_OUTDIR: outdir,
        CDK_CONTEXT_JSON: JSON.stringify({ ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [], ...context }),
      },
    });
    return { ...result, outdir };
  };

  it('without the pipeline key synthesizes exactly the standalone system, unchanged by the pipeline code', () => {
    const { status, stderr, outdir } = run({ env: 'dev' });
    try {
      expect({ status, stderr }).toEqual({ status: 0, stderr: '' });
      const manifest = JSON.parse(fs.readFileSync(path.join(outdir, 'manifest.json'), 'utf8')) as {
        artifacts: Record<string, { type: string }>;
      };
      const ofType = (type: string) =>
        Object.entries(manifest.artifacts)
          .filter(([, a]) => a.type === type)
          .map(([id]) => id)
          .sort();
      expect(ofType('cdk:cloud-assembly')).toEqual([]);
      expect(ofType('aws:cloudformation:stack')).toEqual(STANDALONE);
      // The templates are those of createShopSystem alone (no stage, no pipeline around it).
      const app = new App({ context: { ...cdkJsonContext(), env: 'dev', 'aws:cdk:bundling-stacks': [] } });
      createShopSystem(app, loadEnvironmentConfig('dev'));
      const direct = app.synth({ validateOnSynthesis: false });
      expect.hasAssertions();
      for (const name of STANDALONE) {
        const fromApp = JSON.parse(fs.readFileSync(path.join(outdir, `${name}.template.json`), 'utf8'));
        expect({ name, template: fromApp }).toEqual({ name, template: direct.getStackByName(name).template });
      }
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });

  it('with a bad pipeline value fails before anything is built, naming the keys and values', () => {
    const { status, stderr, outdir } = run({ env: 'dev', pipeline: '{"repository":"nope"}' });
    fs.rmSync(outdir, { recursive: true, force: true });
    expect(status).not.toBe(0);
    expect(stderr).toContain('Invalid pipeline configuration:');
    expect(stderr).toContain(
      'pipeline.connectionArn = undefined: Invalid input: expected string, received undefined',
    );
    expect(stderr).toContain('pipeline.repository = "nope": owner/name, such as my-org/cdk-microservices');
  });
});
