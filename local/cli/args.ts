/**
 * Command-line parsing of `cdk-microservices`: one command, then its options and positional arguments. Every
 * command declares its options; anything else is a usage error (exit code 2).
 */
import { UserError } from './cdk-app';

/** Exit code of a usage error (unknown command or option, missing or bad value). */
export const USAGE_EXIT_CODE = 2;

/** An option a command accepts. */
export interface OptionSpec {
  /** Long name without dashes, e.g. `port`. */
  readonly name: string;
  /** Whether it takes a value (`--port 3000` or `--port=3000`). */
  readonly value?: 'number' | 'string';
  /** Whether it may be given several times (values collected in order). */
  readonly repeatable?: boolean;
  /** One-line description for `--help`. */
  readonly description: string;
  /** Placeholder of the value in `--help`, e.g. `<path>`. */
  readonly placeholder?: string;
}

/** A command of the CLI. */
export interface CommandSpec {
  readonly name: string;
  /** e.g. `<user>`; what positional arguments it takes. */
  readonly usage?: string;
  readonly summary: string;
  readonly options: readonly OptionSpec[];
  /** Minimum and maximum number of positional arguments. */
  readonly positionals: readonly [number, number];
}

/** What was parsed. */
export interface ParsedCommand {
  readonly command: CommandSpec;
  /** Option values by name: `true` for flags (`false` for `--no-x`), numbers, strings, or arrays of them. */
  readonly options: Readonly<Record<string, boolean | number | string | Array<number | string>>>;
  readonly positionals: readonly string[];
  /** `--help` was asked for. */
  readonly help: boolean;
}

/** A usage error: printed with a pointer to `--help`, exit code 2. */
export class UsageError extends UserError {
  constructor(message: string) {
    super(
      `${message}\nRun \`cdk-microservices --help\` for the commands and their options.`,
      USAGE_EXIT_CODE,
    );
    this.name = 'UsageError';
  }
}

/** Parses `argv` (without node and the script) against `commands`; `undefined` command means top-level help. */
export function parseArgs(
  argv: readonly string[],
  commands: readonly CommandSpec[],
): ParsedCommand | { readonly command?: undefined; readonly help: true } {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    const topic = first === 'help' ? rest[0] : undefined;
    const command = topic ? commands.find((c) => c.name === topic) : undefined;
    if (topic && !command) throw new UsageError(`Unknown command "${topic}".`);
    return command ? { command, options: {}, positionals: [], help: true } : { help: true };
  }
  if (first.startsWith('-')) throw new UsageError(`Expected a command before "${first}".`);
  const command = commands.find((c) => c.name === first);
  if (!command) {
    throw new UsageError(`Unknown command "${first}" (commands: ${commands.map((c) => c.name).join(', ')}).`);
  }
  const options: Record<string, boolean | number | string | Array<number | string>> = {};
  const positionals: string[] = [];
  let help = false;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (arg === '--') {
      positionals.push(...rest.slice(i + 1));
      break;
    }
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    if (!arg.startsWith('--')) {
      if (arg.startsWith('-') && arg !== '-')
        throw new UsageError(`Unknown option "${arg}" for ${command.name}.`);
      positionals.push(arg);
      continue;
    }
    const [rawName, inline] = splitOnce(arg.slice(2), '=');
    const negated = rawName.startsWith('no-') && !command.options.some((o) => o.name === rawName);
    const name = negated ? rawName.slice(3) : rawName;
    const spec = command.options.find((o) => o.name === name);
    if (!spec || (negated && spec.value)) {
      throw new UsageError(
        `Unknown option "--${rawName}" for ${command.name}${command.options.length ? ` (options: ${command.options.map(optionLabel).join(', ')})` : ''}.`,
      );
    }
    if (!spec.value) {
      if (inline !== undefined) throw new UsageError(`--${name} takes no value.`);
      options[name] = !negated;
      continue;
    }
    const text = inline ?? rest[++i];
    if (text === undefined || (inline === undefined && text.startsWith('--'))) {
      throw new UsageError(`--${name} needs a value${spec.placeholder ? ` ${spec.placeholder}` : ''}.`);
    }
    let value: number | string = text;
    if (spec.value === 'number') {
      value = Number(text);
      if (!Number.isInteger(value) || value < 0 || value > 65535) {
        throw new UsageError(`--${name} must be a whole number from 0 to 65535, not "${text}".`);
      }
    }
    if (spec.repeatable) {
      const list = (options[name] as Array<number | string> | undefined) ?? [];
      list.push(value);
      options[name] = list;
    } else {
      if (options[name] !== undefined) throw new UsageError(`--${name} is given twice.`);
      options[name] = value;
    }
  }
  if (!help) {
    const [min, max] = command.positionals;
    if (positionals.length < min) {
      throw new UsageError(`${command.name} needs ${command.usage ?? `${min} argument(s)`}.`);
    }
    if (positionals.length > max) {
      throw new UsageError(
        `${command.name} takes ${max === 0 ? 'no arguments' : `at most ${max}`}; unexpected "${positionals[max]}".`,
      );
    }
  }
  return { command, options, positionals, help };
}

function splitOnce(text: string, separator: string): [string, string | undefined] {
  const index = text.indexOf(separator);
  return index < 0 ? [text, undefined] : [text.slice(0, index), text.slice(index + 1)];
}

function optionLabel(option: OptionSpec): string {
  return `--${option.name}${option.value ? ` ${option.placeholder ?? `<${option.value}>`}` : ''}`;
}

/** `--help` text of the CLI, or of one command. */
export function helpText(commands: readonly CommandSpec[], command?: CommandSpec): string {
  if (command) {
    const lines = [
      `Usage: cdk-microservices ${command.name}${command.usage ? ` ${command.usage}` : ''}${command.options.length ? ' [options]' : ''}`,
      '',
      command.summary,
    ];
    if (command.options.length > 0) {
      lines.push('', 'Options:');
      for (const option of command.options) {
        lines.push(`  ${optionLabel(option).padEnd(22)} ${option.description}`);
      }
    }
    return lines.join('\n');
  }
  const lines = ['Usage: cdk-microservices <command> [options]', '', 'Commands:'];
  for (const c of commands)
    lines.push(`  ${`${c.name}${c.usage ? ` ${c.usage}` : ''}`.padEnd(22)} ${c.summary}`);
  for (const c of commands.filter((c) => c.options.length > 0)) {
    lines.push('', `Options of ${c.name}:`);
    for (const option of c.options) lines.push(`  ${optionLabel(option).padEnd(22)} ${option.description}`);
  }
  lines.push('', 'Run `cdk-microservices <command> --help` for one command.');
  return lines.join('\n');
}
