// pswm: the endpoint agent. Each subcommand lives in its own module; this file only dispatches and
// turns errors into exit statuses.
import { EXIT, runTool, type Command } from '@pswm/schemas/cli-usage';
import { isNetworkError, ServerError } from '../api/http.ts';
import { KeyError } from '../identity/key-pair.ts';

type Loaded = Omit<Command, 'summary'>;

/** A subcommand whose module loads when it runs: the long-running `pswm agent`/`service` should not
 * keep enrollment, status and the service installer resident (each module costs memory for its
 * code for the life of the process). Its --help text lives with its code. */
function lazyCommand(name: string, summary: string, load: () => Promise<Loaded>): Command {
  return { name, summary, help: '', run: async (args) => (await load()).run(args) };
}

const COMMANDS: Command[] = [
  lazyCommand('gencert', 'Create (or import with --key) the agent key pair', async () => (await import('./gencert.ts')).gencertCommand),
  lazyCommand('enroll', 'Enrol with a server by token, OTP code or the approval queue', async () => (await import('./enroll.ts')).enrollCommand),
  lazyCommand('agent', 'Run the agent in the foreground (--once, --dry-run)', async () => (await import('./agent.ts')).agentCommand),
  lazyCommand('service', 'Run the agent loop as the installed service does (file logging)', async () => (await import('./service.ts')).serviceCommand),
  lazyCommand('status', 'Show enrollment, last iteration, failed items, pending and rejected reports', async () => (await import('./status.ts')).statusCommand),
  lazyCommand('facts', 'Print the collected facts as JSON', async () => (await import('./facts.ts')).factsCommand),
  lazyCommand('install_svc', 'Install and start the agent service (idempotent)', async () => (await import('./install-service.ts')).installServiceCommand),
  lazyCommand('uninstall_svc', 'Stop and remove the agent service and its PATH entry', async () => (await import('./install-service.ts')).uninstallServiceCommand),
];

const TOOL_HELP = `Usage: pswm <command> [options]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(14)}${c.summary}`).join('\n')}

Run "pswm <command> --help" for a command's options; --version prints the version. The data folder is $PSWM_HOME, else
/var/lib/pswm (Linux) or C:\\ProgramData\\pswm-reborn (Windows).
Exit status: 0 success, 1 failure, 2 usage error, 3 revoked by the server; pswm agent --once:
4 one or more items failed, 5 another pswm process is using the data folder.
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

// Runs on import too: bin/pswm.js imports this module rather than executing it. No top-level await,
// so the single-file builds can bundle this module as CommonJS (agent/scripts/bundle.ts).
void runTool({ name: 'pswm', help: TOOL_HELP, version: async () => (await import('../service/build-identity.ts')).versionDetail(), commands: COMMANDS, onError }, process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
