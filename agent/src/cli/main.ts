// pswm: the endpoint agent. Each subcommand lives in its own module; this file only dispatches and
// turns errors into exit statuses.
import { EXIT, runTool, type Command } from '@pswm/schemas/cli-usage';
import { isNetworkError, ServerError } from '../api/http.ts';
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

/** Failures a user can act on get one line, not a stack trace. */
function onError(error: unknown, command: string): number | undefined {
  let message: string | undefined;
  if (error instanceof ServerError) message = `${error.message} (${error.code})`;
  else if (error instanceof KeyError) message = error.message;
  else if (isNetworkError(error)) message = `cannot reach the server: ${(error as Error).message}`;
  if (message === undefined) return undefined;
  process.stderr.write(`pswm ${command}: ${message}\n`);
  return EXIT.failed;
}

// Runs on import too: bin/pswm.js imports this module rather than executing it.
process.exitCode = await runTool({ name: 'pswm', help: TOOL_HELP, commands: COMMANDS, onError }, process.argv.slice(2));
