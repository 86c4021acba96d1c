// pswm agent: the iteration loop in the foreground, or one iteration with --once.
import { EXIT, parseCommandArgs, type Command } from '@pswm/schemas/cli-usage';
import { DATA_DIR_HELP, DATA_DIR_OPTION, dataDirFrom, EXTERNAL_FACTS_HELP, EXTERNAL_FACTS_OPTION } from './data-dir.ts';
import { runAgent } from './run-agent.ts';

const HELP = `Usage: pswm agent [--once] [--dry-run] [--data-dir DIR] [--external-facts-dir DIR]

Run the agent in the foreground: each iteration pulls the desired state, converges scripts and
packages and reports; a WebSocket "reconcile" from the server starts one at once. The log goes to
logs/ in the data folder and to stderr. Stop it with Ctrl-C.

Options:
  --once           Run one iteration (after sending what earlier runs left in the outbox), print one
                   line per item that changed or failed and the totals, then exit.
  --dry-run        Change nothing: print per item in_sync / would change / drifted / skipped (reason),
                   and report the results flagged dry_run.
${DATA_DIR_HELP}${EXTERNAL_FACTS_HELP}  --help           Show this help.

One pswm process at a time works in a data folder (agent.lock): with --once, a second one exits
with status 5 and names the holder; the loop waits for the folder before each iteration.

Exit status: 0 ok, 1 not enrolled or the iteration failed, 2 usage error, 3 revoked by the server,
4 (--once) one or more items failed, 5 another pswm process is using the data folder.
`;

export const agentCommand: Omit<Command, 'summary'> = {
  name: 'agent',
  help: HELP,
  async run(args) {
    const parsed = parseCommandArgs(this, args, { once: { type: 'boolean' }, 'dry-run': { type: 'boolean' }, ...DATA_DIR_OPTION, ...EXTERNAL_FACTS_OPTION }, 0);
    if (!parsed) return EXIT.ok;
    return runAgent({ dataDir: dataDirFrom(parsed.values), once: parsed.values.once ?? false, dryRun: parsed.values['dry-run'] ?? false, externalFactsDir: parsed.values['external-facts-dir'], echo: process.stderr });
  },
};
