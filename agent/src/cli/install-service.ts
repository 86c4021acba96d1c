// pswm install_svc / uninstall_svc: one command shape, two operations (agent/src/service/).
import path from 'node:path';
import { EXIT, parseCommandArgs, type Command } from '@pswm/schemas/cli-usage';
import { openLogger } from '../logs/logger.ts';
import { initialSettings } from '../loop/agent-setup.ts';
import { dataPaths } from '../paths.ts';
import { currentPlatform } from '../platform/platform.ts';
import { formatServiceReport, installService, serviceCommandLine, uninstallService } from '../service/service.ts';
import { DATA_DIR_HELP, DATA_DIR_OPTION, dataDirFrom } from './data-dir.ts';

const OPTIONS = { root: { type: 'string' }, 'dry-run': { type: 'boolean' }, ...DATA_DIR_OPTION } as const;

function serviceCommand(name: 'install_svc' | 'uninstall_svc', description: string, operation: typeof installService): Omit<Command, 'summary'> {
  return {
    name,
    help: `Usage: pswm ${name} [--dry-run] [--root DIR] [--data-dir DIR]

${description}
Idempotent: running it again changes nothing. Every action is printed and logged to logs/.

Options:
  --dry-run        Print what would change and change nothing.
  --root DIR       Write the files under DIR instead of / and run no command (for packaging and tests).
${DATA_DIR_HELP}  --help           Show this help.

Exit status: 0 done, 1 an action failed, 2 usage error.
`,
    async run(args) {
      const parsed = parseCommandArgs(this, args, OPTIONS, 0);
      if (!parsed) return EXIT.ok;
      const paths = dataPaths(dataDirFrom(parsed.values));
      const root = parsed.values.root ? path.resolve(parsed.values.root) : undefined;
      // with --root the data folder is under the prefix too, so nothing outside it is touched
      const log = root || parsed.values['dry-run'] ? undefined : openLogger({ dir: paths.logs, settings: (await initialSettings(paths)).logging });
      try {
        const { note, ...commandLine } = await serviceCommandLine();
        if (note && name === 'install_svc') {
          process.stderr.write(`pswm ${name}: note: ${note}\n`);
          log?.warn(note);
        }
        const report = await operation({ root, platform: currentPlatform(), dataDir: paths.root, ...commandLine, dryRun: parsed.values['dry-run'], log });
        process.stdout.write(formatServiceReport(report));
        return report.ok ? EXIT.ok : EXIT.failed;
      } finally {
        log?.close();
      }
    },
  };
}

export const installServiceCommand = serviceCommand('install_svc',
  'Create the data folder (owner/admin-only write), install the service (systemd unit on Linux, Windows\nservice) with automatic start and restart on failure, and add the data folder to the system PATH\nif it is absent.', installService);

export const uninstallServiceCommand = serviceCommand('uninstall_svc',
  'Stop and remove the service and remove the data folder from the system PATH. The data folder\n(identity, logs, outbox) is kept.', uninstallService);
