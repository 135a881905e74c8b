import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readCdkApp, resolveAppCommand, synthesizeApp } from '../../local/cli/cdk-app';

// How the CLI runs a CDK app as the cdk CLI would: cdk.json's app command (npx resolved to the local bin, tsx
// run as node with its loader), CDK_OUTDIR and CDK_CONTEXT_JSON.

const ROOT = path.join(__dirname, '..', '..');

function appIn(cdkJson: unknown, files: Record<string, string> = {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-app-'));
  fs.writeFileSync(path.join(dir, 'cdk.json'), JSON.stringify(cdkJson));
  for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), content);
  return dir;
}

describe('the app command', () => {
  it('runs `npx tsx <file>` as node with the local tsx loader (no npx, no second process)', () => {
    const command = resolveAppCommand(readCdkApp(ROOT));
    expect(command).toEqual({
      command: process.execPath,
      args: [
        '--import',
        expect.stringMatching(/^file:\/\/.*\/node_modules\/tsx\/dist\/loader\.mjs$/),
        'bin/app.ts',
      ],
      shell: false,
    });
  });

  it('runs `npx <bin>` as node_modules/.bin/<bin> found above the app, and shell syntax through the shell', () => {
    // Inside the repository, so that its node_modules/.bin is "above the app" (.cache may not exist yet).
    const cache = path.join(ROOT, 'node_modules', '.cache');
    fs.mkdirSync(cache, { recursive: true });
    const dir = fs.mkdtempSync(path.join(cache, 'cdk-app-'));
    try {
      fs.writeFileSync(path.join(dir, 'cdk.json'), JSON.stringify({ app: 'npx --yes esbuild --version' }));
      expect(resolveAppCommand(readCdkApp(dir))).toMatchObject({
        command: path.join(ROOT, 'node_modules', '.bin', 'esbuild'),
        args: ['--version'],
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    const shell = appIn({ app: 'FOO=1 node app.js && echo done' });
    expect(resolveAppCommand(readCdkApp(shell))).toEqual({
      command: 'FOO=1 node app.js && echo done',
      args: [],
      shell: true,
    });
  });

  it('merges cdk.context.json over cdk.json context', () => {
    const dir = appIn({ app: 'node app.js', context: { a: 1, b: 1 } }, { 'cdk.context.json': '{"b":2}' });
    expect(readCdkApp(dir).context).toEqual({ a: 1, b: 2 });
  });

  it('refuses a folder without cdk.json, and a cdk.json without app, saying what to do', () => {
    expect(() => readCdkApp(os.tmpdir())).toThrow(
      /No cdk.json in .*: run cdk-microservices in the folder of a CDK app/,
    );
    expect(() => readCdkApp(appIn({ context: {} }))).toThrow(/has no "app" command/);
  });

  it('synthesizes with CDK_OUTDIR and CDK_CONTEXT_JSON (cdk.json context + the given context) in the app folder', async () => {
    const dir = appIn(
      { app: 'node app.js', context: { fromCdkJson: 'yes' } },
      {
        'app.js': `const fs = require('fs'); const path = require('path');
const out = process.env.CDK_OUTDIR;
fs.writeFileSync(path.join(out, 'manifest.json'), JSON.stringify({ version: '1', artifacts: {} }));
fs.writeFileSync(path.join(out, 'seen.json'), JSON.stringify({ cwd: process.cwd(), context: JSON.parse(process.env.CDK_CONTEXT_JSON) }));`,
      },
    );
    const outdir = path.join(dir, 'out');
    await synthesizeApp(readCdkApp(dir), { outdir, context: { env: 'local' } });
    expect(JSON.parse(fs.readFileSync(path.join(outdir, 'seen.json'), 'utf8'))).toEqual({
      cwd: fs.realpathSync(dir),
      context: { fromCdkJson: 'yes', env: 'local' },
    });
  });

  it("fails with the app's output when it fails, and when it writes no assembly", async () => {
    const failing = appIn(
      { app: 'node app.js' },
      { 'app.js': "console.error('boom: no stack'); process.exit(3);" },
    );
    await expect(synthesizeApp(readCdkApp(failing), { outdir: path.join(failing, 'out') })).rejects.toThrow(
      /failed to synthesize \("node app.js" exited with 3\):\nboom: no stack/,
    );
    const silent = appIn({ app: 'node app.js' }, { 'app.js': '' });
    await expect(synthesizeApp(readCdkApp(silent), { outdir: path.join(silent, 'out') })).rejects.toThrow(
      /wrote no cloud assembly to CDK_OUTDIR/,
    );
  });
});
