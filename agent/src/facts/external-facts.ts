import { sha256Hex } from '@pswm/schemas/canonical-json';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { CompiledExternalFact, Platform, Shell } from '@pswm/schemas';
import { runScript, type ScriptRunResult } from '../converge/scripts/run-script.ts';
import { runProcess } from '../platform/run-process.ts';
import { externalFactValue, type ExternalFactValue } from './external-result.ts';

export interface ExternalFactLimits {
  timeout_seconds: number;
  max_output_bytes: number;
  max_memory_mb?: number;
}

/** One fact to run: script content with a shell, or a local file run as a program (executable bit). */
export type FactJob =
  | { name: string; shell: Shell; content: string; limits: ExternalFactLimits }
  | { name: string; program: string; limits: ExternalFactLimits }
  | { name: string; error: string };

const SHELL_BY_EXTENSION: Record<string, (platform: Platform) => Shell> = {
  '.ps1': (platform) => (platform === 'windows' ? 'powershell' : 'pwsh'),
  '.sh': () => 'sh',
  '.cmd': () => 'cmd',
  '.bat': () => 'cmd',
};

/** Scripts dropped into `external_facts/` by the machine's owner. The fact is named after the file
 * without its extension; files that are neither a known script type nor executable are ignored
 * (a README next to the scripts is not a fact). */
export async function localFactJobs(dir: string, platform: Platform, limits: ExternalFactLimits): Promise<FactJob[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const jobs: FactJob[] = [];
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.name.startsWith('.') || !(entry.isFile() || entry.isSymbolicLink())) continue;
    const file = path.join(dir, entry.name);
    const extension = path.extname(entry.name).toLowerCase();
    const name = factName(path.basename(entry.name, path.extname(entry.name)));
    const shellFor = SHELL_BY_EXTENSION[extension];
    if (shellFor) {
      // a BOM is re-added by the script runner where the shell needs one
      const content = (await readFile(file, 'utf8')).replace(/^\uFEFF/, '');
      jobs.push({ name, shell: shellFor(platform), content, limits });
    } else if (platform !== 'windows' && ((await stat(file)).mode & 0o111) !== 0) {
      jobs.push({ name: factName(entry.name), program: file, limits });
    }
  }
  return jobs;
}

/** Facts from the desired state: content checked against its sha256 before anything runs; facts
 * meant for another platform are left out. */
export function documentFactJobs(facts: CompiledExternalFact[], platform: Platform): FactJob[] {
  return facts
    .filter((fact) => fact.platforms.includes(platform))
    .map((fact): FactJob => {
      // node:crypto, not the schemas package's helper: importing that package's index loads ajv and
      // isomorphic-git into the agent (~40 MB of resident memory)
      const actual = sha256Hex(fact.content);
      if (actual !== fact.sha256) return { name: fact.name, error: `content does not match its sha256 (expected ${fact.sha256}, got ${actual}); not run` };
      return { name: fact.name, shell: fact.shell, content: fact.content, limits: { timeout_seconds: fact.timeout_seconds, max_output_bytes: fact.max_output_bytes, max_memory_mb: fact.max_memory_mb } };
    });
}

/** Fact keys allow letters, digits, '_', '-', '.', ':' (report schema); anything else becomes '_'. */
function factName(raw: string): string {
  return raw.replace(/[^A-Za-z0-9_.:-]/g, '_').slice(0, 180) || '_';
}

export interface RunFactsOptions {
  dataDir: string;
  scriptsDir: string;
  platform: Platform;
  /** How many fact scripts run at once. */
  concurrency?: number;
}

/** Runs every job (a few at a time) and returns `external.<name>` → value. A later job with the
 * same name replaces an earlier one, so policy facts (passed last) win over local files. */
export async function runFactJobs(jobs: FactJob[], opts: RunFactsOptions): Promise<Record<string, ExternalFactValue>> {
  const values: ExternalFactValue[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const index = next++;
      values[index] = await runFactJob(jobs[index], opts);
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 4, jobs.length) }, worker));
  const facts: Record<string, ExternalFactValue> = {};
  jobs.forEach((job, index) => {
    facts[`external.${job.name}`] = values[index];
  });
  return facts;
}

async function runFactJob(job: FactJob, opts: RunFactsOptions): Promise<ExternalFactValue> {
  if ('error' in job) return { error: job.error };
  const limits = { timeoutSeconds: job.limits.timeout_seconds, maxOutputBytes: job.limits.max_output_bytes, maxMemoryMb: job.limits.max_memory_mb };
  let run: ScriptRunResult;
  if ('program' in job) {
    run = await runProcess({ command: job.program, args: [], cwd: opts.dataDir, ...limits });
  } else {
    run = await runScript({ shell: job.shell, content: job.content, cwd: opts.dataDir, scriptsDir: opts.scriptsDir, platform: opts.platform, ...limits });
  }
  return externalFactValue(run, limits);
}
