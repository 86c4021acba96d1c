// `pswm-policy explain`: the effective settings of one agent and where each value comes from.
import path from 'node:path';
import type { AgentIdentity } from '../model.ts';
import { compileGroup } from '../compile/compile-group.ts';
import { explainSettings, type SettingSource } from '../compile/explain.ts';
import { formatError } from '../errors.ts';
import { EXIT, UsageError, parseCommandArgs, printJson, STDIO, type Command } from './usage.ts';
import { loadDir } from './policy-input.ts';

export const explainCommand: Command = {
  name: 'explain',
  summary: "show one agent's effective settings with the file:line that set each",
  help: `Usage: pswm-policy explain --agent NAME --org ORG --location LOCATION [--fact key=value ...] [--json] [dir]

Prints the effective settings of an agent, each with the document and file:line that set
it and the layers it overrode (schema default → Settings → Organization → Location →
AgentOverride), then the scripts, external facts and packages it gets.

Arguments:
  dir                  the policy repository directory (default: the current directory)

Options:
  --agent NAME         the agent's name, as enrolled (required)
  --org ORG            its organization (required)
  --location LOCATION  its location within the organization, e.g. paris (required)
  --fact key=value     a fact the agent reports, dotted path (os.family=windows); repeat
                       for more (default: none)
  --json               print {"agent", "settings", "scripts", "external_facts",
                       "packages", "conflicts", "sha256"} as JSON (default: text)
  -h, --help           show this help

Exit status: 0 explained, 1 the policy has errors or cannot be read, 2 usage error.
`,
  async run(args, io = STDIO) {
    const parsed = parseCommandArgs(
      this,
      args,
      {
        agent: { type: 'string' },
        org: { type: 'string' },
        location: { type: 'string' },
        fact: { type: 'string', multiple: true, default: [] },
        json: { type: 'boolean', default: false },
      },
      1,
      io,
    );
    if (!parsed) return EXIT.ok;
    const { values } = parsed;
    for (const required of ['agent', 'org', 'location'] as const) {
      if (!values[required]) throw new UsageError(`missing --${required}`);
    }
    const agent: AgentIdentity = { name: values.agent!, organization: values.org!, location: values.location!, facts: parseFacts(values.fact) };
    const dir = parsed.positionals[0] ?? '.';
    const { result } = await loadDir(dir);
    if (!result.ok) {
      for (const error of result.errors) io.stderr.write(`${formatError(error)}\n`);
      io.stderr.write(`the policy in ${dir} has ${result.errors.length} errors; run pswm-policy validate\n`);
      return EXIT.failed;
    }
    const explained = explainSettings(result.policy, agent);
    const { state, sha256 } = compileGroup(result.policy, agent);
    const unknownLocation = !result.policy.locations.has(`${agent.organization}/${agent.location}`);
    if (values.json) {
      printJson({ agent, settings: explained, scripts: state.scripts.map((s) => s.name), external_facts: state.external_facts.map((f) => f.name), packages: state.packages, conflicts: state.conflicts, sha256 }, io);
      return EXIT.ok;
    }
    const out: string[] = [`Agent ${agent.name} in ${agent.organization}/${agent.location}${unknownLocation ? ' (location not defined in this policy)' : ''}`, '', 'Settings:'];
    const width = Math.max(...explained.map((e) => `${e.key} = ${show(e.value)}`.length));
    for (const setting of explained) {
      out.push(`  ${`${setting.key} = ${show(setting.value)}`.padEnd(width)}  ${where(setting, dir)}`);
      for (const earlier of setting.overridden.toReversed()) {
        // A schema default that the policy merely restates says nothing worth a line.
        if (earlier.document === 'default' && show(earlier.value) === show(setting.value)) continue;
        out.push(`      overrides ${show(earlier.value)} from ${where(earlier, dir)}`);
      }
    }
    out.push('', `Scripts: ${state.scripts.map((s) => `${s.name} [${s.platforms.join(',')}]`).join(', ') || '(none)'}`);
    out.push(`External facts: ${state.external_facts.map((f) => f.name).join(', ') || '(none)'}`);
    out.push(`Packages: ${state.packages.map((p) => `${p.name} ${p.ensure}${p.version ? ` ${p.version}` : ''}${p.pin ? ' pinned' : ''}`).join(', ') || '(none)'}`);
    for (const conflict of state.conflicts) out.push(`Conflict: package ${conflict.package} is declared differently by ${conflict.documents.join(' and ')}; left out`);
    out.push(`Desired state sha256: ${sha256}`);
    io.stdout.write(`${out.join('\n')}\n`);
    return EXIT.ok;
  },
};

function parseFacts(pairs: string[] = []): Record<string, string> {
  const facts: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--fact expects key=value, got "${pair}"`);
    facts[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return facts;
}

function where(source: SettingSource, dir: string): string {
  if (!source.file) return `(${source.document})`;
  return `${path.relative('.', path.join(dir, source.file))}:${source.line} (${source.document})`;
}

function show(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}
