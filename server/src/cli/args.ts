// Argument checks shared by the admin subcommands; a failure is a usage error (exit 2).
import { parseDurationSeconds } from '../agents/duration.ts';
import { ConfigError } from '../config/config.ts';
import type { CommandContext } from './command.ts';

export function requiredFlag(ctx: CommandContext, flag: string): string {
  const value = ctx.values[flag];
  if (typeof value !== 'string' || !value) throw new ConfigError('BAD_ARGUMENTS', `--${flag} is required`);
  return value;
}

export function onePositional(ctx: CommandContext, what: string): string {
  const [value] = ctx.positionals;
  if (!value || ctx.positionals.length > 1) throw new ConfigError('BAD_ARGUMENTS', `expected exactly one ${what}`);
  return value;
}

/** Seconds of a duration flag ("24h", "7d"), or `fallback` when the flag is absent. */
export function durationFlag(ctx: CommandContext, flag: string, fallback?: number): { text?: string; seconds: number } {
  const text = ctx.values[flag] as string | undefined;
  const seconds = text === undefined ? fallback : parseDurationSeconds(text);
  if (!seconds) throw new ConfigError('BAD_ARGUMENTS', `--${flag} must be a duration such as 30m, 24h or 7d${text === undefined ? '' : `, not "${text}"`}`);
  return { text, seconds };
}
