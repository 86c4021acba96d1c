// pswm facts: the facts this machine would report, built-in and external, as JSON.
import { EXIT, parseCommandArgs, type Command } from '@pswm/schemas/cli-usage';
import { desiredStateCacheFile, loadCachedDesiredState } from '../api/desired-state.ts';
import { printFacts } from '../facts/collect-facts.ts';
import { initialSettings } from '../loop/agent-setup.ts';
import { dataPaths } from '../paths.ts';
import { DATA_DIR_HELP, DATA_DIR_OPTION, dataDirFrom } from './data-dir.ts';

const HELP = `Usage: pswm facts [--data-dir DIR]

Collect and print the facts this agent reports: built-in facts (host, OS, CPU, memory, disks,
network, uptime, GPUs, agent version) and external facts (scripts in external_facts/ and the
ExternalFacts of the last desired state), as JSON on stdout.

Options:
${DATA_DIR_HELP}  --help           Show this help.
`;

export const factsCommand: Omit<Command, 'summary'> = {
  name: 'facts',
  help: HELP,
  async run(args) {
    const parsed = parseCommandArgs(this, args, DATA_DIR_OPTION, 0);
    if (!parsed) return EXIT.ok;
    const paths = dataPaths(dataDirFrom(parsed.values));
    const cached = await loadCachedDesiredState(desiredStateCacheFile(paths.cache)).catch(() => undefined);
    await printFacts({ dataDir: paths.root, settings: await initialSettings(paths), documentFacts: cached?.state.external_facts });
    return EXIT.ok;
  },
};
