// Synthetic policy repositories for benchmarks and scale tests: deterministic for a given size and
// seed, valid (no cross-document errors, no package conflicts), and shaped like a real repository
// (settings at every layer, scripts split between files and inline content, targets of every kind).
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseDocument, stringify } from 'yaml';
import type { Kind, RepoFile, RunMode, Shell, Targets } from '../schemas/src/model.ts';

export interface GenerateOptions {
  organizations: number;
  locations: number;
  overrides: number;
  scripts: number;
  deployments: number;
  externalFacts?: number; // default 2
  seed?: number; // default 1
}

export const MUTATION_KINDS = ['one-location-setting', 'one-organization-setting', 'one-script-content', 'add-script'] as const;
export type MutationKind = (typeof MUTATION_KINDS)[number];

const PACKAGES_PER_DEPLOYMENT = 3;
const SHELLS: Shell[] = ['powershell', 'sh', 'cmd', 'pwsh', 'bash'];
const RUN_MODES: RunMode[] = ['every_iteration', 'single_run', 'interval', 'schedule'];
const EXTENSION_OF: Record<Shell, string> = { powershell: 'ps1', pwsh: 'ps1', cmd: 'cmd', sh: 'sh', bash: 'sh' };

/** Names are zero-padded so sorted file listings follow generation order. */
const orgName = (i: number): string => `org-${pad(i, 3)}`;
const locationName = (i: number): string => `loc-${pad(i, 4)}`;
const agentName = (i: number): string => `agent-${pad(i, 5)}`;
const scriptName = (i: number): string => `script-${pad(i, 4)}`;

function pad(i: number, width: number): string {
  return String(i).padStart(width, '0');
}

/** mulberry32: a tiny seeded PRNG, enough to vary values without making output depend on the run. */
function randomSource(seed: number): (max: number) => number {
  let state = seed >>> 0;
  return (max) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) % max);
  };
}

function repoFile(path: string, text: string): RepoFile {
  return { path, text, size: Buffer.byteLength(text) };
}

function documentFile(path: string, kind: Kind, name: string, spec: unknown, description?: string): RepoFile {
  const metadata = description ? { name, description } : { name };
  return repoFile(path, stringify({ apiVersion: 'pswm/v1', kind, metadata, spec }, { lineWidth: 0 }));
}

/** Where location i lives: locations are dealt round-robin over the organizations. */
function locationOf(i: number, organizations: number): { org: string; name: string; id: string } {
  const org = orgName(i % organizations);
  const name = locationName(i);
  return { org, name, id: `${org}/${name}` };
}

export function generatePolicyRepo(options: GenerateOptions): RepoFile[] {
  const { organizations, locations, overrides, scripts, deployments } = options;
  if (organizations < 1 || locations < 1) throw new RangeError('a policy needs at least one organization and one location');
  const random = randomSource(options.seed ?? 1);
  const files: RepoFile[] = [globalSettings()];

  for (let i = 0; i < organizations; i++) {
    const settings = { choco: { upgrade_interval_hours: 6 + random(43) }, logging: { retention_days: 7 + random(60) } };
    files.push(documentFile(`organizations/${orgName(i)}/organization.yaml`, 'Organization', orgName(i), { display_name: `Organization ${i}`, settings }));
  }
  for (let i = 0; i < locations; i++) {
    const { org, name } = locationOf(i, organizations);
    const settings = { agent: { interval_seconds: 600 + 60 * random(30) }, remote_console: { enabled: random(2) === 0 } };
    files.push(documentFile(`organizations/${org}/${name}.yaml`, 'Location', name, { organization: org, settings }));
  }
  for (let i = 0; i < overrides; i++) {
    const location = locationOf(i % locations, organizations);
    const settings = { agent: { interval_seconds: 300 }, logging: { level: random(2) === 0 ? 'debug' : 'warn' } };
    const spec = { agent: agentName(i), organization: location.org, location: location.id, settings };
    files.push(documentFile(`overrides/${agentName(i)}.yaml`, 'AgentOverride', `override-${agentName(i)}`, spec));
  }
  for (let i = 0; i < scripts; i++) files.push(...scriptFiles(i, options, random));
  for (let i = 0; i < (options.externalFacts ?? 2); i++) files.push(...externalFactFiles(i, options));
  for (let i = 0; i < deployments; i++) {
    const packages = Array.from({ length: PACKAGES_PER_DEPLOYMENT }, (_, k) => packageDeclaration(i, k));
    files.push(documentFile(`packages/deployment-${pad(i, 4)}.yaml`, 'ChocoDeployment', `deployment-${pad(i, 4)}`, { packages, targets: targetsFor(i, options) }));
  }
  return files;
}

function globalSettings(): RepoFile {
  const settings = {
    agent: { interval_seconds: 1800, jitter_seconds: 120, heartbeat_seconds: 60 },
    scripts: { timeout_seconds: 600, max_output_bytes: 65536 },
    choco: { upgrade_all: true, upgrade_interval_hours: 24, skip_pinned: true },
    logging: { level: 'info', retention_days: 14, max_file_mb: 10 },
  };
  return documentFile('settings.yaml', 'Settings', 'global', { settings, reconcile: { deletion_budget_percent: 25 } }, 'Synthetic global layer');
}

/** Cycles through every kind of target so compile and plan see each: everyone, an organization, a
 * location, one agent, and a facts selector. */
function targetsFor(i: number, options: GenerateOptions): Targets | undefined {
  switch (i % 5) {
    case 0:
      return undefined;
    case 1:
      return { organizations: [orgName(i % options.organizations)] };
    case 2:
      return { locations: [locationOf(i % options.locations, options.organizations).id] };
    case 3:
      return { agents: [agentName(i % Math.max(options.overrides, 1))] };
    default:
      return { organizations: [orgName(i % options.organizations)], facts: { 'os.family': ['windows', 'linux'] } };
  }
}

function scriptBody(shell: Shell, label: string): string {
  switch (shell) {
    case 'powershell':
    case 'pwsh':
      return `$ErrorActionPreference = 'Stop'\nWrite-Output 'converging ${label}'\nexit 0\n`;
    case 'cmd':
      return `@echo off\necho converging ${label}\nexit /b 0\n`;
    default:
      return `set -eu\necho "converging ${label}"\n`;
  }
}

/** Even scripts reference a file next to their YAML, odd ones carry inline content; every third
 * has a check. */
function scriptFiles(i: number, options: GenerateOptions, random: (max: number) => number): RepoFile[] {
  const name = scriptName(i);
  const shell = SHELLS[i % SHELLS.length];
  const run = RUN_MODES[i % RUN_MODES.length];
  const spec: Record<string, unknown> = { shell, run, order: 10 + random(200) };
  const files: RepoFile[] = [];
  if (i % 2 === 0) {
    spec.file = `${name}.${EXTENSION_OF[shell]}`;
    files.push(repoFile(`scripts/${spec.file}`, scriptBody(shell, name)));
  } else {
    spec.content = scriptBody(shell, name);
  }
  if (i % 3 === 0) spec.check = { content: scriptBody(shell, `${name} check`) };
  if (run === 'interval') spec.interval_hours = 1 + random(48);
  if (run === 'schedule') spec.schedule = `${random(60)} ${random(24)} * * *`;
  const targets = targetsFor(i, options);
  if (targets) spec.targets = targets;
  files.unshift(documentFile(`scripts/${name}.yaml`, 'Script', name, spec));
  return files;
}

function externalFactFiles(i: number, options: GenerateOptions): RepoFile[] {
  const name = `fact_${pad(i, 3)}`;
  const linux = i % 2 === 1;
  const file = `${name}.${linux ? 'sh' : 'ps1'}`;
  const body = linux ? `printf '{"index":${i}}\\n'\n` : `[ordered]@{ index = ${i} } | ConvertTo-Json -Compress\n`;
  const spec: Record<string, unknown> = { shell: linux ? 'sh' : 'powershell', file };
  const targets = targetsFor(i, options);
  if (targets) spec.targets = targets;
  return [documentFile(`facts/${name}.yaml`, 'ExternalFact', name, spec), repoFile(`facts/${file}`, body)];
}

/** Package names are unique per deployment, so no two deployments can conflict. */
function packageDeclaration(deployment: number, k: number): Record<string, unknown> {
  const name = `pkg-${pad(deployment, 4)}-${k}`;
  switch (k % 3) {
    case 0:
      return { name, ensure: 'present' };
    case 1:
      return { name, ensure: 'latest' };
    default:
      return { name, ensure: 'present', version: `1.${deployment % 10}.${k}`, pin: true };
  }
}

/** A copy of `files` with exactly one file changed or added, for incremental benchmarks. Calling it
 * again on its own output makes a further change. */
export function mutatePolicyRepo(files: RepoFile[], kind: MutationKind): RepoFile[] {
  const copy = files.map((file) => ({ ...file }));
  switch (kind) {
    case 'one-location-setting':
      return editYaml(copy, firstPath(copy, /^organizations\/[^/]+\/(?!organization\.yaml$)[^/]+\.yaml$/), ['spec', 'settings', 'agent', 'interval_seconds'], (v) => Number(v) + 60);
    case 'one-organization-setting':
      return editYaml(copy, firstPath(copy, /^organizations\/[^/]+\/organization\.yaml$/), ['spec', 'settings', 'choco', 'upgrade_interval_hours'], (v) => Number(v) + 1);
    case 'one-script-content': {
      const file = copy.find((f) => /^scripts\/[^/]+\.(ps1|cmd|sh)$/.test(f.path));
      if (!file) throw new Error('the repository has no script file to change');
      setText(file, `${file.text}${file.path.endsWith('.cmd') ? 'rem' : '#'} edited\n`);
      return copy;
    }
    case 'add-script': {
      const taken = new Set(copy.map((f) => f.path));
      let i = 0;
      while (taken.has(`scripts/added-${pad(i, 4)}.yaml`)) i++;
      const name = `added-${pad(i, 4)}`;
      copy.push(documentFile(`scripts/${name}.yaml`, 'Script', name, { shell: 'powershell', content: scriptBody('powershell', name) }));
      return copy;
    }
  }
}

function firstPath(files: RepoFile[], pattern: RegExp): string {
  const found = files.map((f) => f.path).filter((path) => pattern.test(path)).sort()[0];
  if (!found) throw new Error(`the repository has no file matching ${pattern}`);
  return found;
}

function editYaml(files: RepoFile[], path: string, key: string[], change: (value: unknown) => unknown): RepoFile[] {
  const file = files.find((f) => f.path === path);
  if (!file) throw new Error(`${path} is not in the repository`);
  const doc = parseDocument(file.text ?? '');
  doc.setIn(key, change(doc.getIn(key)));
  setText(file, doc.toString({ lineWidth: 0 }));
  return files;
}

function setText(file: RepoFile, text: string): void {
  file.text = text;
  file.size = Buffer.byteLength(text);
}

/** Writes the files under `dir` (created as needed); the I/O edge of this module. */
export async function writePolicyRepo(dir: string, files: RepoFile[]): Promise<void> {
  for (const file of files) {
    const target = join(dir, file.path);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, file.text ?? '');
  }
}
