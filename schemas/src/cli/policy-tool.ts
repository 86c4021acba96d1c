// pswm-policy as a function of its arguments: validate, plan and explain pswm policy repositories.
// Each subcommand lives in its own module; this one dispatches and turns errors into exit statuses.
// main.ts runs it for the process; tests call it in process (schemas/src/cli/main.test.ts).
import { readFile } from 'node:fs/promises';
import { EXIT, runTool, STDIO, type Command, type Output } from './usage.ts';
import { InputError } from './policy-input.ts';
import { validateCommand } from './validate.ts';
import { planCommand } from './plan.ts';
import { explainCommand } from './explain.ts';

const COMMANDS: Command[] = [validateCommand, planCommand, explainCommand];

const TOOL_HELP = `Usage: pswm-policy <command> [options]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(10)}${c.summary}`).join('\n')}

Run "pswm-policy <command> --help" for a command's options and defaults; --version prints the version.
Exit status: 0 success, 1 policy errors or unreadable input, 2 usage error.
`;

async function packageVersion(): Promise<string> {
  return (JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

function onError(error: unknown, command: string, io: Output): number | undefined {
  if (!(error instanceof InputError)) return undefined;
  io.stderr.write(`pswm-policy ${command}: ${error.message}\n`);
  return EXIT.failed;
}

/** Runs `pswm-policy <argv>`, writing to `io`; resolves with the exit status. */
export function pswmPolicy(argv: string[], io: Output = STDIO): Promise<number> {
  return runTool({ name: 'pswm-policy', help: TOOL_HELP, version: packageVersion, commands: COMMANDS, onError }, argv, io);
}
