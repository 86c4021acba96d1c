// `pswm-policy plan`: what a change of policy does, from two git revisions or two directories.
import { formatError } from '../errors.ts';
import type { Policy } from '../model.ts';
import { planChanges } from '../plan/plan.ts';
import { renderPlanText } from '../plan/render-text.ts';
import { EXIT, UsageError, parseCommandArgs, printJson, type Command } from './usage.ts';
import { loadDir, loadRevision, type LoadedInput } from './policy-input.ts';

export const planCommand: Command = {
  name: 'plan',
  summary: 'show what changes between two revisions, per object and per agent group',
  help: `Usage: pswm-policy plan --base <rev> [--head <rev>] [--repo <dir>] [--json]
       pswm-policy plan --base-dir <dir> --head-dir <dir> [--json]

Compares two revisions of the policy offline and prints what changes for whom: documents
added (+), changed (~) and removed (-), then every location and named agent whose scripts,
external facts, packages or settings change. Objects selected by facts are marked; their
groups are planned as if the facts match.

Options:
  --repo <dir>       git repository holding both revisions, working tree or bare
                     (default: the current directory)
  --base <rev>       the revision to compare against: branch, tag, commit id (short ids
                     work), optionally with ~N or ^ (e.g. origin/main, HEAD~1); required
                     with --repo
  --head <rev>       the proposed revision (default: HEAD)
  --base-dir <dir>   compare two directories instead of git revisions: the base ...
  --head-dir <dir>   ... and the head
  --json             print the plan as JSON (default: text)
  -h, --help         show this help

Exit status: 0 plan printed, 1 a revision has policy errors or cannot be read, 2 usage error.
`,
  async run(args) {
    const parsed = parseCommandArgs(
      this,
      args,
      {
        repo: { type: 'string' },
        base: { type: 'string' },
        head: { type: 'string' },
        'base-dir': { type: 'string' },
        'head-dir': { type: 'string' },
        json: { type: 'boolean', default: false },
      },
      0,
    );
    if (!parsed) return EXIT.ok;
    const { values } = parsed;
    const dirMode = values['base-dir'] !== undefined || values['head-dir'] !== undefined;
    let base: LoadedInput;
    let head: LoadedInput;
    if (dirMode) {
      if (values.repo !== undefined || values.base !== undefined || values.head !== undefined) throw new UsageError('--base-dir/--head-dir cannot be combined with --repo/--base/--head');
      if (values['base-dir'] === undefined || values['head-dir'] === undefined) throw new UsageError('--base-dir and --head-dir must be given together');
      [base, head] = await Promise.all([loadDir(values['base-dir']), loadDir(values['head-dir'])]);
    } else {
      if (values.base === undefined) throw new UsageError('missing --base <rev> (or --base-dir/--head-dir)');
      const repo = values.repo ?? '.';
      const cache = {};
      base = await loadRevision(repo, values.base, cache);
      head = await loadRevision(repo, values.head ?? 'HEAD', cache);
    }

    const invalid = [['base', base], ['head', head]].filter(([, input]) => !(input as LoadedInput).result.ok) as Array<[string, LoadedInput]>;
    if (invalid.length) {
      for (const [side, input] of invalid) {
        const errors = input.result.ok ? [] : input.result.errors;
        process.stderr.write(`${side} ${input.label} is not valid policy (${errors.length} errors):\n`);
        for (const error of errors) process.stderr.write(`  ${formatError(error)}\n`);
      }
      if (values.json) printJson({ valid: false, invalid: invalid.map(([side, input]) => ({ side, label: input.label, errors: input.result.ok ? [] : input.result.errors })) });
      return EXIT.failed;
    }

    const plan = planChanges(policyOf(base), policyOf(head));
    if (values.json) {
      printJson({ base: describe(base), head: describe(head), ...plan });
    } else {
      process.stdout.write(`Comparing base ${base.label} with head ${head.label}\n\n${renderPlanText(plan)}`);
    }
    return EXIT.ok;
  },
};

function policyOf(input: LoadedInput): Policy {
  if (!input.result.ok) throw new Error('unreachable: invalid inputs are reported before planning');
  return input.result.policy;
}

function describe(input: LoadedInput) {
  return { label: input.label, ...(input.revision ? { revision: input.revision } : {}) };
}
