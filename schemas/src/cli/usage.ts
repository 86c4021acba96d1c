// Argument parsing shared by the subcommands: node:util parseArgs, `--help` on every command, and
// one error type for usage mistakes (exit status 2, as POSIX tools do for bad invocations).
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';

export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

export class UsageError extends Error {}

export interface Command {
  name: string;
  summary: string;
  /** The full `--help` text: usage line, options with their defaults, exit status. */
  help: string;
  run(args: string[]): Promise<number>;
}

const HELP_OPTION = { help: { type: 'boolean', short: 'h' } } as const;

/** Parses `args` strictly; returns null after printing the help when `--help` is given. */
export function parseCommandArgs<T extends ParseArgsOptionsConfig>(command: Pick<Command, 'name' | 'help'>, args: string[], options: T, maxPositionals: number) {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { ...options, ...HELP_OPTION }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(`${(error as Error).message.replace(/\. To specify a positional.*$/s, '')}`, { cause: error });
  }
  if ((parsed.values as { help?: boolean }).help) {
    process.stdout.write(command.help);
    return null;
  }
  if (parsed.positionals.length > maxPositionals) throw new UsageError(`unexpected argument "${parsed.positionals[maxPositionals]}"`);
  return parsed;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
