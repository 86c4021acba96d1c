// `pswm-server signal`: wake agents now (they reconcile at once instead of at their next poll).
// Through a running server (--server URL, PSWM_ADMIN_TOKEN), or — with a shared PostgreSQL
// (DATABASE_URL) — by publishing on the bus that every server instance listens to. An embedded
// database belongs to the one server process that holds it, so there only --server works.
import { userInfo } from 'node:os';
import { ConfigError } from '../config/config.ts';
import { createBus } from '../hub/bus.ts';
import { publishSignal } from '../hub/publish-signal.ts';
import { isEmptyTarget, parseLocation, signalTargets } from '../hub/targets.ts';
import type { SignalTarget } from '../hub/targets.ts';
import type { OptionSpec } from '../config/options.ts';
import { EXIT_OK } from './command.ts';
import type { CommandContext, LeafCommand } from './command.ts';
import { stderrLogger, withDatabase } from './local-database.ts';
import { callServer, SERVER_URL_OPTION, serverUrl } from './remote.ts';

/** Whom a command addresses (signal, run): names, locations, organizations or all. */
export const TARGET_OPTIONS: readonly OptionSpec[] = [
  { flag: 'agent', type: 'string', description: 'Agent names or ids, comma-separated.' },
  { flag: 'location', type: 'string', description: 'Locations as organization/location, comma-separated.' },
  { flag: 'org', type: 'string', description: 'Organizations, comma-separated.' },
  { flag: 'all', type: 'boolean', description: 'Every active agent.' },
];

export const signalCommand: LeafCommand = {
  summary: 'Wake agents now: --agent A | --location O/L | --org O | --all (lists are comma-separated).',
  options: [
    ...TARGET_OPTIONS,
    { flag: 'reason', type: 'string', description: 'Why, shown to the agent and kept in the audit log.' },
    SERVER_URL_OPTION,
  ],
  usesServerConfig: true,
  async run(ctx) {
    const target = targetOf(ctx);
    const reason = ctx.values.reason as string | undefined;
    const signalled = serverUrl(ctx)
      ? (await callServer<{ signalled: number }>(ctx, 'POST', '/api/v1/signal', { ...target, ...(reason ? { reason } : {}) })).signalled
      : await signalThroughBus(ctx, target, reason);
    ctx.stdout(`signalled ${signalled} agent${signalled === 1 ? '' : 's'}`);
    return EXIT_OK;
  },
};

export function targetOf(ctx: CommandContext, verb = 'signal'): SignalTarget {
  const list = (flag: string) => ((ctx.values[flag] as string | undefined) ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const target: SignalTarget = { agents: list('agent'), locations: list('location'), organizations: list('org'), all: Boolean(ctx.values.all) };
  if (isEmptyTarget(target)) throw new ConfigError('BAD_ARGUMENTS', `name whom to ${verb}: --agent, --location, --org or --all`);
  const bad = target.locations!.find((location) => !parseLocation(location));
  if (bad) throw new ConfigError('BAD_ARGUMENTS', `--location "${bad}" is not organization/location`);
  return target;
}

async function signalThroughBus(ctx: CommandContext, target: SignalTarget, reason: string | undefined): Promise<number> {
  if (!ctx.config().databaseUrl) {
    throw new ConfigError('BAD_ARGUMENTS', 'the embedded database is private to the running server: use --server URL (with PSWM_ADMIN_TOKEN)');
  }
  const actor = `cli:${userInfo().username}`;
  return withDatabase(ctx, async (db) => {
    const bus = await createBus(db, stderrLogger(ctx));
    try {
      return await signalTargets(db.sql, (agentIds, why) => publishSignal(bus, agentIds, why), { target, reason: reason ?? `requested by ${actor}`, actor });
    } finally {
      await bus.close();
    }
  });
}
