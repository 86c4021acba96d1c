// `pswm-policy validate [dir] [--json]`: every error of the repository at once, as file:line:col.
import path from 'node:path';
import { formatError } from '../errors.ts';
import type { PolicyError } from '../model.ts';
import { policyDocuments } from '../plan/inventory.ts';
import { EXIT, parseCommandArgs, printJson, type Command } from './usage.ts';
import { loadDir } from './policy-input.ts';

export const validateCommand: Command = {
  name: 'validate',
  summary: 'check a policy directory: schemas, references, script files',
  help: `Usage: pswm-policy validate [dir] [--json]

Validates every *.yaml / *.yml policy document under dir: JSON Schema of each kind,
cross-document checks (unique names, references, files inside the repository, limits).

Arguments:
  dir           the policy repository directory (default: the current directory)

Options:
  --json        print {"valid", "errors", "warnings"} as JSON (default: text, one
                "file:line:col: message [CODE]" line per error, then a summary)
  -h, --help    show this help

Exit status: 0 valid, 1 the policy has errors or cannot be read, 2 usage error.
`,
  async run(args) {
    const parsed = parseCommandArgs(this, args, { json: { type: 'boolean', default: false } }, 1);
    if (!parsed) return EXIT.ok;
    const dir = parsed.positionals[0] ?? '.';
    const { result } = await loadDir(dir);
    const errors = result.ok ? [] : result.errors;
    if (parsed.values.json) {
      printJson({ valid: result.ok, errors, warnings: result.warnings });
      return result.ok ? EXIT.ok : EXIT.failed;
    }
    // Paths relative to the working directory, so terminals and editors can open them.
    const shown = (e: PolicyError) => ({ ...e, file: path.relative('.', path.join(dir, e.file)) });
    for (const error of errors) process.stdout.write(`${formatError(shown(error))}\n`);
    for (const warning of result.warnings) process.stdout.write(`${formatError({ ...shown(warning), message: `warning: ${warning.message}` })}\n`);
    if (result.ok) {
      const documents = policyDocuments(result.policy);
      const files = new Set(documents.map((d) => d.source.file));
      process.stdout.write(`Valid: ${documents.length} documents in ${files.size} files.\n`);
      return EXIT.ok;
    }
    const files = new Set(errors.map((e) => e.file));
    process.stdout.write(`${errors.length} ${errors.length === 1 ? 'error' : 'errors'} in ${files.size} ${files.size === 1 ? 'file' : 'files'}\n`);
    return EXIT.failed;
  },
};
