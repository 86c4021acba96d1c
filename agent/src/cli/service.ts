// pswm service: what the installed service (systemd unit, Windows service) runs.
import { EXIT, parseCommandArgs, type Command } from '@pswm/schemas/cli-usage';
import { DATA_DIR_HELP, DATA_DIR_OPTION, dataDirFrom, EXTERNAL_FACTS_HELP, EXTERNAL_FACTS_OPTION } from './data-dir.ts';
import { EXIT_REVOKED } from '../loop/run-once.ts';
import { runAgent } from './run-agent.ts';

const HELP = `Usage: pswm service [--data-dir DIR] [--external-facts-dir DIR]

The agent loop as the service manager runs it: no terminal output, the log goes to rotating files
in logs/ (size and retention from the logging settings). Ends on SIGTERM.

Options:
${DATA_DIR_HELP}${EXTERNAL_FACTS_HELP}  --help           Show this help.

A single-file build follows settings.agent_update: it downloads the release, checks its signature
and sha256, swaps, tries it, and exits 75 for the service manager to start the new build.

Exit status: 0 stopped, 1 not enrolled, 2 usage error, 3 revoked by the server (0 on Windows,
where the service wrapper would restart on any other code), 75 updated: start me again.
`;

export const serviceCommand: Omit<Command, 'summary'> = {
  name: 'service',
  help: HELP,
  async run(args) {
    const parsed = parseCommandArgs(this, args, { ...DATA_DIR_OPTION, ...EXTERNAL_FACTS_OPTION }, 0);
    if (!parsed) return EXIT.ok;
    const code = await runAgent({ dataDir: dataDirFrom(parsed.values), once: false, dryRun: false, selfUpdate: true, externalFactsDir: parsed.values['external-facts-dir'] });
    // The Windows service wrapper (WinSW) tells the SCM "stopped" only for exit 0; any other code is
    // a failure the SCM's restart actions answer. A revoked agent must stay stopped there, so it
    // exits 0 (the revocation is in the log, `pswm status` and the Event Log). systemd gets 3 and
    // does not restart on it (RestartPreventExitStatus=3).
    return code === EXIT_REVOKED && process.platform === 'win32' ? EXIT.ok : code;
  },
};
