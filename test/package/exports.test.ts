import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ts from 'typescript';
import { buildEsm, esmModules, SHOP_OUTPUTS } from '../../scripts/build';

// The package's shape, checked without building or installing it: every entry point in `exports` (and
// `typesVersions`, `bin`) is compiled from a source that exists, the tarball's file list holds the library and
// nothing of the reference system, tests or tooling, and the ESM build keeps one module per source file.
const ROOT = path.join(__dirname, '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  main: string;
  types: string;
  exports: Record<string, string | Record<string, string>>;
  typesVersions: Record<string, Record<string, string[]>>;
  bin: Record<string, string>;
  sideEffects: string[];
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

/** The TypeScript source a dist file is compiled from (`dist/lib/index.js` → `lib/index.ts`). */
function sourceOf(target: string): string {
  return target
    .replace(/^\.\//, '')
    .replace(/^dist\/esm\//, '')
    .replace(/^dist\//, '')
    .replace(/\.(d\.ts|js|mjs)$/, '.ts');
}

/** Every file a target pattern stands for (`*` expanded over the files that exist in its source folder). */
function sourcesOf(target: string): string[] {
  const source = sourceOf(target);
  if (!source.includes('*')) return [source];
  const [dir, suffix] = [path.posix.dirname(source), path.posix.basename(source).replace('*', '')];
  return fs
    .readdirSync(path.join(ROOT, dir))
    .filter((file) => file.endsWith(suffix))
    .map((file) => path.posix.join(dir, file));
}

const conditionsOf = (entry: string | Record<string, string>) =>
  typeof entry === 'string' ? { default: entry } : entry;

describe('package exports', () => {
  it('offers the constructs, the kit, the contracts and the local runtime', () => {
    expect(Object.keys(pkg.exports).sort()).toEqual(
      ['.', './contracts', './kit', './kit/*', './local', './package.json'].sort(),
    );
  });

  it.each(Object.entries(pkg.exports).filter(([subpath]) => subpath !== './package.json'))(
    'compiles %s from sources that exist, with types first',
    (_subpath, entry) => {
      const conditions = conditionsOf(entry);
      expect(Object.keys(conditions)[0]).toBe('types');
      for (const target of Object.values(conditions)) {
        for (const source of sourcesOf(target)) expect(fs.existsSync(path.join(ROOT, source))).toBe(true);
      }
    },
  );

  it('gives the kit and the contracts an ESM build for bundles and a CommonJS one for require', () => {
    for (const subpath of ['./kit', './kit/*', './contracts']) {
      const conditions = conditionsOf(pkg.exports[subpath]);
      expect(conditions.import).toMatch(/^\.\/dist\/esm\/.*\.mjs$/);
      expect(conditions.require).toMatch(/^\.\/dist\/.*\.js$/);
    }
  });

  it('maps every subpath in typesVersions to the same declarations, for moduleResolution node10', () => {
    const mapped = pkg.typesVersions['*'];
    for (const [subpath, entry] of Object.entries(pkg.exports)) {
      if (subpath === '.' || subpath === './package.json') continue;
      expect(mapped[subpath.slice(2)]).toEqual([conditionsOf(entry).types.replace(/^\.\//, '')]);
    }
    expect(conditionsOf(pkg.exports['.']).types).toBe(`./${pkg.types}`);
    expect(conditionsOf(pkg.exports['.']).default).toBe(`./${pkg.main}`);
  });

  it('ships the CLI as the cdk-microservices command', () => {
    expect(pkg.bin).toEqual({ 'cdk-microservices': 'dist/local/cli/index.js' });
    expect(fs.existsSync(path.join(ROOT, sourceOf(pkg.bin['cdk-microservices'])))).toBe(true);
  });

  it('asks consumers for the CDK, cdk-nag, esbuild and zod as peers, and installs what the runtime imports', () => {
    // zod is a peer: a team's own contracts and the kit must share one zod (its types and its locale config).
    expect(Object.keys(pkg.peerDependencies)).toEqual(
      expect.arrayContaining(['aws-cdk-lib', 'constructs', 'cdk-nag', 'esbuild', 'zod']),
    );
    for (const peer of ['aws-cdk-lib', 'constructs', 'cdk-nag', 'esbuild', 'zod']) {
      expect(pkg.devDependencies[peer]).toBeDefined();
    }
    expect(pkg.dependencies.zod).toBeUndefined();
    // Caret ranges (the lockfile pins this repository's own versions): with exact pins, a team's newer
    // @aws-sdk/lib-dynamodb would leave a second copy of the SDK nested under this package, in every bundle.
    for (const dependency of ['@aws-sdk/client-sqs', '@aws-sdk/client-dynamodb', 'ajv', 'jose']) {
      expect(pkg.dependencies[dependency]).toMatch(/^\^\d+\.\d+\.\d+$/);
    }
    // The kit's declarations name aws-lambda's types: a consumer must get them with the package.
    expect(pkg.dependencies['@types/aws-lambda']).toMatch(/^\^\d+\.\d+\.\d+$/);
  });
});

/** Every TypeScript file under `dir` (relative to the repository). */
function sourcesUnder(dir: string): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const relative = path.posix.join(dir, entry.name);
    if (entry.isDirectory()) return sourcesUnder(relative);
    return entry.name.endsWith('.ts') ? [relative] : [];
  });
}

describe('package dependencies', () => {
  const shipped = [
    'lib/index.ts',
    ...sourcesUnder('lib/constructs'),
    ...sourcesUnder('local'),
    ...sourcesUnder('functions/shared'),
    ...sourcesUnder('functions/contracts'),
    ...sourcesUnder('functions/platform'),
  ];

  it('declares every package the shipped code imports as a dependency or a peer', () => {
    const declared = new Set([...Object.keys(pkg.dependencies), ...Object.keys(pkg.peerDependencies)]);
    const missing = new Set<string>();
    for (const file of shipped) {
      const code = fs.readFileSync(path.join(ROOT, file), 'utf8');
      // TypeScript's own pre-processor finds imports, dynamic imports and require() calls (not strings).
      const { importedFiles } = ts.preProcessFile(code, true, true);
      for (const specifier of importedFiles.map((f) => f.fileName)) {
        if (specifier.startsWith('node:') || specifier.startsWith('.')) continue;
        const name = specifier.startsWith('@')
          ? specifier.split('/').slice(0, 2).join('/')
          : specifier.split('/')[0];
        // `aws-lambda` is a types-only module, installed as @types/aws-lambda.
        if (!declared.has(name === 'aws-lambda' ? '@types/aws-lambda' : name))
          missing.add(`${name} (${file})`);
      }
    }
    expect([...missing]).toEqual([]);
  });
});

describe('package contents (npm pack --dry-run)', () => {
  const files = (() => {
    const result = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    if (result.status !== 0) throw new Error(`npm pack --dry-run failed: ${result.stderr}`);
    return (JSON.parse(result.stdout) as Array<{ files: Array<{ path: string }> }>)[0].files.map(
      (f) => f.path,
    );
  })();

  it('ships the sources the constructs bundle at synth: the kit, the platform handlers, the contracts', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'functions/shared/http.ts',
        'functions/shared/lambda-credentials.ts',
        'functions/platform/handlers/pre-token-generation.ts',
        'functions/contracts/events.ts',
        'package.json',
      ]),
    );
  });

  it('ships nothing of the reference system, the tests or the tooling', () => {
    const forbidden = [
      ...SHOP_OUTPUTS.map((output) => `${output}/`),
      'lib/',
      'bin/',
      'local/',
      'functions/orders/',
      'functions/users/',
      'functions/inventory/',
      'test/',
      'bench/',
      'scripts/',
      'tools/',
      'cdk.',
    ];
    expect(files.filter((file) => forbidden.some((prefix) => file.startsWith(prefix)))).toEqual([]);
  });
});

describe('ESM build of the kit and the contracts', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'esm-build-'));
  afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

  it('writes one module per source file, importing its siblings instead of inlining them', async () => {
    const written = await buildEsm(out);
    expect(written).toHaveLength(esmModules().length);
    const imports: string[] = [];
    for (const file of written) {
      const absolute = path.join(ROOT, file);
      const code = fs.readFileSync(absolute, 'utf8');
      for (const [, from, bare] of code.matchAll(/from\s*"(\.[^"]+)"|import\s*"(\.[^"]+)"/g)) {
        imports.push(path.resolve(path.dirname(absolute), from ?? bare));
      }
    }
    expect(imports.length).toBeGreaterThan(written.length);
    expect(imports.filter((target) => !target.endsWith('.mjs') || !fs.existsSync(target))).toEqual([]);
    // The only module run for its side effect (zod's English messages) is the one package.json declares.
    expect(fs.existsSync(path.join(out, 'functions/shared/schema.mjs'))).toBe(true);
    expect(pkg.sideEffects).toContain('./dist/esm/functions/shared/schema.mjs');
  });
});
