import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { RouteScopes } from '../../lib';
import { HttpMethod, Microservice, PlatformReference, ROUTE_SCOPES_METADATA, RouteAccess } from '../../lib';
import { cdkJsonContext } from '../../lib/config/cdk-context';
import { loadEnvironmentConfig } from '../../lib/config/environments';
import { addSecurityChecks, createShopSystem } from '../../lib/stacks/shop-system';
import { HEALTH_HANDLER, ROOT } from '../helpers';
import type { SynthResult } from './synth';
import { acknowledgements, synthReferenceSystem } from './synth';

describe('reference system, env=dev (bundled as deployed)', () => {
  let dev: SynthResult;
  beforeAll(() => {
    dev = synthReferenceSystem('dev', { bundle: true });
  });
  afterAll(() => fs.rmSync(dev.outdir, { recursive: true, force: true }));

  it('synthesizes the platform stack and one stack per service', () => {
    expect(dev.assembly.stacks.map((s) => s.stackName).sort()).toEqual([
      'Shop-Account',
      ...['Inventory', 'Orders', 'Platform', 'Users'].map((name) => `Shop-dev-${name}`),
    ]);
  });

  it('passes the cdk-nag AwsSolutions and Serverless packs with no unacknowledged finding', () => {
    // synth() throws in tests when a validation plugin reports a violation; the report lists none.
    const report = JSON.parse(fs.readFileSync(path.join(dev.outdir, 'validation-report.json'), 'utf8'));
    const violations = report.pluginReports.flatMap((r: { violations?: unknown[] }) => r.violations ?? []);
    expect(violations).toEqual([]);
  });

  it('gives every acknowledged finding a specific reason', () => {
    const acks = acknowledgements(dev.app);
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) {
      expect({ ...ack, reasonLength: ack.reason.length >= 40 }).toEqual({ ...ack, reasonLength: true });
    }
  });

  it('passes cfn-lint with no errors or warnings', () => {
    const templates = dev.assembly.stacks.map((s) => s.templateFullPath);
    const lint = spawnSync('cfn-lint', ['--format', 'parseable', ...templates], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(lint.error).toBeUndefined();
    expect(lint.stdout + lint.stderr).toBe('');
    expect(lint.status).toBe(0);
  });

  it("makes every alarm of every service notify the platform's alarm topic and the configured external topic", () => {
    // The SLO burn-rate window alarms are the inputs of composite alarms: only the composite notifies, so an
    // incident pages once (checked below with the other alarms); the windows themselves have no action.
    const sloWindow = /-SLO-[a-z]+-burn-rate-\d+[mh]$/;
    let alarms = 0;
    let windows = 0;
    for (const stack of dev.assembly.stacks.filter((s) => !/Platform|Account/.test(s.stackName))) {
      const { Parameters = {}, Conditions = {}, Resources } = stack.template;
      const parameterFor = (key: string) =>
        Object.entries(Parameters as Record<string, { Default?: string }>).find(
          ([, p]) => p.Default === `/Shop/dev/platform/${key}`,
        )?.[0];
      const topic = parameterFor('alarm-topic-arn');
      const external = parameterFor('external-alarm-topic-arn');
      for (const alarm of Object.values(
        Resources as Record<
          string,
          { Type: string; Properties: { AlarmName?: string; AlarmActions: unknown[] } }
        >,
      )) {
        if (alarm.Type !== 'AWS::CloudWatch::Alarm' && alarm.Type !== 'AWS::CloudWatch::CompositeAlarm')
          continue;
        if (alarm.Type === 'AWS::CloudWatch::Alarm' && sloWindow.test(alarm.Properties.AlarmName ?? '')) {
          windows++;
          expect(alarm.Properties.AlarmActions).toBeUndefined();
          continue;
        }
        alarms++;
        const [first, second, ...rest] = alarm.Properties.AlarmActions;
        expect(first).toEqual({ Ref: topic });
        expect(second).toEqual({
          'Fn::If': [expect.any(String), { Ref: 'AWS::NoValue' }, { Ref: external }],
        });
        const condition = (second as { 'Fn::If': [string] })['Fn::If'][0];
        expect(Conditions[condition]).toEqual({ 'Fn::Equals': [{ Ref: external }, 'none'] });
        expect(rest).toEqual([]);
      }
    }
    expect(alarms).toBeGreaterThan(0);
    // Two SLOs per service, each with two window pairs (1 h/5 min, 6 h/30 min).
    expect(windows).toBe(3 * 2 * 4);
  });

  it("records each service's route scopes in the assembly, all declared by the platform's resource server", () => {
    const platform = dev.assembly.getStackByName('Shop-dev-Platform').template;
    const [server] = Object.values(
      platform.Resources as Record<
        string,
        { Type: string; Properties: { Scopes: Array<{ ScopeName: string }> } }
      >,
    ).filter((r) => r.Type === 'AWS::Cognito::UserPoolResourceServer');
    const declared = server.Properties.Scopes.map((scope) => scope.ScopeName);
    const recorded = dev.assembly.stacks.flatMap((stack) =>
      stack.findMetadataByType(ROUTE_SCOPES_METADATA).map((entry) => entry.data as unknown as RouteScopes),
    );
    expect(recorded.map((r) => r.serviceName).sort()).toEqual(['inventory', 'orders', 'users']);
    for (const service of recorded) {
      expect({
        service: service.serviceName,
        undeclared: service.scopes.filter((s) => !declared.includes(s)),
      }).toEqual({ service: service.serviceName, undeclared: [] });
    }
    expect(recorded.find((r) => r.serviceName === 'inventory')?.scopes).toEqual([
      'inventory.admin',
      'inventory.read',
    ]);
  });

  it('has no Fn::ImportValue (nor exports) in any template: services attach through the registry', () => {
    for (const stack of dev.assembly.stacks) {
      const text = JSON.stringify(stack.template);
      expect({ stack: stack.stackName, imports: text.includes('Fn::ImportValue') }).toEqual({
        stack: stack.stackName,
        imports: false,
      });
      const exported = Object.values(stack.template.Outputs ?? {}).filter(
        (o) => (o as { Export?: unknown }).Export,
      );
      expect(exported).toEqual([]);
    }
  });

  it('bundles every function locally into one minified ESM file with an external source map and the SDK inside', () => {
    const assetDirs = fs
      .readdirSync(dev.outdir)
      .filter((name) => name.startsWith('asset.'))
      .map((name) => path.join(dev.outdir, name))
      .filter((dir) => fs.statSync(dir).isDirectory());
    // 1 platform trigger + 5 users routes + 4 orders routes + 1 orders consumer + 2 inventory routes + 2 consumers
    expect(assetDirs).toHaveLength(15);
    for (const dir of assetDirs) {
      expect(fs.readdirSync(dir).sort()).toEqual(['index.mjs', 'index.mjs.map']);
      const code = fs.readFileSync(path.join(dir, 'index.mjs'), 'utf8');
      // Minified: long lines (esbuild keeps only the newlines inside template literals).
      expect(code.length / code.split('\n').length).toBeGreaterThan(1000);
      // Assert on facts, not on the code itself: a failure should not print a megabyte of bundle.
      expect({ linkedSourceMap: code.trimEnd().endsWith('//# sourceMappingURL=index.mjs.map') }).toEqual({
        linkedSourceMap: true,
      });
      expect({ importsSdk: /from\s*["']@aws-sdk\//.test(code) }).toEqual({ importsSdk: false });
      expect({ importsPowertools: /from\s*["']@aws-lambda-powertools\//.test(code) }).toEqual({
        importsPowertools: false,
      });
    }
  });

  it('loads every bundled function in a fresh Node.js process with the environment its template gives it', () => {
    const loaded: string[] = [];
    for (const stack of dev.assembly.stacks) {
      const resources = Object.values(
        stack.template.Resources as Record<
          string,
          {
            Type: string;
            Properties: {
              Description?: string;
              Code: { S3Key: string };
              Environment?: { Variables?: Record<string, unknown> };
            };
          }
        >,
      );
      for (const fn of resources.filter((r) => r.Type === 'AWS::Lambda::Function')) {
        const entry = path.join(
          dev.outdir,
          `asset.${String(fn.Properties.Code.S3Key).replace(/\.zip$/, '')}`,
          'index.mjs',
        );
        // Values that only exist once deployed (table names, registry URLs) are placeholders here.
        const variables = Object.fromEntries(
          Object.entries((fn.Properties.Environment?.Variables ?? {}) as Record<string, unknown>).map(
            ([k, v]) => [
              k,
              typeof v === 'string' ? v : k.endsWith('_URL') ? 'http://127.0.0.1:9/v1/' : 'placeholder',
            ],
          ),
        );
        const script = `const m = await import(${JSON.stringify(entry)}); process.stdout.write(typeof m.handler);`;
        const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
          encoding: 'utf8',
          env: {
            PATH: process.env.PATH,
            AWS_REGION: 'eu-west-1',
            POWERTOOLS_LOG_LEVEL: 'SILENT',
            // The SDK warns that its 2027 releases need Node 22: Lambda runs 24, this machine 20.
            AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
            ...variables,
          },
        });
        expect({ fn: fn.Properties.Description, out: run.stdout, err: run.stderr }).toEqual({
          fn: fn.Properties.Description,
          out: 'function',
          err: '',
        });
        loaded.push(String(fn.Properties.Description));
      }
    }
    expect(loaded).toHaveLength(15);
  });

  it('runs the bundled health handler in a fresh Node.js process, as Lambda would load it', () => {
    const users = dev.assembly.getStackByName('Shop-dev-Users').template;
    const fn = Object.values(
      users.Resources as Record<
        string,
        { Type: string; Properties: { Description?: string; Code: { S3Key: string } } }
      >,
    ).find((r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Description === 'users: GET /health');
    const assetHash = String(fn!.Properties.Code.S3Key).replace(/\.zip$/, '');
    const entry = path.join(dev.outdir, `asset.${assetHash}`, 'index.mjs');
    const script = `
      const { handler } = await import(${JSON.stringify(entry)});
      const event = { httpMethod: 'GET', path: '/health', headers: {}, requestContext: { requestId: 'smoke-1' } };
      const context = { functionName: 'health', awsRequestId: 'a', getRemainingTimeInMillis: () => 3000 };
      const result = await handler(event, context);
      process.stdout.write('RESULT ' + JSON.stringify(result));`;
    const run = spawnSync(process.execPath, ['--enable-source-maps', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH,
        AWS_REGION: 'eu-west-1',
        ENV_NAME: 'dev',
        POWERTOOLS_SERVICE_NAME: 'users',
        POWERTOOLS_METRICS_NAMESPACE: 'Shop',
        POWERTOOLS_LOG_LEVEL: 'SILENT',
        POWERTOOLS_METRICS_DISABLED: 'true',
      },
    });
    expect(run.stderr).toBe('');
    const result = JSON.parse(run.stdout.slice(run.stdout.indexOf('RESULT ') + 7));
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body)).toEqual({ status: 'ok', service: 'users', environment: 'dev' });
    expect(result.headers['x-correlation-id']).toBe('smoke-1');
  });
});

describe.each(['prod', 'local'])('reference system, env=%s', (envName) => {
  it('synthesizes with clean cdk-nag packs and cfn-lint', () => {
    const result = synthReferenceSystem(envName, { bundle: false });
    expect(result.assembly.stacks.map((s) => s.stackName).sort()).toEqual([
      'Shop-Account',
      ...['Inventory', 'Orders', 'Platform', 'Users'].map((name) => `Shop-${envName}-${name}`),
    ]);
    const templates = result.assembly.stacks.map((s) => s.templateFullPath);
    const lint = spawnSync('cfn-lint', ['--format', 'parseable', ...templates], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(lint.stdout + lint.stderr).toBe('');
    expect(lint.status).toBe(0);
    fs.rmSync(result.outdir, { recursive: true, force: true });
  });
});

describe('synth-time checks across the app', () => {
  it("fail when a service attached by name uses a scope the app's Shop platform does not declare", () => {
    const app = new App({ context: { ...cdkJsonContext(), env: 'dev', 'aws:cdk:bundling-stacks': [] } });
    createShopSystem(app, loadEnvironmentConfig('dev'));
    const stack = new Stack(app, 'Payments-dev');
    new Microservice(stack, 'Payments', {
      serviceName: 'payments',
      platform: PlatformReference.fromRegistry(stack, 'Platform', { appName: 'Shop', envName: 'dev' }),
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      routes: [
        {
          method: HttpMethod.POST,
          path: '/payments',
          entry: HEALTH_HANDLER,
          access: RouteAccess.scopes('payments.write'),
        },
      ],
    });
    expect(() => app.synth()).toThrow(
      /invalid routes\[0\]\.access "payments.write": POST \/payments of service "payments" requires a scope that platform Shop\/dev does not declare \(declared: users.read, users.write, orders.read/,
    );
  });
});

describe('security checks', () => {
  it('fail synthesis on an unacknowledged finding (the checks are live)', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Careless');
    new sqs.Queue(stack, 'PlainQueue', { encryption: sqs.QueueEncryption.UNENCRYPTED });
    addSecurityChecks(app);
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS3|AwsSolutions-SQS4/);
  });
});
