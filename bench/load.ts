// `node bench/load.ts`: how long reading and loading a fleet-size policy repository takes, cold and
// after a one-file change with the caches the server keeps (parse cache, git object cache, blob
// texts). Cold figures come from fresh processes, so JIT warm-up and ajv compilation count.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readPolicyRevision } from '../schemas/src/source/git.ts';
import type { LoadResult, RepoFile } from '../schemas/src/model.ts';
import { loadPolicy } from '../schemas/src/validate/load-policy.ts';
import { createParseCache } from '../schemas/src/validate/parse-cache.ts';
import { generatePolicyRepo, mutatePolicyRepo, writePolicyRepo } from './generate-policy.ts';
import type { GenerateOptions, MutationKind } from './generate-policy.ts';

const SIZE: GenerateOptions = { organizations: 50, locations: 1000, overrides: 10000, scripts: 500, deployments: 200 };
const COLD_RUNS = 3;
const WARM_CHANGES: MutationKind[] = ['one-location-setting', 'one-organization-setting', 'one-script-content', 'add-script', 'one-location-setting'];
const GIT_ENV = { ...process.env, GIT_AUTHOR_NAME: 'bench', GIT_AUTHOR_EMAIL: 'bench@example.test', GIT_COMMITTER_NAME: 'bench', GIT_COMMITTER_EMAIL: 'bench@example.test', GIT_CONFIG_NOSYSTEM: '1' };

/** Wall time, and the process's CPU time over it: the machine is shared, and CPU time says what
 * the work cost when other processes stretch the wall time. */
interface Timing {
  ms: number;
  cpuMs: number;
}

function elapsed<T>(work: () => T): Timing & { value: T } {
  const start = performance.now();
  const cpu = process.cpuUsage();
  const value = work();
  const used = process.cpuUsage(cpu);
  return { ms: performance.now() - start, cpuMs: (used.user + used.system) / 1000, value };
}

async function elapsedAsync<T>(work: () => Promise<T>): Promise<Timing & { value: T }> {
  const start = performance.now();
  const cpu = process.cpuUsage();
  const value = await work();
  const used = process.cpuUsage(cpu);
  return { ms: performance.now() - start, cpuMs: (used.user + used.system) / 1000, value };
}

function assertLoaded(result: LoadResult): void {
  if (!result.ok) throw new Error(`the generated repository does not load: ${result.errors.slice(0, 3).map((e) => `${e.file}:${e.line} ${e.message}`).join('; ')}`);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function format(timings: Timing[]): string {
  const runs = timings.map((t) => `${Math.round(t.ms)}/${Math.round(t.cpuMs)}`).join(', ');
  return `${Math.round(median(timings.map((t) => t.ms)))} ms wall, ${Math.round(median(timings.map((t) => t.cpuMs)))} ms CPU (runs, wall/CPU: ${runs})`;
}

/** Child mode: one cold load in a fresh process; prints its milliseconds. */
function coldLoadOnce(): void {
  const files = generatePolicyRepo(SIZE);
  const { ms, cpuMs, value } = elapsed(() => loadPolicy(files));
  assertLoaded(value);
  process.stdout.write(JSON.stringify({ ms, cpuMs }));
}

function coldLoads(): Timing[] {
  const self = fileURLToPath(import.meta.url);
  return Array.from({ length: COLD_RUNS }, () => JSON.parse(execFileSync(process.execPath, [self, '--cold-once'], { encoding: 'utf8' })) as Timing);
}

function warmLoads(files: RepoFile[]): Timing[] {
  const cache = createParseCache();
  assertLoaded(loadPolicy(files, {}, cache));
  let current = files;
  return WARM_CHANGES.map((kind) => {
    current = mutatePolicyRepo(current, kind);
    const timing = elapsed(() => loadPolicy(current, {}, cache));
    assertLoaded(timing.value);
    return timing;
  });
}

async function gitReads(files: RepoFile[]): Promise<{ cold: Timing[]; warm: Timing[] }> {
  const repo = mkdtempSync(join(tmpdir(), 'pswm-bench-load-'));
  try {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, env: GIT_ENV, encoding: 'utf8' });
    await writePolicyRepo(repo, files);
    git('init', '-q', '-b', 'main');
    git('add', '.');
    git('commit', '-q', '-m', 'generated policy');
    git('repack', '-adq'); // a fetched or cloned repository holds its objects in packs
    const cold: Timing[] = [];
    for (let i = 0; i < COLD_RUNS; i++) cold.push(await elapsedAsync(() => readPolicyRevision(repo, 'main', {}, new Map())));
    const cache = {};
    const blobTexts = new Map<string, string>();
    await readPolicyRevision(repo, 'main', cache, blobTexts);
    const warm: Timing[] = [];
    let current = files;
    for (const kind of WARM_CHANGES) {
      const before = new Map(current.map((file) => [file.path, file.text]));
      current = mutatePolicyRepo(current, kind);
      await writePolicyRepo(repo, current.filter((file) => before.get(file.path) !== file.text));
      git('add', '.');
      git('commit', '-q', '-m', kind);
      warm.push(await elapsedAsync(() => readPolicyRevision(repo, 'main', cache, blobTexts)));
    }
    return { cold, warm };
  } finally {
    rmSync(repo, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const files = generatePolicyRepo(SIZE);
  console.log(`# Load benchmark: ${files.length} files (${Object.entries(SIZE).map(([k, v]) => `${k} ${v}`).join(', ')})`);
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`);
  console.log('command: npx node bench/load.ts\n');
  console.log(`load + validate, cold (fresh process):      ${format(coldLoads())}`);
  console.log(`load + validate, one file changed (cache):  ${format(warmLoads(files))}`);
  const git = await gitReads(files);
  console.log(`git read, cold (new caches):                ${format(git.cold)}`);
  console.log(`git read, one file changed (caches):        ${format(git.warm)}`);
}

if (process.argv.includes('--cold-once')) coldLoadOnce();
else await main();
