// `pswm-server run SCRIPT (--agent A | --location O/L | --org O | --all) --reason "..."`: runs a Script
// of the applied revision now on the targeted agents it applies to, through a running server, and
// prints each agent's exit code and output as the results arrive, with a progress line.
import { ConfigError } from '../config/config.ts';
import type { RunAccepted } from '../runs/on-demand-runs.ts';
import type { RunRow, TargetRow } from '../runs/run-store.ts';
import { FINAL_STATUSES } from '../runs/run-store.ts';
import { onePositional, requiredFlag } from './args.ts';
import { EXIT_FAILURE, EXIT_OK } from './command.ts';
import type { CommandContext, LeafCommand } from './command.ts';
import { callServer, SERVER_URL_OPTION, serverUrl } from './remote.ts';
import { TARGET_OPTIONS, targetOf } from './signal.ts';

const POLL_MS = 500;

export const runCommand: LeafCommand = {
  summary: 'Run a Script of the applied revision now: run SCRIPT --agent A | --location O/L | --org O | --all --reason "...".',
  args: '<script>',
  options: [
    ...TARGET_OPTIONS,
    { flag: 'reason', type: 'string', description: 'Why; required, kept in the audit log and shown to the agent.' },
    { flag: 'wait', type: 'boolean', description: 'Offline agents run it when they reconnect (the command waits for them); without it they are listed as not reached.' },
    { flag: 'json', type: 'boolean', description: 'One JSON object per result as it arrives, then a summary object.' },
    SERVER_URL_OPTION,
  ],
  usesServerConfig: false,
  async run(ctx) {
    const script = onePositional(ctx, 'script name');
    const reason = requiredFlag(ctx, 'reason');
    if (!serverUrl(ctx)) throw new ConfigError('BAD_ARGUMENTS', 'run needs --server URL (or PSWM_SERVER) and PSWM_ADMIN_TOKEN');
    const target = targetOf(ctx, 'run');
    const wait = Boolean(ctx.values.wait);
    const json = Boolean(ctx.values.json);
    const accepted = await callServer<RunAccepted>(ctx, 'POST', '/api/v1/runs', { script, reason, wait, ...target });
    if (!json) {
      ctx.stderr(`run ${accepted.id}: ${script} (revision ${accepted.revision.slice(0, 12)}) on ${accepted.targets} agent(s)`);
      if (accepted.not_applicable.length) ctx.stderr(`not applicable (the script does not target them): ${accepted.not_applicable.join(', ')}`);
    }
    const printed = new Set<string>();
    for (;;) {
      const { targets } = await callServer<{ run: RunRow; targets: TargetRow[] }>(ctx, 'GET', `/api/v1/runs/${accepted.id}`);
      for (const target of targets.filter((t) => FINAL_STATUSES.has(t.status) && !printed.has(t.agent_id))) {
        printed.add(target.agent_id);
        if (json) ctx.stdout(JSON.stringify(target));
        else printResult(ctx, target);
        if (!json) ctx.stderr(`${printed.size} of ${targets.length} done`);
      }
      if (printed.size === targets.length) return summarize(ctx, accepted, targets, json);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  },
};

function printResult(ctx: CommandContext, target: TargetRow): void {
  if (target.status === 'done') {
    ctx.stdout(`== ${target.agent}: exit ${target.exit_code ?? 'none'}${target.timed_out ? ' (timed out)' : ''} in ${target.duration_ms} ms`);
    if (target.stdout) ctx.stdout(target.stdout.replace(/\n$/, ''));
    if (target.stderr) ctx.stdout(`-- stderr --\n${target.stderr.replace(/\n$/, '')}`);
  } else {
    ctx.stdout(`== ${target.agent}: ${target.status === 'not_reached' ? 'not reached' : 'refused'}${target.message ? ` (${target.message})` : ''}`);
  }
}

function summarize(ctx: CommandContext, accepted: RunAccepted, targets: TargetRow[], json: boolean): number {
  const count = (status: string) => targets.filter((t) => t.status === status).length;
  const failed = targets.filter((t) => t.status === 'done' && t.exit_code !== 0).length;
  const summary = { run: accepted.id, script: accepted.script, results: count('done'), failed, not_reached: count('not_reached'), refused: count('refused') };
  if (json) ctx.stdout(JSON.stringify({ summary }));
  else ctx.stderr(`${summary.results} result(s) (${failed} failed), ${summary.not_reached} not reached, ${summary.refused} refused`);
  return failed || summary.not_reached || summary.refused ? EXIT_FAILURE : EXIT_OK;
}
