// node bench/compile.ts — compile of every scope of a fleet-size generated repository through one
// createCompiler: how long indexing takes, how long the parts of all scopes take (every location,
// plus every AgentOverride's agent in its location, as the reconciler compiles them), and how many
// distinct settings and resources parts that makes, with their bytes. Median of --runs (default 5)
// fresh compilers, after one warm-up.
import os from 'node:os';
import { parseArgs } from 'node:util';
import { createCompiler } from '../schemas/src/compile/compiler.ts';
import type { AgentIdentity, DocumentPart, Policy } from '../schemas/src/model.ts';
import { loadPolicy } from '../schemas/src/validate/load-policy.ts';
import { generatePolicyRepo } from './generate-policy.ts';

const SIZE = { organizations: 50, locations: 1000, overrides: 10000, scripts: 500, deployments: 200 };
const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
const runs = Number(values.runs);

function fleetScopes(policy: Policy): AgentIdentity[] {
  const agents: AgentIdentity[] = [];
  for (const location of policy.locations.values()) agents.push({ name: '', organization: location.spec.organization, location: location.metadata.name, facts: {} });
  for (const override of policy.overrides.values()) {
    const location = override.spec.location ? policy.locations.get(override.spec.location) : undefined;
    if (location) agents.push({ name: override.spec.agent, organization: location.spec.organization, location: location.metadata.name, facts: {} });
  }
  return agents;
}

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const loaded = loadPolicy(generatePolicyRepo(SIZE));
if (!loaded.ok) throw new Error(`the generated repository is invalid: ${loaded.errors[0]?.message}`);
const policy = loaded.policy;
const agents = fleetScopes(policy);

const indexMs: number[] = [];
const compileMs: number[] = [];
const compileCpuMs: number[] = [];
let settingsParts = new Map<string, DocumentPart>();
let resourcesParts = new Map<string, DocumentPart>();
let documents = new Set<string>();
for (let run = 0; run <= runs; run++) {
  let started = performance.now();
  const compiler = createCompiler(policy);
  const indexed = performance.now() - started;
  started = performance.now();
  const cpuStarted = process.cpuUsage();
  settingsParts = new Map();
  resourcesParts = new Map();
  documents = new Set();
  for (const agent of agents) {
    const parts = compiler.compileParts(agent);
    settingsParts.set(parts.settings.sha256, parts.settings);
    resourcesParts.set(parts.resources.sha256, parts.resources);
    documents.add(parts.sha256);
  }
  const compiled = performance.now() - started;
  const cpu = process.cpuUsage(cpuStarted);
  if (run === 0) continue; // warm-up
  indexMs.push(indexed);
  compileMs.push(compiled);
  compileCpuMs.push((cpu.user + cpu.system) / 1000);
}

const bytes = (parts: Map<string, DocumentPart>) => [...parts.values()].reduce((sum, part) => sum + Buffer.byteLength(part.json), 0);
const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
console.log(`repository: ${SIZE.organizations} orgs, ${SIZE.locations} locations, ${SIZE.overrides} overrides, ${SIZE.scripts} scripts, ${SIZE.deployments} deployments (seed 1); ${runs} runs, median`);
console.log(`index (createCompiler): ${median(indexMs).toFixed(1)} ms  [${indexMs.map((ms) => ms.toFixed(0)).join(', ')}]`);
console.log(`compileParts for ${agents.length} scopes: ${median(compileMs).toFixed(0)} ms  [${compileMs.map((ms) => ms.toFixed(0)).join(', ')}]`);
// CPU time of the process (GC threads included) says more than wall time on a busy machine.
console.log(`  CPU time: ${median(compileCpuMs).toFixed(0)} ms  [${compileCpuMs.map((ms) => ms.toFixed(0)).join(', ')}]; load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores`);
console.log(`distinct documents: ${documents.size}`);
console.log(`distinct settings parts: ${settingsParts.size}, ${mb(bytes(settingsParts))}`);
console.log(`distinct resources parts: ${resourcesParts.size}, ${mb(bytes(resourcesParts))}`);
console.log(`peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
