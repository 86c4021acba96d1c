// pswm service: what the installed service (systemd unit, Windows service) runs.
import { EXIT, parseCommandArgs, type Command } from '@pswm/schemas/cli-usage';
import { DATA_DIR_HELP, DATA_DIR_OPTION, dataDirFrom, EXTERNAL_FACTS_HELP, EXTERNAL_FACTS_OPTION } from './data-dir.ts';
import { runAgent } from './run-agent.ts';

const HELP = `Usage: pswm service [--data-dir DIR] [--external-facts-dir DIR]

The agent loop as the service manager runs it: no terminal output, the log goes to rotating files
in logs/ (size and retention from the logging settings). Ends on SIGTERM.

Options:
${DATA_DIR_HELP}${EXTERNAL_FACTS_HELP}  --help           Show this help.

Exit status: 0 stopped, 1 not enrolled, 2 usage error, 3 revoked by the server.
`;

export const serviceCommand: Omit<Command, 'summary'> = {
  name: 'service',
  help: HELP,
  async run(args) {
    const parsed = parseCommandArgs(this, args, { ...DATA_DIR_OPTION, ...EXTERNAL_FACTS_OPTION }, 0);
    if (!parsed) return EXIT.ok;
    return runAgent({ dataDir: dataDirFrom(parsed.values), once: false, dryRun: false, externalFactsDir: parsed.values['external-facts-dir'] });
  },
};
