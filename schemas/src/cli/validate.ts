// `pswm-policy validate [dir] [--base <rev>] [--json]`: every error of the repository at once, as
// file:line:col; with --base also the deletion budget the server applies.
import path from 'node:path';
import { formatError, policyError } from '../errors.ts';
import type { PolicyError } from '../model.ts';
import { checkRevisionDeletions } from '../plan/deletion-budget.ts';
import { policyDocuments } from '../plan/inventory.ts';
import { EXIT, parseCommandArgs, printJson, STDIO, type Command } from './usage.ts';
import { loadDir, loadRevision } from './policy-input.ts';

export const validateCommand: Command = {
  name: 'validate',
  summary: 'check a policy directory: schemas, references, script files',
  help: `Usage: pswm-policy validate [dir] [--base <rev>] [--json]

Validates every *.yaml / *.yml policy document under dir: JSON Schema of each kind,
cross-document checks (unique names, references, files inside the repository, limits).

Arguments:
  dir           the policy repository directory (default: the current directory)

Options:
  --base <rev>  also check the deletion budget against this git revision of dir (e.g. the
                applied branch, origin/main): the server refuses a revision that removes more
                than deletion_budget_percent of its policy objects [DELETION_BUDGET_EXCEEDED]
  --json        print {"valid", "errors", "warnings"} as JSON (default: text, one
                "file:line:col: message [CODE]" line per error, then a summary)
  -h, --help    show this help

Exit status: 0 valid, 1 the policy has errors, exceeds the deletion budget or cannot be read,
2 usage error.
`,
  async run(args, io = STDIO) {
    const parsed = parseCommandArgs(this, args, { json: { type: 'boolean', default: false }, base: { type: 'string' } }, 1, io);
    if (!parsed) return EXIT.ok;
    const dir = parsed.positionals[0] ?? '.';
    const { result } = await loadDir(dir);
    const errors = result.ok ? [] : result.errors;
    if (result.ok && parsed.values.base !== undefined) {
      const base = await loadRevision(dir, parsed.values.base, {});
      // A base that is not valid policy was never applied: the server compares with what it applied.
      const budget = base.result.ok ? checkRevisionDeletions(base.result.policy, result.policy) : { ok: true as const };
      // Reported at the Settings document, where the budget is set (or the repository root).
      const at = result.policy.settings?.source ?? { file: '.', line: 1, col: 1 };
      if (!budget.ok) errors.push(policyError('DELETION_BUDGET_EXCEEDED', `${budget.message} (compared with ${base.label})`, at));
    }
    if (parsed.values.json) {
      printJson({ valid: !errors.length, errors, warnings: result.warnings }, io);
      return errors.length ? EXIT.failed : EXIT.ok;
    }
    // Paths relative to the working directory, so terminals and editors can open them.
    const shown = (e: PolicyError) => ({ ...e, file: path.relative('.', path.join(dir, e.file)) });
    for (const error of errors) io.stdout.write(`${formatError(shown(error))}\n`);
    for (const warning of result.warnings) io.stdout.write(`${formatError({ ...shown(warning), message: `warning: ${warning.message}` })}\n`);
    if (result.ok && !errors.length) {
      const documents = policyDocuments(result.policy);
      const files = new Set(documents.map((d) => d.source.file));
      io.stdout.write(`Valid: ${documents.length} documents in ${files.size} files.\n`);
      return EXIT.ok;
    }
    const files = new Set(errors.map((e) => e.file));
    io.stdout.write(`${errors.length} ${errors.length === 1 ? 'error' : 'errors'} in ${files.size} ${files.size === 1 ? 'file' : 'files'}\n`);
    return EXIT.failed;
  },
};
