// `pswm-server otp create|list|revoke`: enrollment codes bound to an organization and location.
import { createCode, listCodes, revokeCode } from '../agents/otp.ts';
import type { CodeRecord } from '../agents/otp.ts';
import { ConfigError } from '../config/config.ts';
import { PLACEMENT_OPTIONS } from './agent.ts';
import { durationFlag, onePositional, requiredFlag } from './args.ts';
import { EXIT_FAILURE, EXIT_OK } from './command.ts';
import type { GroupCommand, LeafCommand } from './command.ts';
import { cliActor } from './local-database.ts';
import { callServer, SERVER_URL_OPTION, serverOrDatabase } from './remote.ts';
import { formatTable, formatTime } from './table.ts';

const create: LeafCommand = {
  summary: 'Create an enrollment code and print it once (only its sha256 hash is stored).',
  options: [
    ...PLACEMENT_OPTIONS,
    { flag: 'uses', type: 'integer', description: 'How many agents may enrol with the code (required).' },
    { flag: 'expires', type: 'string', description: 'How long the code stays valid: 30m, 24h, 7d, ... (required).' },
    SERVER_URL_OPTION,
  ],
  usesServerConfig: true,
  async run(ctx) {
    const organization = requiredFlag(ctx, 'org');
    const location = requiredFlag(ctx, 'location');
    const uses = Number(requiredFlag(ctx, 'uses'));
    if (!Number.isInteger(uses) || uses < 1) throw new ConfigError('BAD_ARGUMENTS', '--uses must be a positive integer');
    const expires = durationFlag(ctx, 'expires');
    const created = await serverOrDatabase(
      ctx,
      () => callServer<CodeRecord & { code: string }>(ctx, 'POST', '/api/v1/otp', { organization, location, uses, expires_in: expires.text }),
      (db) => db.sql.begin((tx) => createCode(tx, { organization, location, uses, expiresSeconds: expires.seconds, actor: cliActor() }))
        .then(({ code, record }) => ({ code, ...record })),
    );
    ctx.stdout(created.code);
    ctx.stderr(`created code ${created.id} for ${organization}/${location}: ${uses} use(s), expires ${formatTime(created.expiresAt)}; it is shown only this once`);
    return EXIT_OK;
  },
};

const list: LeafCommand = {
  summary: 'List enrollment codes (never the codes themselves).',
  options: [SERVER_URL_OPTION],
  usesServerConfig: true,
  async run(ctx) {
    const codes = await serverOrDatabase(
      ctx,
      async () => (await callServer<{ codes: CodeRecord[] }>(ctx, 'GET', '/api/v1/otp')).codes,
      (db) => listCodes(db.sql),
    );
    ctx.stdout(formatTable(
      ['ID', 'ORGANIZATION', 'LOCATION', 'USES LEFT', 'EXPIRES', 'REVOKED', 'CREATED BY'],
      codes.map((c) => [c.id, c.organization, c.location, `${c.usesRemaining}/${c.uses}`, formatTime(c.expiresAt), formatTime(c.revokedAt), c.createdBy]),
    ));
    return EXIT_OK;
  },
};

const revoke: LeafCommand = {
  summary: 'Revoke an enrollment code by id; enrollments with it are refused from then on.',
  args: '<id>',
  options: [SERVER_URL_OPTION],
  usesServerConfig: true,
  async run(ctx) {
    const id = onePositional(ctx, 'code id');
    const record = await serverOrDatabase(
      ctx,
      () => callServer<CodeRecord>(ctx, 'DELETE', `/api/v1/otp/${encodeURIComponent(id)}`),
      (db) => db.sql.begin((tx) => revokeCode(tx, id, cliActor())),
    );
    if (!record) {
      ctx.stderr(`no code with id ${id}`);
      return EXIT_FAILURE;
    }
    ctx.stdout(`revoked code ${record.id} (${record.organization}/${record.location})`);
    return EXIT_OK;
  },
};

export const otp: GroupCommand = {
  summary: 'Manage one-time enrollment codes (OTP): create, list, revoke.',
  subcommands: { create: async () => create, list: async () => list, revoke: async () => revoke },
};
