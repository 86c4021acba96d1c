// pswm facts: the facts this machine would report, built-in and external, as JSON.
import { EXIT, parseCommandArgs, type Command } from '@pswm/schemas/cli-usage';
import { desiredStateCacheFile, loadCachedDesiredState } from '../api/desired-state.ts';
import { printFacts } from '../facts/collect-facts.ts';
import { initialSettings } from '../loop/agent-setup.ts';
import { loadAgentConfig } from '../identity/config.ts';
import { dataPaths, externalFactsDir } from '../paths.ts';
import { DATA_DIR_HELP, DATA_DIR_OPTION, dataDirFrom, EXTERNAL_FACTS_HELP, EXTERNAL_FACTS_OPTION } from './data-dir.ts';

const HELP = `Usage: pswm facts [--data-dir DIR] [--external-facts-dir DIR]

Collect and print the facts this agent reports: built-in facts (host, OS, CPU, memory, disks,
network, uptime, GPUs, agent version) and external facts (scripts in external_facts/ and the
ExternalFacts of the last desired state), as JSON on stdout. The fact scripts folder is
--external-facts-dir, else external_facts_dir in config.json, else <data>/external_facts.

Options:
${DATA_DIR_HELP}${EXTERNAL_FACTS_HELP}  --help           Show this help.
`;

export const factsCommand: Omit<Command, 'summary'> = {
  name: 'facts',
  help: HELP,
  async run(args) {
    const parsed = parseCommandArgs(this, args, { ...DATA_DIR_OPTION, ...EXTERNAL_FACTS_OPTION }, 0);
    if (!parsed) return EXIT.ok;
    const paths = dataPaths(dataDirFrom(parsed.values));
    const cached = await loadCachedDesiredState(desiredStateCacheFile(paths.cache)).catch(() => undefined);
    const configured = parsed.values['external-facts-dir'] ?? (await loadAgentConfig(paths.config))?.external_facts_dir;
    await printFacts({ dataDir: paths.root, settings: await initialSettings(paths), documentFacts: cached?.state.external_facts, externalFactsDir: externalFactsDir(paths, configured) });
    return EXIT.ok;
  },
};
