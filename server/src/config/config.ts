// Resolves the server configuration: flags > environment > config file > defaults, all driven by
// SERVER_OPTIONS so that no option is listed twice.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CONFIG_FILE_OPTION, SERVER_OPTIONS } from './options.ts';
import type { OptionSpec, ServerConfig, ServerOptionSpec } from './options.ts';

export type { ServerConfig } from './options.ts';

export class ConfigError extends Error {
  code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConfigError';
    this.code = code;
  }
}

export type FlagValues = Record<string, string | boolean | undefined>;

/** Parses `argv` against `options`; unknown flags and stray arguments are errors with a message. */
export function parseFlags(argv: string[], options: readonly OptionSpec[], allowPositionals = false): { values: FlagValues; positionals: string[] } {
  const spec: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const o of options) if (o.flag) spec[o.flag] = { type: o.type === 'boolean' ? 'boolean' : 'string', ...(o.short ? { short: o.short } : {}) };
  try {
    const parsed = parseArgs({ args: argv, options: spec, strict: true, allowPositionals });
    return { values: parsed.values as FlagValues, positionals: parsed.positionals };
  } catch (error) {
    throw new ConfigError('BAD_ARGUMENTS', (error as Error).message, { cause: error });
  }
}

/** loadConfig(['--port', '0'], process.env) → the full configuration, or a ConfigError. */
export function loadConfig(argv: string[], env: NodeJS.ProcessEnv): ServerConfig {
  const { values } = parseFlags(argv, [...SERVER_OPTIONS, CONFIG_FILE_OPTION]);
  return resolveConfig(values, env);
}

/** The layering step, for callers (CLI subcommands) that parsed flags together with their own options. */
export function resolveConfig(flags: FlagValues, env: NodeJS.ProcessEnv): ServerConfig {
  const configPath = (flags[CONFIG_FILE_OPTION.flag!] as string | undefined) ?? env[CONFIG_FILE_OPTION.env!];
  const file = configPath ? readConfigFile(configPath) : {};
  const config: Record<string, unknown> = {};
  for (const option of SERVER_OPTIONS) {
    const fromFlag = option.flag ? flags[option.flag] : undefined;
    const fromEnv = option.env ? env[option.env] : undefined;
    const raw = fromFlag ?? (fromEnv === '' ? undefined : fromEnv) ?? file[option.key] ?? option.default;
    if (raw === undefined) continue;
    const source = fromFlag !== undefined ? `--${option.flag}` : fromEnv ? option.env! : option.key in file ? `${configPath}: ${option.key}` : 'default';
    config[option.key] = coerce(option, raw, source);
  }
  config.dataDir = resolve(config.dataDir as string);
  if (Boolean(config.tlsCert) !== Boolean(config.tlsKey)) {
    throw new ConfigError('BAD_OPTION', 'TLS needs both --tls-cert and --tls-key');
  }
  return config as unknown as ServerConfig;
}

function readConfigFile(path: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError('BAD_CONFIG_FILE', `cannot read config file ${path}: ${(error as Error).message}`, { cause: error });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError('BAD_CONFIG_FILE', `config file ${path} must hold a JSON object`);
  }
  const known = new Set<string>(SERVER_OPTIONS.map((o) => o.key));
  const unknown = Object.keys(parsed).filter((k) => !known.has(k));
  if (unknown.length) {
    throw new ConfigError('BAD_CONFIG_FILE', `config file ${path} has unknown keys: ${unknown.join(', ')} (known: ${[...known].join(', ')})`);
  }
  return parsed as Record<string, unknown>;
}

function coerce(option: ServerOptionSpec, raw: unknown, source: string): string | number | boolean {
  const bad = (why: string) => new ConfigError('BAD_OPTION', `${source}: ${why}`);
  if (option.type === 'integer') {
    const value = typeof raw === 'number' ? raw : typeof raw === 'string' && /^-?\d+$/.test(raw.trim()) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(value)) throw bad(`expected an integer, got ${JSON.stringify(raw)}`);
    if (option.min !== undefined && value < option.min) throw bad(`must be at least ${option.min}`);
    if (option.max !== undefined && value > option.max) throw bad(`must be at most ${option.max}`);
    return value;
  }
  if (option.type === 'boolean') {
    if (typeof raw === 'boolean') return raw;
    if (raw === 'true' || raw === '1') return true;
    if (raw === 'false' || raw === '0') return false;
    throw bad(`expected true or false, got ${JSON.stringify(raw)}`);
  }
  if (typeof raw !== 'string') throw bad(`expected a string, got ${JSON.stringify(raw)}`);
  if (option.choices && !option.choices.includes(raw)) throw bad(`expected one of ${option.choices.join(', ')}, got ${raw}`);
  return raw;
}
