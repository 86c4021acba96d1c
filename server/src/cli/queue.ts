// `pswm-server queue list|approve|reject`: agents that registered without a credential wait here.
import { approveRequest, listRequests, rejectRequest } from '../agents/queue.ts';
import type { RequestRecord, RequestStatus } from '../agents/queue.ts';
import { ConfigError } from '../config/config.ts';
import { PLACEMENT_OPTIONS } from './agent.ts';
import { onePositional, requiredFlag } from './args.ts';
import { EXIT_FAILURE, EXIT_OK } from './command.ts';
import type { CommandContext, GroupCommand, LeafCommand } from './command.ts';
import { cliActor } from './local-database.ts';
import { callServer, SERVER_URL_OPTION, serverOrDatabase } from './remote.ts';
import { formatTable, formatTime } from './table.ts';

const STATUSES = ['pending', 'approved', 'rejected', 'all'] as const;

const list: LeafCommand = {
  summary: 'List enrollment requests (pending ones unless --status says otherwise).',
  options: [{ flag: 'status', type: 'string', choices: STATUSES, default: 'pending', description: 'Which requests to list.' }, SERVER_URL_OPTION],
  usesServerConfig: true,
  async run(ctx) {
    const status = (ctx.values.status as string | undefined) ?? 'pending';
    if (!(STATUSES as readonly string[]).includes(status)) throw new ConfigError('BAD_ARGUMENTS', `--status must be one of ${STATUSES.join(', ')}`);
    const only = status === 'all' ? undefined : (status as RequestStatus);
    const requests = await serverOrDatabase(
      ctx,
      async () => (await callServer<{ requests: RequestRecord[] }>(ctx, 'GET', `/api/v1/enroll/queue${only ? `?status=${only}` : ''}`)).requests,
      (db) => listRequests(db.sql, only),
    );
    ctx.stdout(formatTable(
      ['ID', 'NAME', 'HOSTNAME', 'STATUS', 'REQUESTED', 'DECIDED BY', 'PLACED IN'],
      requests.map((r) => [r.id, r.name, r.hostname, r.status, formatTime(r.createdAt), r.decidedBy ?? '-', r.organization ? `${r.organization}/${r.location}` : '-']),
    ));
    return EXIT_OK;
  },
};

const approve: LeafCommand = {
  summary: 'Approve a pending request, placing the agent in an organization and location.',
  args: '<id>',
  options: [...PLACEMENT_OPTIONS, SERVER_URL_OPTION],
  usesServerConfig: true,
  async run(ctx) {
    const id = onePositional(ctx, 'request id');
    const organization = requiredFlag(ctx, 'org');
    const location = requiredFlag(ctx, 'location');
    const decided = await serverOrDatabase(
      ctx,
      () => callServer<RequestRecord>(ctx, 'POST', `/api/v1/enroll/queue/${encodeURIComponent(id)}/approve`, { organization, location }),
      (db) => db.sql.begin((tx) => approveRequest(tx, id, { organization, location, actor: cliActor() })),
    );
    return report(ctx, id, decided, (r) => `approved "${r.name}" into ${organization}/${location} (agent id ${r.agentId})`);
  },
};

const reject: LeafCommand = {
  summary: 'Reject a pending request; the agent learns it on its next poll.',
  args: '<id>',
  options: [SERVER_URL_OPTION],
  usesServerConfig: true,
  async run(ctx) {
    const id = onePositional(ctx, 'request id');
    const decided = await serverOrDatabase(
      ctx,
      () => callServer<RequestRecord>(ctx, 'POST', `/api/v1/enroll/queue/${encodeURIComponent(id)}/reject`),
      (db) => db.sql.begin((tx) => rejectRequest(tx, id, cliActor())),
    );
    return report(ctx, id, decided, (r) => `rejected "${r.name}"`);
  },
};

function report(ctx: CommandContext, id: string, decided: RequestRecord | undefined, describe: (r: RequestRecord) => string): number {
  if (!decided) {
    ctx.stderr(`no enrollment request ${id}`);
    return EXIT_FAILURE;
  }
  ctx.stdout(describe(decided));
  return EXIT_OK;
}

export const queue: GroupCommand = {
  summary: 'Manage the enrollment queue: list, approve, reject.',
  subcommands: { list: async () => list, approve: async () => approve, reject: async () => reject },
};
