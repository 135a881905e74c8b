/**
 * The `cdk-microservices` command line: `dev`, `describe`, `token <user>`, `check`. The package's `bin` points at
 * the compiled form of this file; in this repository `npx tsx local/cli/index.ts <command>` runs it from source.
 */
// This machine may run Node 20; the SDK's notice that its 2027 releases need Node 22 is not actionable here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
import type { CommandSpec, ParsedCommand } from './args';
import { helpText, parseArgs } from './args';
import { startEarlySynth, UserError } from './cdk-app';

/** The commands and their options. */
export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'dev',
    summary:
      "Runs the CDK app in this folder offline: synthesizes its local environment with cdk.json's app command, provisions it into an AWS emulator (a stand-in platform when it attaches to one by name), serves every API on one port, runs handlers, queues and pipes, reloads on edits.",
    positionals: [0, 0],
    options: [
      {
        name: 'port',
        value: 'number',
        placeholder: '<n>',
        description: 'API port (default: $PORT or 3000; 0 = a free port)',
      },
      {
        name: 'enforce',
        description: 'Evaluate IAM, KMS and WAF as AWS would (default; --no-enforce turns it off)',
      },
      {
        name: 'watch',
        description: 'Reload handlers and infrastructure on edits (default; --no-watch turns it off)',
      },
      {
        name: 'with',
        value: 'string',
        repeatable: true,
        placeholder: '<path>',
        description: "Also run the CDK app in <path> (repeatable), e.g. a checkout of the platform's app",
      },
    ],
  },
  {
    name: 'describe',
    summary:
      'Synthesizes the app in this folder and prints its stacks, resources, routes, subscriptions and registry entries.',
    positionals: [0, 0],
    options: [
      {
        name: 'env',
        value: 'string',
        placeholder: '<name>',
        description: 'Environment (env context; default local)',
      },
    ],
  },
  {
    name: 'token',
    usage: '[<user>]',
    summary: 'Prints an access token of a demo user of the running dev (default demo@example.com).',
    positionals: [0, 1],
    options: [],
  },
  {
    name: 'check',
    usage: '[<assembly-dir>...]',
    summary:
      'Evaluates every runtime interaction as AWS would authorize it (default: the app in this folder for dev and prod); exits 1 naming what AWS would refuse.',
    positionals: [0, Number.MAX_SAFE_INTEGER],
    options: [
      {
        name: 'env',
        value: 'string',
        repeatable: true,
        placeholder: '<name>',
        description: 'Environment to synthesize and check (repeatable; default dev and prod)',
      },
    ],
  },
];

/** Runs one command line; resolves to the process exit code (long-running `dev` resolves once it is serving). */
export async function main(
  argv: readonly string[],
  io: { out: (line: string) => void; err: (line: string) => void } = {
    out: (line) => console.log(line),
    err: (line) => console.error(line),
  },
): Promise<number> {
  let parsed: ParsedCommand | { command?: undefined; help: true };
  try {
    parsed = parseArgs(argv, COMMANDS);
  } catch (error) {
    return report(error, io.err);
  }
  if (!parsed.command) {
    io.out(helpText(COMMANDS));
    return 0;
  }
  if (parsed.help) {
    io.out(helpText(COMMANDS, parsed.command));
    return 0;
  }
  try {
    return await run(parsed, io);
  } catch (error) {
    return report(error, io.err);
  }
}

async function run(parsed: ParsedCommand, io: { out: (line: string) => void }): Promise<number> {
  const { options, positionals } = parsed;
  switch (parsed.command.name) {
    case 'dev': {
      // From now on a Ctrl-C during start-up exits at once, with the emulator (killed on exit).
      handleSignals(io.out);
      const withApps = ((options.with as string[] | undefined) ?? []).map(String);
      // The apps start synthesizing now, while the runtime's modules load.
      const earlySynth = startEarlySynth([process.cwd(), ...withApps]);
      const { runDev } = await import('./dev');
      const session = await runDev({
        earlySynth,
        ...(options.port !== undefined ? { port: Number(options.port) } : {}),
        ...(options.enforce === false ? { enforce: false } : {}),
        watch: options.watch !== false,
        withApps,
        print: io.out,
      });
      stopOnSignals(() => session.stop(), io.out);
      return 0;
    }
    case 'describe': {
      const { runDescribe } = await import('./describe');
      await runDescribe({ env: options.env === undefined ? undefined : String(options.env), print: io.out });
      return 0;
    }
    case 'token': {
      const { tokenFor } = await import('./token');
      io.out(await tokenFor(positionals[0]));
      return 0;
    }
    case 'check': {
      const { runCheck } = await import('./check');
      return runCheck({
        assemblies: positionals,
        envs: ((options.env as string[] | undefined) ?? []).map(String),
        print: io.out,
      });
    }
    default:
      throw new UserError(`Unknown command ${parsed.command.name}`, 2);
  }
}

function report(error: unknown, err: (line: string) => void): number {
  if (error instanceof UserError) {
    err(error.message);
    return error.exitCode;
  }
  err(
    error instanceof Error
      ? process.env.DEBUG
        ? (error.stack ?? error.message)
        : error.message
      : String(error),
  );
  return 1;
}

/** What a first Ctrl-C (or SIGTERM) runs once `dev` is serving; before that a signal exits at once. */
let shutdown: (() => Promise<void>) | undefined;
let signals = 0;

/**
 * One handler per signal for the life of the process (removing and re-adding handlers can drop a signal that is
 * being delivered): during start-up it exits at once (the emulator is killed with the process), once `dev` serves
 * the first signal stops everything and a second exits at once.
 */
function handleSignals(out: (line: string) => void): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    if (process.listenerCount(signal) > 0) continue;
    process.on(signal, () => {
      signals += 1;
      if (!shutdown || signals > 1) {
        out(`\n${signal}: exiting now.`);
        process.exit(130);
      }
      out(
        `\n${signal}: stopping the API, pollers, functions and the emulator (Ctrl-C again to exit at once)...`,
      );
      shutdown().then(
        () => {
          out('Stopped.');
          process.exit(0);
        },
        (error: unknown) => {
          out(`Stop failed: ${String(error)}`);
          process.exit(1);
        },
      );
    });
  }
}

function stopOnSignals(stop: () => Promise<void>, out: (line: string) => void): void {
  handleSignals(out);
  shutdown = stop;
}

if (require.main === module) {
  handleSignals((line) => console.log(line));
  main(process.argv.slice(2)).then(
    (code) => {
      // `dev` keeps running (its servers hold the event loop); other commands end with their code.
      if (code !== 0) process.exit(code);
      process.exitCode = 0;
    },
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : String(error));
      process.exit(1);
    },
  );
}
