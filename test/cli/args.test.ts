import * as os from 'node:os';
import { main } from '../../local/cli/index';
import { parseArgs } from '../../local/cli/args';
import { COMMANDS } from '../../local/cli/index';

// The command line of `cdk-microservices`: commands, options and the errors a typo gets (exit code 2).

async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('cdk-microservices', () => {
  it('lists every command and its options with --help (and with no command)', async () => {
    for (const argv of [['--help'], []]) {
      const { code, out } = await run(...argv);
      expect(code).toBe(0);
      for (const command of ['dev', 'describe', 'token [<user>]', 'check [<assembly-dir>...]']) {
        expect(out).toContain(command);
      }
      for (const option of ['--port <n>', '--enforce', '--watch', '--with <path>', '--env <name>']) {
        expect(out).toContain(option);
      }
    }
  });

  it('shows the help of one command', async () => {
    const { code, out } = await run('dev', '--help');
    expect(code).toBe(0);
    expect(out).toMatch(/^Usage: cdk-microservices dev \[options\]/);
    expect(out).toContain('--with <path>');
  });

  it('refuses an unknown command with exit code 2, naming the commands', async () => {
    const { code, err } = await run('deploy');
    expect(code).toBe(2);
    expect(err).toMatch(/Unknown command "deploy" \(commands: dev, describe, token, check\)/);
    expect(err).toContain('cdk-microservices --help');
  });

  it('refuses an unknown option with exit code 2, naming the options of the command', async () => {
    const { code, err } = await run('dev', '--prot', '3000');
    expect(code).toBe(2);
    expect(err).toMatch(
      /Unknown option "--prot" for dev \(options: --port <n>, --enforce, --watch, --with <path>\)/,
    );
  });

  it.each([
    [['dev', '--port'], /--port needs a value/],
    [['dev', '--port', 'http'], /--port must be a whole number from 0 to 65535, not "http"/],
    [['dev', '--port', '1', '--port', '2'], /--port is given twice/],
    [['dev', 'extra'], /dev takes no arguments; unexpected "extra"/],
    [['token', 'a@example.com', 'b@example.com'], /token takes at most 1; unexpected "b@example.com"/],
    [['dev', '--no-port'], /Unknown option "--no-port"/],
    [['check', '-x'], /Unknown option "-x" for check/],
    [['--port', '3000'], /Expected a command before "--port"/],
  ])('refuses %j with exit code 2', async (argv, message) => {
    const { code, err } = await run(...argv);
    expect(code).toBe(2);
    expect(err).toMatch(message);
  });

  it('parses flags, negated flags, values and repeated values', () => {
    const parsed = parseArgs(
      ['dev', '--port=0', '--no-enforce', '--no-watch', '--with', '../shop', '--with=../b'],
      COMMANDS,
    );
    expect(parsed.command?.name).toBe('dev');
    expect('options' in parsed && parsed.options).toEqual({
      port: 0,
      enforce: false,
      watch: false,
      with: ['../shop', '../b'],
    });
  });

  it('says how to start the runtime when token finds none running (exit code 1)', async () => {
    const cwd = process.cwd();
    process.chdir(os.tmpdir());
    try {
      const { code, err } = await run('token');
      expect(code).toBe(1);
      expect(err).toMatch(/not running here: start it with `cdk-microservices dev`/);
    } finally {
      process.chdir(cwd);
    }
  });

  it('says where cdk.json is missing when dev runs outside a CDK app (exit code 1)', async () => {
    const cwd = process.cwd();
    process.chdir(os.tmpdir());
    try {
      const { code, err } = await run('dev', '--port', '0');
      expect(code).toBe(1);
      expect(err).toMatch(/No cdk.json in .*: run cdk-microservices in the folder of a CDK app/);
    } finally {
      process.chdir(cwd);
    }
  });
});
