// Admin subcommands with --server URL talk to a running server's API, authenticated by PSWM_ADMIN_TOKEN.
import type { OptionSpec } from '../config/options.ts';
import type { Database } from '../db/database.ts';
import type { CommandContext } from './command.ts';
import { withDatabase } from './local-database.ts';

export const SERVER_URL_OPTION: OptionSpec = {
  flag: 'server', env: 'PSWM_SERVER', type: 'string',
  description: 'URL of a running pswm-server to manage (authenticated with PSWM_ADMIN_TOKEN) instead of the database.',
};

export function serverUrl(ctx: CommandContext): string | undefined {
  return (ctx.values.server as string | undefined) ?? (ctx.env.PSWM_SERVER || undefined);
}

export async function callServer<T>(ctx: CommandContext, method: string, path: string, body?: object): Promise<T> {
  const token = ctx.env.PSWM_ADMIN_TOKEN;
  if (!token) throw new Error('--server needs the environment variable PSWM_ADMIN_TOKEN');
  const url = new URL(path, serverUrl(ctx));
  const response = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const payload = await response.json().catch(() => undefined);
  if (!response.ok) {
    const message = payload?.error?.message ?? response.statusText;
    throw new Error(`${method} ${url.pathname} → ${response.status}: ${message}`);
  }
  return payload as T;
}

/** The same operation against a running server (--server) or, without it, the configured database. */
export function serverOrDatabase<T>(ctx: CommandContext, remote: () => Promise<T>, local: (db: Database) => Promise<T>): Promise<T> {
  return serverUrl(ctx) ? remote() : withDatabase(ctx, local);
}
