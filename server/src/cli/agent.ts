// `pswm-server agent create|list|show|revoke`: against the configured database, or a running server (--server).
import { publishRevocation } from '../agents/access-token.ts';
import { createAgent, DEFAULT_ENROLLMENT_TOKEN_SECONDS, findAgent, listAgents, revokeAgent } from '../agents/agents.ts';
import type { AgentRecord } from '../agents/agents.ts';
import type { Database } from '../db/database.ts';
import { createBus } from '../hub/bus.ts';
import { durationFlag, onePositional, requiredFlag } from './args.ts';
import { EXIT_FAILURE, EXIT_OK } from './command.ts';
import type { CommandContext, GroupCommand, LeafCommand } from './command.ts';
import { cliActor, stderrLogger } from './local-database.ts';
import { callServer, SERVER_URL_OPTION, serverOrDatabase } from './remote.ts';
import { formatTable, formatTime } from './table.ts';

export const PLACEMENT_OPTIONS = [
  { flag: 'org', type: 'string', description: 'Organization (a name in the applied policy; required).' },
  { flag: 'location', type: 'string', description: 'Location within the organization (required).' },
] as const;

const create: LeafCommand = {
  summary: 'Create an agent and print its one-time enrollment token (only its sha256 hash is stored).',
  args: '<name>',
  options: [
    ...PLACEMENT_OPTIONS,
    { flag: 'expires', type: 'string', default: '24h', description: 'How long the token stays valid: 30m, 24h, 7d, ...' },
    SERVER_URL_OPTION,
  ],
  usesServerConfig: true,
  async run(ctx) {
    const name = onePositional(ctx, 'agent name');
    const organization = requiredFlag(ctx, 'org');
    const location = requiredFlag(ctx, 'location');
    const expires = durationFlag(ctx, 'expires', DEFAULT_ENROLLMENT_TOKEN_SECONDS);
    const created = await serverOrDatabase(
      ctx,
      () => callServer<{ token: string; expires_at: string }>(ctx, 'POST', '/api/v1/agents', { name, organization, location, expires_in: expires.text }),
      (db) => db.sql.begin((tx) => createAgent(tx, { name, organization, location, expiresSeconds: expires.seconds, actor: cliActor() }))
        .then((c) => ({ token: c.token, expires_at: c.expiresAt })),
    );
    ctx.stdout(created.token);
    ctx.stderr(`created agent "${name}" in ${organization}/${location}; its enrollment token (shown only this once) expires ${formatTime(created.expires_at)}`);
    return EXIT_OK;
  },
};

const list: LeafCommand = {
  summary: 'List agents with their organization, location and status.',
  options: [SERVER_URL_OPTION],
  usesServerConfig: true,
  async run(ctx) {
    const agents = await serverOrDatabase(
      ctx,
      () => listAgentsFromServer(ctx),
      (db) => listAgents(db.sql),
    );
    ctx.stdout(formatTable(
      ['NAME', 'ORGANIZATION', 'LOCATION', 'STATUS', 'HOSTNAME', 'ENROLLED', 'LAST SEEN', 'ID'],
      agents.map((a) => [a.name, a.organization, a.location, a.status, a.hostname ?? '-', formatTime(a.enrolledAt), formatTime(a.lastSeenAt), a.id]),
    ));
    return EXIT_OK;
  },
};

/** Every agent, following the read API's pages (it answers at most a page per request). */
async function listAgentsFromServer(ctx: CommandContext): Promise<AgentRecord[]> {
  const agents: AgentRecord[] = [];
  for (let after: string | undefined; ;) {
    const page = await callServer<{ agents: AgentRecord[]; nextAfter?: string }>(
      ctx, 'GET', `/api/v1/agents${after === undefined ? '' : `?after=${encodeURIComponent(after)}`}`,
    );
    agents.push(...page.agents);
    if (page.nextAfter === undefined) return agents;
    after = page.nextAfter;
  }
}

/** A command on one agent by name: through the server (`method` on /agents/:name) or the database. */
function oneAgentCommand(
  summary: string,
  method: 'GET' | 'DELETE',
  local: (ctx: CommandContext, db: Database, name: string) => Promise<AgentRecord | undefined>,
  print: (ctx: CommandContext, agent: AgentRecord) => void,
): LeafCommand {
  return {
    summary,
    args: '<name>',
    options: [SERVER_URL_OPTION],
    usesServerConfig: true,
    async run(ctx) {
      const name = onePositional(ctx, 'agent name');
      const agent = await serverOrDatabase(
        ctx,
        () => callServer<AgentRecord>(ctx, method, `/api/v1/agents/${encodeURIComponent(name)}`),
        (db) => local(ctx, db, name),
      );
      if (!agent) {
        ctx.stderr(`no agent named "${name}"`);
        return EXIT_FAILURE;
      }
      print(ctx, agent);
      return EXIT_OK;
    },
  };
}

const show = oneAgentCommand(
  'Show one agent: identity, placement, status, public key and facts.',
  'GET',
  (_ctx, db, name) => findAgent(db.sql, name),
  (ctx, agent) => {
    const fields: [string, string][] = [
      ['name', agent.name], ['id', agent.id], ['organization', agent.organization], ['location', agent.location],
      ['status', agent.status], ['hostname', agent.hostname ?? '-'], ['created', formatTime(agent.createdAt)],
      ['enrolled', formatTime(agent.enrolledAt)], ['revoked', formatTime(agent.revokedAt)], ['last seen', formatTime(agent.lastSeenAt)],
    ];
    ctx.stdout(fields.map(([key, value]) => `${`${key}:`.padEnd(14)}${value}`).join('\n'));
    ctx.stdout(`public key:\n${agent.publicKey?.trimEnd() ?? '-'}`);
    ctx.stdout(`facts:\n${JSON.stringify(agent.facts, null, 2)}`);
  },
);

const revoke = oneAgentCommand(
  'Revoke an agent: its tokens stop working at once on every server instance and its WebSocket is closed.',
  'DELETE',
  (ctx, db, name) => revokeLocally(ctx, db, name),
  (ctx, agent) => ctx.stdout(`revoked agent "${agent.name}" (id ${agent.id})`),
);

/**
 * Running servers learn of the revocation on the bus. An embedded database has no running server to
 * tell (the server holds its lock), and a server reads revocations when it starts.
 */
async function revokeLocally(ctx: CommandContext, db: Database, name: string): Promise<AgentRecord | undefined> {
  const agent = await db.sql.begin((tx) => revokeAgent(tx, name, cliActor()));
  if (agent && !db.embedded) {
    const bus = await createBus(db, stderrLogger(ctx));
    try {
      await publishRevocation(bus, agent.id);
    } finally {
      await bus.close();
    }
  }
  return agent;
}

export const agent: GroupCommand = {
  summary: 'Manage agents: create (admin-driven enrollment), list, show, revoke.',
  subcommands: { create: async () => create, list: async () => list, show: async () => show, revoke: async () => revoke },
};
