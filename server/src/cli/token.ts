// `pswm-server token create|list|revoke`: against the configured database, or a running server (--server).
import { createToken, listTokens, revokeToken, ROLES } from '../auth/tokens.ts';
import type { Role, TokenRecord } from '../auth/tokens.ts';
import { ConfigError } from '../config/config.ts';
import { EXIT_FAILURE, EXIT_OK } from './command.ts';
import type { CommandContext, GroupCommand, LeafCommand } from './command.ts';
import { cliActor, withDatabase } from './local-database.ts';
import { callServer, SERVER_URL_OPTION, serverUrl } from './remote.ts';
import { formatTable, formatTime } from './table.ts';

const create: LeafCommand = {
  summary: 'Create an API token and print it once (only its sha256 hash is stored).',
  options: [
    { flag: 'role', type: 'string', choices: ROLES, description: 'Role of the token (required).' },
    { flag: 'name', type: 'string', description: 'A name to recognise the token by; defaults to <role>-token.' },
    SERVER_URL_OPTION,
  ],
  usesServerConfig: true,
  async run(ctx) {
    const role = ctx.values.role as string | undefined;
    if (!role || !(ROLES as readonly string[]).includes(role)) throw new ConfigError('BAD_ARGUMENTS', `--role must be one of ${ROLES.join(', ')}`);
    const name = (ctx.values.name as string | undefined) ?? `${role}-token`;
    const { token, id } = serverUrl(ctx)
      ? await callServer<{ token: string; id: string }>(ctx, 'POST', '/api/v1/tokens', { role, name })
      : await withDatabase(ctx, async (db) => {
        const created = await db.sql.begin((tx) => createToken(tx, { role: role as Role, name, actor: cliActor() }));
        return { token: created.token, id: created.record.id };
      });
    ctx.stdout(token);
    ctx.stderr(`created ${role} token "${name}" (id ${id}); it is shown only this once`);
    return EXIT_OK;
  },
};

const list: LeafCommand = {
  summary: 'List API tokens (never the tokens themselves).',
  options: [SERVER_URL_OPTION],
  usesServerConfig: true,
  async run(ctx) {
    const tokens = serverUrl(ctx)
      ? (await callServer<{ tokens: TokenRecord[] }>(ctx, 'GET', '/api/v1/tokens')).tokens
      : await withDatabase(ctx, (db) => listTokens(db.sql));
    ctx.stdout(formatTokens(tokens));
    return EXIT_OK;
  },
};

const revoke: LeafCommand = {
  summary: 'Revoke an API token by id; requests with it are refused from then on.',
  args: '<id>',
  options: [SERVER_URL_OPTION],
  usesServerConfig: true,
  async run(ctx) {
    const [id] = ctx.positionals;
    if (!id || ctx.positionals.length > 1) throw new ConfigError('BAD_ARGUMENTS', 'expected exactly one token id');
    const record = serverUrl(ctx)
      ? await callServer<TokenRecord>(ctx, 'DELETE', `/api/v1/tokens/${encodeURIComponent(id)}`)
      : await withDatabase(ctx, (db) => db.sql.begin((tx) => revokeToken(tx, id, cliActor())));
    if (!record) {
      ctx.stderr(`no token with id ${id}`);
      return EXIT_FAILURE;
    }
    ctx.stdout(`revoked token "${record.name}" (id ${record.id})`);
    return EXIT_OK;
  },
};

export const token: GroupCommand = {
  summary: 'Manage API tokens (admin and viewer).',
  subcommands: { create: async () => create, list: async () => list, revoke: async () => revoke },
};

function formatTokens(tokens: TokenRecord[]): string {
  return formatTable(
    ['ID', 'NAME', 'ROLE', 'CREATED', 'LAST USED', 'REVOKED'],
    tokens.map((t) => [t.id, t.name, t.role, formatTime(t.createdAt), formatTime(t.lastUsedAt), formatTime(t.revokedAt)]),
  );
}
