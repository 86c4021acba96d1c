// The no-op converge of `npm run bench:agent`: 50 sh scripts whose `check` exits 0, through the
// agent's converge(), and the same 50 resources as Puppet exec resources with `unless` guards.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { settingsDefaults, type CompiledScript, type DesiredState } from '@pswm/schemas';
import { converge } from '../agent/src/converge/converge.ts';

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const pad = (i: number) => String(i).padStart(2, '0');

// Distinct content per resource, as in a real policy: nothing can be shared or cached by content.
const checkContent = (i: number) => `# check ${pad(i)}: already in place\nexit 0\n`;
const applyContent = (i: number) => `echo "applied ${pad(i)}"\n`;

function noopDocument(count: number): DesiredState {
  const scripts: CompiledScript[] = Array.from({ length: count }, (_, i) => ({
    name: `bench-${pad(i)}`,
    shell: 'sh',
    content: applyContent(i),
    sha256: sha256(applyContent(i)),
    check: { shell: 'sh', content: checkContent(i), sha256: sha256(checkContent(i)) },
    run: 'every_iteration',
    timeout_seconds: 60,
    max_output_bytes: 65536,
    platforms: ['linux', 'darwin'],
    order: i,
  }));
  return { apiVersion: 'pswm/v1', settings: settingsDefaults(), provenance: {}, scripts, packages: [], external_facts: [], conflicts: [] };
}

/** CPU time (user + system, ms) of this process's reaped children, from /proc/self/stat. */
async function childrenCpuMs(): Promise<number> {
  const stat = await readFile('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticksPerSecond = 100; // USER_HZ on Linux
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / ticksPerSecond; // cutime, cstime
}

export interface ConvergeSample {
  wallMs: number;
  /** Sum over the 50 checks of spawn → exit, as runProcess measures it. */
  checksWallMs: number;
  checksCpuMs: number;
}

export async function measureNoopConverge(count: number, runs: number): Promise<ConvergeSample[]> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'pswm-bench-agent-'));
  try {
    const desired = noopDocument(count);
    const once = async (): Promise<ConvergeSample> => {
      const cpuBefore = await childrenCpuMs();
      const start = performance.now();
      const result = await converge({ desired, dataDir, dryRun: false, now: new Date() });
      const wallMs = performance.now() - start;
      const notInSync = result.items.filter((item) => item.status !== 'in_sync');
      if (notInSync.length) throw new Error(`expected every script in sync, got ${JSON.stringify(notInSync.slice(0, 3))}`);
      if (result.scriptRuns.some((run) => run.phase !== 'check')) throw new Error('a no-op converge ran an apply script');
      return { wallMs, checksWallMs: result.scriptRuns.reduce((sum, run) => sum + run.durationMs, 0), checksCpuMs: (await childrenCpuMs()) - cpuBefore };
    };
    await once(); // warm-up: first-seen state, JIT
    const samples: ConvergeSample[] = [];
    for (let i = 0; i < runs; i++) samples.push(await once());
    return samples;
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

export interface PuppetSample {
  wallMs: number;
  /** Puppet's own "Applied catalog in X seconds" (the exec checks, without start-up and compile). */
  appliedMs: number;
  compiledMs: number;
}

export function puppetVersion(): string | undefined {
  try {
    return execFileSync('puppet', ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}

export async function measurePuppetApply(count: number, runs: number): Promise<PuppetSample[]> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pswm-bench-puppet-'));
  try {
    const resources: string[] = [];
    for (let i = 0; i < count; i++) {
      await writeFile(path.join(dir, `check-${pad(i)}.sh`), checkContent(i));
      await writeFile(path.join(dir, `apply-${pad(i)}.sh`), applyContent(i));
      resources.push(`exec { 'bench-${pad(i)}':\n  command => '/bin/sh ${dir}/apply-${pad(i)}.sh',\n  unless  => '/bin/sh ${dir}/check-${pad(i)}.sh',\n}\n`);
    }
    const manifest = path.join(dir, 'bench.pp');
    await writeFile(manifest, resources.join('\n'));
    const once = (): PuppetSample => {
      const start = performance.now();
      const output = execFileSync('puppet', ['apply', '--color=false', manifest], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      const wallMs = performance.now() - start;
      if (/executed successfully/.test(output)) throw new Error(`puppet ran an exec command; the guards did not hold:\n${output}`);
      const seconds = (re: RegExp) => Number(re.exec(output)?.[1] ?? NaN) * 1000;
      return { wallMs, appliedMs: seconds(/Applied catalog in ([\d.]+) seconds/), compiledMs: seconds(/Compiled catalog for .* in ([\d.]+) seconds/) };
    };
    once(); // warm-up: puppet's caches and the page cache
    return Array.from({ length: runs }, once);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The same measurement against the compiled copy's converge.js in a child Node started with
 * `nodeFlags` (the service's: --lite-mode cannot run TypeScript, it has no WebAssembly for the
 * stripper), so the figures are those of the interpreter the installed agent runs on. */
export async function measureNoopConvergeWith(nodeFlags: readonly string[], compiledConverge: string, count: number, runs: number): Promise<ConvergeSample[]> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pswm-bench-agent-'));
  try {
    const documentFile = path.join(dir, 'desired.json');
    await writeFile(documentFile, JSON.stringify(noopDocument(count)));
    const child = `
      import { readFileSync } from 'node:fs';
      const { converge } = await import(process.argv[1]);
      const desired = JSON.parse(readFileSync(process.argv[2], 'utf8'));
      const cpu = () => { const f = readFileSync('/proc/self/stat', 'utf8'); const x = f.slice(f.lastIndexOf(')') + 2).split(' '); return (Number(x[13]) + Number(x[14])) * 10; };
      const once = async () => {
        const before = cpu(); const start = performance.now();
        const result = await converge({ desired, dataDir: process.argv[3], dryRun: false, now: new Date() });
        const wallMs = performance.now() - start;
        if (result.items.some((i) => i.status !== 'in_sync')) throw new Error('not in sync');
        return { wallMs, checksWallMs: result.scriptRuns.reduce((s, r) => s + r.durationMs, 0), checksCpuMs: cpu() - before };
      };
      await once();
      const samples = [];
      for (let i = 0; i < Number(process.argv[4]); i++) samples.push(await once());
      process.stdout.write(JSON.stringify(samples));`;
    const output = execFileSync(process.execPath, [...nodeFlags, '--input-type=module', '-e', child, compiledConverge, documentFile, dir, String(runs)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    return JSON.parse(output);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
