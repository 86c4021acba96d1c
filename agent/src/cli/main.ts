// pswm: the endpoint agent. Each subcommand lives in its own module; this file only dispatches and
// turns errors into exit statuses.
import { EXIT, UsageError, type Command } from '@pswm/schemas/cli-usage';
import { ServerError } from '../api/http.ts';
import { KeyError } from '../identity/key-pair.ts';
import { agentCommand } from './agent.ts';
import { enrollCommand } from './enroll.ts';
import { factsCommand } from './facts.ts';
import { gencertCommand } from './gencert.ts';
import { installServiceCommand, uninstallServiceCommand } from './install-service.ts';
import { serviceCommand } from './service.ts';
import { statusCommand } from './status.ts';

const COMMANDS: Command[] = [gencertCommand, enrollCommand, agentCommand, serviceCommand, statusCommand, factsCommand, installServiceCommand, uninstallServiceCommand];

const TOOL_HELP = `Usage: pswm <command> [options]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(14)}${c.summary}`).join('\n')}

Run "pswm <command> --help" for a command's options. The data folder is $PSWM_HOME, else
/var/lib/pswm (Linux) or C:\\ProgramData\\pswm-reborn (Windows).
Exit status: 0 success, 1 failure, 2 usage error, 3 revoked by the server.
`;

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(TOOL_HELP);
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const command = COMMANDS.find((c) => c.name === name);
  try {
    if (!command) throw new UsageError(`unknown command "${name}"`);
    return await command.run(args);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`pswm${command ? ` ${command.name}` : ''}: ${error.message}\nRun "pswm ${command ? `${command.name} ` : ''}--help" for usage.\n`);
      return EXIT.usage;
    }
    if (error instanceof ServerError || error instanceof KeyError) {
      process.stderr.write(`pswm ${name}: ${error.message}${error instanceof ServerError ? ` (${error.code})` : ''}\n`);
      return EXIT.failed;
    }
    if ((error as { code?: string }).code?.startsWith('ECONN') || (error as { code?: string }).code?.startsWith('UND_ERR')) {
      process.stderr.write(`pswm ${name}: cannot reach the server: ${(error as Error).message}\n`);
      return EXIT.failed;
    }
    throw error;
  }
}

// Runs on import too: bin/pswm.js imports this module rather than executing it.
process.exitCode = await main(process.argv.slice(2));
