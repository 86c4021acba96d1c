// npm run bench:reconcile — full and incremental reconcile of a fleet-size generated policy
// repository into real PostgreSQL: median of N runs each, peak RSS, and the per-stage breakdown that
// reconcileOnce reports. Writes the results into docs/BENCHMARKS.md (section "Reconcile").
//   node bench/reconcile.ts [--runs 5] [--no-write]   (PSWM_TEST_POSTGRES_URL, default the local postgres)
// Full = a clean database and a fresh process state (new source, new reconcile memory), as after a
// start; incremental = the same process after a one-file commit (one Location setting).
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { generatePolicyRepo, mutatePolicyRepo, writePolicyRepo } from './generate-policy.ts';
import { createLogger } from '../server/src/logger.ts';
import { freshDatabase, POSTGRES_ADMIN_URL } from '../server/test/support/database.ts';
import { openPolicySource } from '../server/src/git/source.ts';
import { reconcileOnce, type ReconcileOutcome } from '../server/src/reconcile/reconcile.ts';
import { createReconcileMemory } from '../server/src/reconcile/memory.ts';

const SIZE = { organizations: 50, locations: 1000, overrides: 10000, scripts: 500, deployments: 200 };
const TARGETS = { fullMs: 5000, incrementalMs: 300 };
const BENCHMARKS = new URL('../docs/BENCHMARKS.md', import.meta.url);
const log = createLogger({ logLevel: 'silent' });

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, 'no-write': { type: 'boolean', default: false } } });
const runs = Number(values.runs);

function git(args: string[], cwd: string): string {
  const env = { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_AUTHOR_NAME: 'bench', GIT_AUTHOR_EMAIL: 'bench@example.test', GIT_COMMITTER_NAME: 'bench', GIT_COMMITTER_EMAIL: 'bench@example.test' };
  return execFileSync('git', args, { cwd, env, encoding: 'utf8' }).trim();
}

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function expectApplied(outcome: ReconcileOutcome): ReconcileOutcome {
  if (outcome.status !== 'applied') throw new Error(`reconcile ${outcome.status}: ${outcome.message}`);
  return outcome;
}

/** Median of each stage over the runs, in the order stages ran. */
function medianStages(outcomes: ReconcileOutcome[]): Array<[string, number]> {
  const names = [...new Set(outcomes.flatMap((o) => Object.keys(o.stagesMs)))];
  return names.map((name) => [name, median(outcomes.map((o) => o.stagesMs[name] ?? 0))]);
}

interface StoredVolume {
  kind: string;
  rows: number;
  megabytes: number;
}

async function storedVolume(sql: postgres.Sql): Promise<StoredVolume[]> {
  return sql<StoredVolume[]>`
    select kind, count(*)::int as rows, round(sum(size) / 1e6, 1)::float as megabytes from document_parts group by kind
    union all select 'documents', count(*)::int, 0 from desired_documents
    union all select 'scopes', count(*)::int, 0 from scope_documents
    union all select 'objects', count(*)::int, 0 from policy_objects
    union all select 'contents', count(*)::int, round(sum(size) / 1e6, 1)::float from policy_contents
    order by 1`;
}

const repoDir = await mkdtemp(path.join(os.tmpdir(), 'pswm-bench-reconcile-'));
try {
  let files = generatePolicyRepo(SIZE);
  await writePolicyRepo(repoDir, files);
  git(['init', '--quiet', '-b', 'main'], repoDir);
  git(['add', '--all'], repoDir);
  git(['commit', '--quiet', '-m', 'generated'], repoDir);
  const openSource = () => openPolicySource({ dataDir: repoDir, policyRepo: repoDir, policyBranch: 'main' }, log);

  const full: ReconcileOutcome[] = [];
  for (let i = 0; i < runs; i++) {
    const db = await freshDatabase();
    const source = await openSource();
    const memory = createReconcileMemory();
    try {
      full.push(expectApplied(await reconcileOnce({ sql: db.sql, source, log, trigger: 'bench', memory, insertMethod: 'copy' })));
      console.log(`full #${i + 1}: ${full.at(-1)!.durationMs} ms ${JSON.stringify(full.at(-1)!.stagesMs)}`);
      if (i < runs - 1) continue;
      // Incremental runs continue the last full run's process: same source, memory and database.
      const incremental: ReconcileOutcome[] = [];
      for (let k = 0; k < runs; k++) {
        files = mutatePolicyRepo(files, 'one-location-setting');
        await writePolicyRepo(repoDir, files);
        git(['commit', '--quiet', '-am', `one location setting #${k + 1}`], repoDir);
        incremental.push(expectApplied(await reconcileOnce({ sql: db.sql, source, log, trigger: 'bench', memory, insertMethod: 'copy' })));
        console.log(`incremental #${k + 1}: ${incremental.at(-1)!.durationMs} ms ${JSON.stringify(incremental.at(-1)!.stagesMs)}`);
      }
      await report({ full, incremental, files: files.length, volume: await storedVolume(db.sql) });
    } finally {
      await source.close();
      await db.drop();
    }
  }
} finally {
  await rm(repoDir, { recursive: true, force: true });
}

async function report(r: { full: ReconcileOutcome[]; incremental: ReconcileOutcome[]; files: number; volume: StoredVolume[] }): Promise<void> {
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  const cpus = os.cpus();
  const machine = `${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}, ${os.platform()} ${os.release()}`;
  const pg = postgres(POSTGRES_ADMIN_URL, { max: 1, onnotice: () => {} });
  const [{ server_version: pgVersion }] = await pg`show server_version`;
  await pg.end();
  const durations = (outcomes: ReconcileOutcome[]) => outcomes.map((o) => o.durationMs);
  const row = (name: string, outcomes: ReconcileOutcome[], target: number) => {
    const samples = durations(outcomes);
    return `| ${name} | ${median(samples).toFixed(0)} ms | ${samples.join(', ')} | ≤ ${target} ms | ${median(samples) <= target ? 'met' : 'missed'} |`;
  };
  const full = new Map(medianStages(r.full));
  const incremental = new Map(medianStages(r.incremental));
  const stageRows = [...new Set([...full.keys(), ...incremental.keys()])].map((stage) =>
    `| ${stage} | ${full.has(stage) ? full.get(stage)!.toFixed(0) : '–'} | ${incremental.has(stage) ? incremental.get(stage)!.toFixed(0) : '–'} |`);
  const section = [
    '## Reconcile',
    '',
    `Command: \`npm run bench:reconcile\` (\`node bench/reconcile.ts --runs ${runs}\`), ${new Date().toISOString().slice(0, 10)}.`,
    `Machine: ${machine}; PostgreSQL ${pgVersion} on the same machine.`,
    `Repository: ${SIZE.organizations} organizations, ${SIZE.locations} locations, ${SIZE.overrides} AgentOverrides, ${SIZE.scripts} scripts, ${SIZE.deployments} ChocoDeployments (bench/generate-policy.ts, seed 1; ${r.files} files).`,
    'Full = a clean database and a fresh process state (new source, new reconcile memory); incremental = the same process after a',
    'one-file commit (one Location setting). Durations are `reconcileOnce`, from sync to recorded outcome; median of the samples.',
    '',
    '| run | median | samples | target | |',
    '|---|---|---|---|---|',
    row('full reconcile', r.full, TARGETS.fullMs),
    row('incremental reconcile', r.incremental, TARGETS.incrementalMs),
    '',
    `The first full sample is a cold process (JIT, module-level state); the others run warm in the same process. Cold first run: ${r.full[0].durationMs} ms (read ${r.full[0].stagesMs.read?.toFixed(0)} ms).`,
    `Peak RSS of the benchmark process: ${peakRssMb.toFixed(0)} MB. Scopes compiled: full ${median(r.full.map((o) => o.compiledScopes))}, incremental ${median(r.incremental.map((o) => o.compiledScopes))}.`,
    '',
    'Stages (median ms; `outcome.stagesMs`, also in the log line of each reconcile):',
    '',
    '| stage | full | incremental |',
    '|---|---|---|',
    ...stageRows,
    '',
    `Stored after the runs: ${r.volume.map((v) => `${v.kind} ${v.rows}${v.megabytes ? ` (${v.megabytes} MB)` : ''}`).join(', ')}.`,
    '',
  ].join('\n');
  console.log(`\n${section}`);
  if (values['no-write']) return;
  const existing = await readFile(BENCHMARKS, 'utf8').catch(() => '# Benchmarks\n\n');
  const pattern = /## Reconcile\n[\s\S]*?(?=\n## |$)/;
  const updated = pattern.test(existing) ? existing.replace(pattern, section) : `${existing.trimEnd()}\n\n${section}`;
  await writeFile(BENCHMARKS, updated);
}
