// pswm-policy: validate, plan and explain pswm policy repositories. Each subcommand lives in its own
// module; this file only dispatches and turns errors into exit statuses.
import { EXIT, UsageError, type Command } from './usage.ts';
import { InputError } from './policy-input.ts';
import { validateCommand } from './validate.ts';
import { planCommand } from './plan.ts';
import { explainCommand } from './explain.ts';

const COMMANDS: Command[] = [validateCommand, planCommand, explainCommand];

const TOOL_HELP = `Usage: pswm-policy <command> [options]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(10)}${c.summary}`).join('\n')}

Run "pswm-policy <command> --help" for a command's options and defaults.
Exit status: 0 success, 1 policy errors or unreadable input, 2 usage error.
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
      process.stderr.write(`pswm-policy${command ? ` ${command.name}` : ''}: ${error.message}\nRun "pswm-policy ${command ? `${command.name} ` : ''}--help" for usage.\n`);
      return EXIT.usage;
    }
    if (error instanceof InputError) {
      process.stderr.write(`pswm-policy ${name}: ${error.message}\n`);
      return EXIT.failed;
    }
    throw error;
  }
}

// Runs on import too: bin/pswm-policy.js imports this module rather than executing it.
process.exitCode = await main(process.argv.slice(2));
