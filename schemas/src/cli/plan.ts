// `pswm-policy plan`: what a change of policy does, from two git revisions or two directories.
import { formatError } from '../errors.ts';
import type { Policy } from '../model.ts';
import { checkRevisionDeletions } from '../plan/deletion-budget.ts';
import { planChanges, type Plan } from '../plan/plan.ts';
import { renderPlanText } from '../plan/render-text.ts';
import { planGroups } from '../plan/groups.ts';
import { EXIT, UsageError, parseCommandArgs, printJson, STDIO, type Command } from './usage.ts';
import { loadDir, loadRevision, type LoadedInput } from './policy-input.ts';
import { resolveGroupAgents } from './fleet.ts';

/** The text output names this many agents per group, then counts the rest. */
const LISTED_AGENTS = 20;

export const planCommand: Command = {
  name: 'plan',
  summary: 'show what changes between two revisions, per object and per agent group',
  help: `Usage: pswm-policy plan --base <rev> [--head <rev>] [--repo <dir>] [--server <url>] [--json]
       pswm-policy plan --base-dir <dir> --head-dir <dir> [--server <url>] [--json]

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
  --server <url>     also name the enrolled (active or pending) agents of each group, read
                     from this pswm server's fleet API (e.g. https://pswm.example.com); the
                     API token (viewer or admin) is read from the environment variable
                     PSWM_TOKEN
  --json             print the plan as JSON (default: text)
  -h, --help         show this help

Environment:
  PSWM_TOKEN         the API token --server sends as "Authorization: Bearer"

The deletion budget of the head's Settings (spec.reconcile.deletion_budget_percent, default 25)
is checked as the server checks it: a head that removes a larger share of the base's policy
objects is printed, then refused.

Exit status: 0 plan printed, 1 a revision has policy errors or cannot be read, the head exceeds
the deletion budget, or the server cannot be read (unreachable, 401, 403), 2 usage error.
`,
  async run(args, io = STDIO) {
    const parsed = parseCommandArgs(
      this,
      args,
      {
        repo: { type: 'string' },
        base: { type: 'string' },
        head: { type: 'string' },
        'base-dir': { type: 'string' },
        'head-dir': { type: 'string' },
        server: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
      0,
      io,
    );
    if (!parsed) return EXIT.ok;
    const { values } = parsed;
    // Checked before any reading, so a missing token fails fast.
    const fleet = values.server === undefined ? undefined : { url: values.server, token: serverToken(values.server) };
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
        io.stderr.write(`${side} ${input.label} is not valid policy (${errors.length} errors):\n`);
        for (const error of errors) io.stderr.write(`  ${formatError(error)}\n`);
      }
      if (values.json) printJson({ valid: false, invalid: invalid.map(([side, input]) => ({ side, label: input.label, errors: input.result.ok ? [] : input.result.errors })) }, io);
      return EXIT.failed;
    }

    const plan = planChanges(policyOf(base), policyOf(head));
    const budget = checkRevisionDeletions(policyOf(base), policyOf(head));
    const groupAgents = fleet && (await resolveGroupAgents(fleet.url, fleet.token, plan.groups, namedAgentScopes(policyOf(base), policyOf(head))));
    if (values.json) {
      printJson({ base: describe(base), head: describe(head), deletion_budget: budget, ...(groupAgents ? withAgents(plan, groupAgents) : plan) }, io);
    } else {
      const text = renderPlanText(plan);
      io.stdout.write(`Comparing base ${base.label} with head ${head.label}\n\n${groupAgents ? addAgentLines(text, plan, groupAgents) : text}`);
    }
    if (budget.ok) return EXIT.ok;
    io.stderr.write(`error: ${budget.message}; the server would reject the head revision [DELETION_BUDGET_EXCEEDED]\n`);
    return EXIT.failed;
  },
};

function policyOf(input: LoadedInput): Policy {
  if (!input.result.ok) throw new Error('unreachable: invalid inputs are reported before planning');
  return input.result.policy;
}

function describe(input: LoadedInput) {
  return { label: input.label, ...(input.revision ? { revision: input.revision } : {}) };
}

function serverToken(server: string): string {
  if (!URL.canParse(server) || !/^https?:$/.test(new URL(server).protocol)) throw new UsageError(`--server must be an http(s) URL, not "${server}"`);
  const token = process.env.PSWM_TOKEN;
  if (!token) throw new UsageError('--server needs an API token (viewer or admin) in the environment variable PSWM_TOKEN');
  return token;
}

/** The scopes of the agents the policy names, whose groups are planned apart from their locations'. */
function namedAgentScopes(base: Policy, head: Policy): string[] {
  return planGroups(base, head).filter((group) => group.agent.name !== '').map((group) => group.scope);
}

function countAffected(groupAgents: string[][]): number {
  return new Set(groupAgents.flat()).size;
}

function withAgents(plan: Plan, groupAgents: string[][]) {
  return { ...plan, groups: plan.groups.map((group, i) => ({ ...group, agents: groupAgents[i] })), affectedAgents: countAffected(groupAgents) };
}

/** Puts an "agents:" line under each group's header line of the rendered plan and a count at the end.
 * The renderer stays fleet-agnostic (it also runs offline in CI), so the lines are added here. */
function addAgentLines(text: string, plan: Plan, groupAgents: string[][]): string {
  const lines = text.trimEnd().split('\n');
  let at = lines.indexOf('Agent groups:');
  plan.groups.forEach((group, i) => {
    at = lines.findIndex((line, index) => index > at && /^  [+~-] /.test(line));
    if (at < 0 || !lines[at].slice(4).startsWith(group.scope)) throw new Error(`unreachable: no header line for group ${group.scope}`);
    lines.splice(++at, 0, `      agents: ${describeAgents(groupAgents[i])}`);
  });
  const affected = countAffected(groupAgents);
  lines.push(`Affects ${affected} enrolled ${affected === 1 ? 'agent' : 'agents'}.`);
  return `${lines.join('\n')}\n`;
}

function describeAgents(names: string[]): string {
  if (!names.length) return 'none enrolled';
  const listed = names.slice(0, LISTED_AGENTS).join(', ');
  return names.length > LISTED_AGENTS ? `${listed} and ${names.length - LISTED_AGENTS} more` : listed;
}
