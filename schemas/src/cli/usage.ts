// Argument parsing shared by the subcommands: node:util parseArgs, `--help` on every command, and
// one error type for usage mistakes (exit status 2, as POSIX tools do for bad invocations).
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';

export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

export class UsageError extends Error {}

/** Where a tool and its commands write: the process's streams unless told otherwise (a test runs
 * the policy CLI in its own process with buffers, see schemas/src/cli/main.test.ts). */
export interface Output {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

export const STDIO: Output = process;

export interface Command {
  name: string;
  summary: string;
  /** The full `--help` text: usage line, options with their defaults, exit status. */
  help: string;
  run(args: string[], io?: Output): Promise<number>;
}

const HELP_OPTION = { help: { type: 'boolean', short: 'h' } } as const;

/** Parses `args` strictly; returns null after printing the help when `--help` is given. */
export function parseCommandArgs<T extends ParseArgsOptionsConfig>(command: Pick<Command, 'name' | 'help'>, args: string[], options: T, maxPositionals: number, io: Output = STDIO) {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { ...options, ...HELP_OPTION }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(`${(error as Error).message.replace(/\. To specify a positional.*$/s, '')}`, { cause: error });
  }
  if ((parsed.values as { help?: boolean }).help) {
    io.stdout.write(command.help);
    return null;
  }
  if (parsed.positionals.length > maxPositionals) throw new UsageError(`unexpected argument "${parsed.positionals[maxPositionals]}"`);
  return parsed;
}

export function printJson(value: unknown, io: Output = STDIO): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** `<tool> <version> (node <version>)`: what `--version` prints, for a bug report or an inventory. */
export function versionLine(tool: string, version: string): string {
  return `${tool} ${version} (node ${process.versions.node})`;
}

export function isVersionFlag(arg: string | undefined): boolean {
  return arg === '--version' || arg === '-V';
}

/** A tool's entry point: `<tool> <command> [options]`. Prints the tool help for no command or
 * `--help`, the version for `--version`, turns a UsageError into exit status 2 with a hint, and
 * passes any other error to `onError` (an exit status, or undefined to rethrow). */
export async function runTool(tool: { name: string; help: string; version: () => Promise<string>; commands: Command[]; onError?: (error: unknown, command: string, io: Output) => number | undefined }, argv: string[], io: Output = STDIO): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(tool.help);
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (isVersionFlag(name)) {
    io.stdout.write(`${versionLine(tool.name, await tool.version())}\n`);
    return EXIT.ok;
  }
  const command = tool.commands.find((c) => c.name === name);
  try {
    if (!command) throw new UsageError(`unknown command "${name}"`);
    return await command.run(args, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`${tool.name}${command ? ` ${command.name}` : ''}: ${error.message}\nRun "${tool.name} ${command ? `${command.name} ` : ''}--help" for usage.\n`);
      return EXIT.usage;
    }
    const status = tool.onError?.(error, name, io);
    if (status === undefined) throw error;
    return status;
  }
}
