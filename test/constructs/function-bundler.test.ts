import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { BUNDLE_FILE, FunctionBundler, SERVICE_FUNCTION_ESBUILD_OPTIONS, ServiceFunction } from '../../lib';
import { BUNDLE_CACHE_VARIABLE, readBundleSources } from '../../lib/constructs/bundle-cache';
import { cdkJsonContext } from '../../lib/config/cdk-context';
import { HEALTH_HANDLER, ROOT } from '../helpers';

const handlers = (service: string, ...names: string[]) =>
  names.map((name) => path.join(ROOT, 'functions', service, 'handlers', `${name}.ts`));
const [GET_ORDER, PLACE_ORDER] = handlers('orders', 'get-order', 'place-order');
const [GET_STOCK] = handlers('inventory', 'get-stock');

function bundlingApp(context: Record<string, unknown> = {}): App {
  return new App({
    outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'bundler-test-')),
    context: { ...cdkJsonContext(), ...context },
  });
}

function addFunction(stack: Stack, id: string, entry: string): ServiceFunction {
  return new ServiceFunction(stack, id, { entry, serviceName: 'svc', metricsNamespace: 'Test' });
}

function s3KeyOf(stack: Stack, id: string): string {
  const fn = stack.node.findChild(id) as ServiceFunction;
  const logicalId = stack.getLogicalId(fn.function.node.defaultChild as never);
  return (Template.fromStack(stack).toJSON().Resources[logicalId].Properties.Code as { S3Key: string }).S3Key;
}

describe('FunctionBundler', () => {
  it('bundles every announced entry in one esbuild build, then serves the others from it', () => {
    const app = bundlingApp();
    const bundler = FunctionBundler.of(app);
    bundler.prepare([GET_ORDER, PLACE_ORDER, GET_STOCK]);
    const stack = new Stack(app, 'Svc');
    addFunction(stack, 'Get', GET_ORDER);
    addFunction(stack, 'Place', PLACE_ORDER);
    addFunction(stack, 'Stock', GET_STOCK);
    expect(bundler.builds).toBe(1);

    // An entry nobody announced is still bundled, in a build of its own.
    addFunction(stack, 'Health', HEALTH_HANDLER);
    expect(bundler.builds).toBe(2);
    const assembly = app.synth();
    const dirs = fs.readdirSync(assembly.directory).filter((name) => name.startsWith('asset.'));
    expect(dirs).toHaveLength(4);
    for (const dir of dirs) {
      expect(fs.readdirSync(path.join(assembly.directory, dir)).sort()).toEqual([
        BUNDLE_FILE,
        `${BUNDLE_FILE}.map`,
      ]);
    }
  });

  it('gives each entry its own bundle even when entries share a folder', () => {
    const app = bundlingApp();
    const stack = new Stack(app, 'Svc');
    addFunction(stack, 'Get', GET_ORDER);
    addFunction(stack, 'Place', PLACE_ORDER);
    expect(s3KeyOf(stack, 'Get')).not.toEqual(s3KeyOf(stack, 'Place'));
    const bundler = FunctionBundler.of(app);
    const placeOrder = fs.readFileSync(path.join(bundler.bundle(PLACE_ORDER), BUNDLE_FILE), 'utf8');
    const getOrder = fs.readFileSync(path.join(bundler.bundle(GET_ORDER), BUNDLE_FILE), 'utf8');
    // The idempotency-key check lives in place-order.ts only.
    expect(placeOrder.includes('Idempotency-Key must be')).toBe(true);
    expect(getOrder.includes('Idempotency-Key must be')).toBe(false);
  });

  it('writes source maps with project-relative paths, so the asset hash does not depend on where it built', () => {
    const first = bundlingApp();
    const second = bundlingApp();
    const keys = [first, second].map((app) => {
      const stack = new Stack(app, 'Svc');
      addFunction(stack, 'Get', GET_ORDER);
      return s3KeyOf(stack, 'Get');
    });
    expect(keys[0]).toEqual(keys[1]);

    const map = JSON.parse(
      fs.readFileSync(path.join(FunctionBundler.of(first).bundle(GET_ORDER), `${BUNDLE_FILE}.map`), 'utf8'),
    ) as { sources: string[] };
    expect(map.sources).toContain('functions/orders/handlers/get-order.ts');
    expect(map.sources.filter((s) => s.startsWith('..') || path.isAbsolute(s))).toEqual([]);
  });

  it('records what each bundle is made of next to the assembly, for the local hot reload', () => {
    const app = bundlingApp();
    const stack = new Stack(app, 'Svc');
    addFunction(stack, 'Get', GET_ORDER);
    const assetDir = path.join(app.synth().directory, `asset.${s3KeyOf(stack, 'Get').replace(/\.zip$/, '')}`);
    const sources = readBundleSources(assetDir);
    expect(sources).toMatchObject({ entry: GET_ORDER, workingDirectory: process.cwd() });
    expect(sources?.inputs).toEqual(
      expect.arrayContaining([GET_ORDER, path.join(ROOT, 'functions', 'shared', 'http.ts')]),
    );
    // The options are the bundler's own (what a rebuild must use to produce the same bundle).
    expect(sources?.options).toEqual(JSON.parse(JSON.stringify(SERVICE_FUNCTION_ESBUILD_OPTIONS)));
    // The asset folder itself holds only the bundle: its hash, and so the template, do not change.
    expect(fs.readdirSync(assetDir).sort()).toEqual([BUNDLE_FILE, `${BUNDLE_FILE}.map`]);
    // A folder that is not such an asset has no record.
    expect(readBundleSources(path.join(ROOT, 'test', 'local', 'fixtures'))).toBeUndefined();
  });

  it('keeps stack traces pointing at TypeScript lines through the linked source map', () => {
    const entry = path.join(ROOT, 'test', 'fixtures', 'bundling', 'throws.ts');
    const bundle = path.join(FunctionBundler.of(bundlingApp()).bundle(entry), BUNDLE_FILE);
    const script = `const { handler } = await import(${JSON.stringify(bundle)});
      try { await handler(); } catch (error) { process.stdout.write(error.stack); }`;
    const run = spawnSync(process.execPath, ['--enable-source-maps', '--input-type=module', '-e', script], {
      encoding: 'utf8',
    });
    expect(run.stdout).toContain('thrown on line 3 of throws.ts');
    expect(run.stdout).toMatch(/test\/fixtures\/bundling\/throws\.ts:3:\d+/);
  });

  it("leaves the SDK's default credential chain out: functions read the credentials Lambda puts in the environment", () => {
    const bundle = fs.readFileSync(
      path.join(FunctionBundler.of(bundlingApp()).bundle(GET_ORDER), BUNDLE_FILE),
      'utf8',
    );
    // The DynamoDB client is bundled, but none of the SSO / STS web-identity / IMDS providers.
    expect(bundle.includes('dynamodb')).toBe(true);
    for (const marker of [
      'AssumeRoleWithWebIdentity',
      'sso-oidc',
      'credential_process',
      'AWS_WEB_IDENTITY_TOKEN_FILE',
    ]) {
      expect({ marker, present: bundle.includes(marker) }).toEqual({ marker, present: false });
    }
  });

  it('skips bundling for stacks the CLI did not select (cdk deploy OneStack)', () => {
    const app = bundlingApp({ 'aws:cdk:bundling-stacks': ['Other'] });
    const stack = new Stack(app, 'Svc');
    addFunction(stack, 'Get', GET_ORDER);
    expect(FunctionBundler.of(app).builds).toBe(0);
  });

  describe('with the bundle cache on', () => {
    const saved = process.env[BUNDLE_CACHE_VARIABLE];
    let cacheDir: string;
    beforeEach(() => {
      cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bundle-cache-'));
      process.env[BUNDLE_CACHE_VARIABLE] = cacheDir;
    });
    afterEach(() => {
      process.env[BUNDLE_CACHE_VARIABLE] = saved;
    });

    function synthOnce(entries: string[]) {
      const app = bundlingApp();
      const bundler = FunctionBundler.of(app);
      bundler.prepare(entries);
      const stack = new Stack(app, 'Svc');
      entries.forEach((entry, i) => addFunction(stack, `Fn${i}`, entry));
      return { app, bundler, keys: entries.map((_, i) => s3KeyOf(stack, `Fn${i}`)) };
    }

    it('records the sources of a bundle served from the cache too', () => {
      synthOnce([GET_ORDER]);
      const again = synthOnce([GET_ORDER]);
      expect(again.bundler.cacheHits).toBe(1);
      const assetDir = path.join(again.app.outdir, `asset.${again.keys[0].replace(/\.zip$/, '')}`);
      const sources = readBundleSources(assetDir);
      expect(sources?.entry).toBe(GET_ORDER);
      expect(sources?.inputs).toContain(path.join(ROOT, 'functions', 'orders', 'domain', 'order.ts'));
    });

    it('reuses the bundles of an earlier synth whose inputs are unchanged, with the same asset hash', () => {
      const first = synthOnce([GET_ORDER, PLACE_ORDER]);
      expect({ builds: first.bundler.builds, hits: first.bundler.cacheHits }).toEqual({ builds: 1, hits: 0 });
      const second = synthOnce([GET_ORDER, PLACE_ORDER]);
      expect({ builds: second.bundler.builds, hits: second.bundler.cacheHits }).toEqual({
        builds: 0,
        hits: 2,
      });
      expect(second.keys).toEqual(first.keys);
    });

    it('rebuilds exactly the bundle whose input changed', () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bundle-cache-entry-'));
      const entry = path.join(dir, 'handler.ts');
      fs.writeFileSync(entry, "export const handler = async () => 'first version';\n");
      synthOnce([entry, GET_ORDER]);
      fs.writeFileSync(entry, "export const handler = async () => 'second version';\n");
      const again = synthOnce([entry, GET_ORDER]);
      expect({ builds: again.bundler.builds, hits: again.bundler.cacheHits }).toEqual({ builds: 1, hits: 1 });
      const code = fs.readFileSync(path.join(again.bundler.bundle(entry), BUNDLE_FILE), 'utf8');
      expect(code.includes('second version')).toBe(true);
      expect(code.includes('first version')).toBe(false);
    });
  });

  it('names the entry and the cause when bundling fails', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bundler-bad-'));
    const entry = path.join(dir, 'broken.ts');
    fs.writeFileSync(entry, "import { nothing } from './does-not-exist';\nexport const handler = nothing;\n");
    const stack = new Stack(bundlingApp(), 'Svc');
    expect(() => addFunction(stack, 'Broken', entry)).toThrow(
      new RegExp(
        `ServiceFunction: bundling failed for entry ${entry}: .*Could not resolve "./does-not-exist"`,
      ),
    );
  });
});
