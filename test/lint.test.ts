import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

// Static checks run as tests, so a lint or type error shows up in the `N passed, N failed` count.
const ROOT = path.join(__dirname, '..');
const bin = (name: string) => path.join(ROOT, 'node_modules', '.bin', name);

function run(command: string, args: string[]) {
  const result = spawnSync(bin(command), args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 32 * 1024 * 1024 });
  return {
    status: result.status,
    output: `${result.stdout ?? ''}${result.stderr ?? ''}`.trim(),
    error: result.error,
  };
}

describe('static checks', () => {
  it('type-checks with tsc (strict)', () => {
    const result = run('tsc', ['--noEmit', '-p', '.']);
    expect(result.error).toBeUndefined();
    expect({ status: result.status, output: result.output }).toEqual({ status: 0, output: '' });
  });

  it('passes eslint', () => {
    const result = run('eslint', ['.']);
    expect(result.error).toBeUndefined();
    expect({ status: result.status, output: result.output }).toEqual({ status: 0, output: '' });
  });

  it('is formatted with prettier', () => {
    const result = run('prettier', ['--check', '--log-level', 'warn', '.']);
    expect(result.error).toBeUndefined();
    expect({ status: result.status, output: result.output }).toEqual({ status: 0, output: '' });
  });
});
