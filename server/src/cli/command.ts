// The CLI's shape: a command is either a leaf (options + run) or a table of subcommands. One
// dispatcher parses flags against the command's own options plus, when it needs them, the server
// configuration options, and prints `--help` from the same tables.
import { ConfigError, parseFlags, resolveConfig } from '../config/config.ts';
import type { FlagValues, ServerConfig } from '../config/config.ts';
import { CONFIG_FILE_OPTION, SERVER_OPTIONS, formatOptionsHelp } from '../config/options.ts';
import type { OptionSpec } from '../config/options.ts';
import { isVersionFlag, versionLine } from '@pswm/schemas/cli-usage';

export interface CommandContext {
  values: FlagValues;
  positionals: string[];
  env: NodeJS.ProcessEnv;
  /** The server configuration resolved from these flags, the environment and the config file. */
  config(): ServerConfig;
  stdout(line: string): void;
  stderr(line: string): void;
}

export interface LeafCommand {
  summary: string;
  /** Positional arguments, for the usage line: "<id>". */
  args?: string;
  options: readonly OptionSpec[];
  /** Whether the command reads the server configuration (its flags are then accepted too). */
  usesServerConfig: boolean;
  run(ctx: CommandContext): Promise<number>;
}

export interface GroupCommand {
  summary: string;
  subcommands: CommandTable;
  /** The tool's version, for `--version` (the top-level group only). */
  version?: () => Promise<string>;
}

export type Command = LeafCommand | GroupCommand;
export type CommandTable = Record<string, () => Promise<Command>>;

export const HELP_OPTION: OptionSpec = { flag: 'help', short: 'h', type: 'boolean', description: 'Show this help and exit.' };

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export interface Io {
  env: NodeJS.ProcessEnv;
  stdout(line: string): void;
  stderr(line: string): void;
}

export async function dispatch(path: string, command: Command, argv: string[], io: Io): Promise<number> {
  if ('subcommands' in command) {
    const [name, ...rest] = argv;
    if (!name || name === '--help' || name === '-h') {
      io.stdout(await groupHelp(path, command));
      return name ? EXIT_OK : EXIT_USAGE;
    }
    if (command.version && isVersionFlag(name)) {
      io.stdout(versionLine(path, await command.version()));
      return EXIT_OK;
    }
    const load = Object.hasOwn(command.subcommands, name) ? command.subcommands[name] : undefined;
    if (!load) {
      io.stderr(`${path}: unknown command "${name}" (try ${path} --help)`);
      return EXIT_USAGE;
    }
    return dispatch(`${path} ${name}`, await load(), rest, io);
  }
  const options = optionsOf(command);
  let parsed: { values: FlagValues; positionals: string[] };
  try {
    parsed = parseFlags(argv, options, Boolean(command.args));
  } catch (error) {
    io.stderr(`${path}: ${(error as Error).message} (try ${path} --help)`);
    return EXIT_USAGE;
  }
  if (parsed.values.help) {
    io.stdout(leafHelp(path, command));
    return EXIT_OK;
  }
  let config: ServerConfig | undefined;
  const ctx: CommandContext = {
    ...parsed,
    env: io.env,
    config: () => (config ??= resolveConfig(parsed.values, io.env)),
    stdout: io.stdout,
    stderr: io.stderr,
  };
  try {
    return await command.run(ctx);
  } catch (error) {
    const usage = error instanceof ConfigError;
    io.stderr(`${path}: ${(error as Error).message}`);
    return usage ? EXIT_USAGE : EXIT_FAILURE;
  }
}

function optionsOf(command: LeafCommand): OptionSpec[] {
  return [...command.options, ...(command.usesServerConfig ? [...SERVER_OPTIONS, CONFIG_FILE_OPTION] : []), HELP_OPTION];
}

function leafHelp(path: string, command: LeafCommand): string {
  const sections = [`Usage: ${path}${command.args ? ` ${command.args}` : ''} [options]`, command.summary];
  if (command.options.length) sections.push(`Options:\n${formatOptionsHelp(command.options)}`);
  if (command.usesServerConfig) {
    sections.push(`Server configuration (flags > environment > config file > defaults):\n${formatOptionsHelp([...SERVER_OPTIONS, CONFIG_FILE_OPTION])}`);
  }
  sections.push(formatOptionsHelp([HELP_OPTION]));
  return sections.join('\n\n');
}

async function groupHelp(path: string, command: GroupCommand): Promise<string> {
  const entries = await Promise.all(Object.entries(command.subcommands).map(async ([name, load]) => [name, (await load()).summary] as const));
  const width = Math.max(...entries.map(([name]) => name.length)) + 2;
  return [
    `Usage: ${path} <command> [options]`,
    command.summary,
    `Commands:\n${entries.map(([name, summary]) => `  ${name.padEnd(width)}${summary}`).join('\n')}`,
    `Run "${path} <command> --help" for the options of a command.`,
  ].join('\n\n');
}
