// `npm run bench:policy`: how long load + validate and compile take, for the template repository
// and for a generated repository of fleet size. Prints a markdown table (median of 5 runs after one
// warm-up run) with the machine it ran on, ready to paste into docs.
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { compileGroup } from '../schemas/src/compile/compile-group.ts';
import type { AgentIdentity, Policy, RepoFile } from '../schemas/src/model.ts';
import { readPolicyDir } from '../schemas/src/source/dir.ts';
import { loadPolicy } from '../schemas/src/validate/load-policy.ts';
import { generatePolicyRepo } from './generate-policy.ts';
import type { GenerateOptions } from './generate-policy.ts';

const RUNS = 5;
const TEMPLATE_DIR = fileURLToPath(new URL('../policy-repo-template/', import.meta.url));
const FLEET_SIZE: GenerateOptions = { organizations: 50, locations: 1000, overrides: 1000, scripts: 500, deployments: 200, externalFacts: 10 };

const TEMPLATE_AGENTS: AgentIdentity[] = [
  { name: 'PARIS-KIOSK-01', organization: 'contoso', location: 'paris', facts: { os: { family: 'windows' } } },
  { name: 'BER-WS-017', organization: 'contoso', location: 'berlin', facts: { os: { family: 'windows' } } },
  { name: 'lab-build-03', organization: 'fabrikam', location: 'lab-linux', facts: { os: { family: 'linux' } } },
];

/** Generated agents: one with an override, one in a middle location, one in the last location.
 * Locations are dealt round-robin over organizations (see generate-policy.ts). */
function generatedAgents(options: GenerateOptions): AgentIdentity[] {
  const at = (location: number, name: string, family: string): AgentIdentity => ({
    name,
    organization: `org-${String(location % options.organizations).padStart(3, '0')}`,
    location: `loc-${String(location).padStart(4, '0')}`,
    facts: { os: { family } },
  });
  const middle = Math.floor(options.locations / 2);
  return [at(0, 'agent-00000', 'windows'), at(middle, 'ws-middle', 'windows'), at(options.locations - 1, 'srv-last', 'linux')];
}

interface Row {
  measurement: string;
  size: string;
  timings: number[];
}

function measure(measurement: string, size: string, work: () => void): Row {
  work(); // warm-up: JIT, ajv compilation
  const timings: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    work();
    timings.push(performance.now() - start);
  }
  return { measurement, size, timings };
}

function loadOrThrow(files: RepoFile[], label: string): Policy {
  const result = loadPolicy(files);
  if (!result.ok) {
    const shown = result.errors.slice(0, 10).map((e) => `  ${e.file}:${e.line}:${e.col}: ${e.message} [${e.code}]`);
    throw new Error(`${label} does not validate (${result.errors.length} errors):\n${shown.join('\n')}`);
  }
  return result.policy;
}

function benchRepository(label: string, files: RepoFile[], agents: AgentIdentity[]): Row[] {
  const yamlFiles = files.filter((f) => /\.ya?ml$/.test(f.path)).length;
  const policy = loadOrThrow(files, label);
  const documents =
    (policy.settings ? 1 : 0) +
    [policy.organizations, policy.locations, policy.overrides, policy.scripts, policy.externalFacts, policy.chocoDeployments].reduce((sum, map) => sum + map.size, 0);
  return [
    measure(`${label}: load + validate`, `${files.length} files (${yamlFiles} YAML), ${documents} documents`, () => loadOrThrow(files, label)),
    measure(`${label}: compile ${agents.length} agents`, agents.map((a) => `${a.organization}/${a.location}`).join(', '), () => {
      for (const agent of agents) compileGroup(policy, agent);
    }),
  ];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function formatTable(rows: Row[]): string {
  const ms = (value: number): string => value.toFixed(1);
  const lines = ['| measurement | size | median ms | min ms | max ms |', '|---|---|---:|---:|---:|'];
  for (const row of rows) lines.push(`| ${row.measurement} | ${row.size} | ${ms(median(row.timings))} | ${ms(Math.min(...row.timings))} | ${ms(Math.max(...row.timings))} |`);
  return lines.join('\n');
}

function machine(): string {
  const cpu = cpus();
  const memoryGiB = (totalmem() / 1024 ** 3).toFixed(1);
  return `${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} cores, ${memoryGiB} GiB memory, Node ${process.version} (${process.platform} ${process.arch})`;
}

const rows: Row[] = [];
rows.push(...benchRepository('template', await readPolicyDir(TEMPLATE_DIR), TEMPLATE_AGENTS));
const generated = generatePolicyRepo(FLEET_SIZE);
const sizeLabel = `${FLEET_SIZE.organizations} orgs, ${FLEET_SIZE.locations} locations, ${FLEET_SIZE.overrides} overrides, ${FLEET_SIZE.scripts} scripts, ${FLEET_SIZE.deployments} deployments`;
rows.push(measure('generated: generate (not part of reconcile)', sizeLabel, () => generatePolicyRepo(FLEET_SIZE)));
rows.push(...benchRepository('generated', generated, generatedAgents(FLEET_SIZE)));

console.log(`## Policy load, validate and compile\n`);
console.log(`Machine: ${machine()}`);
console.log(`Command: \`npm run bench:policy\` (median of ${RUNS} runs after one warm-up run)\n`);
console.log(formatTable(rows));
