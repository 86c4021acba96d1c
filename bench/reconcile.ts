// npm run bench:reconcile — full and incremental reconcile of a fleet-size generated policy
// repository into real PostgreSQL (a fresh database per full run), median of N runs each, peak RSS,
// and a per-stage breakdown. Writes the results into docs/BENCHMARKS.md (section "Reconcile").
//   node bench/reconcile.ts [--runs 5] [--no-write]   (PSWM_TEST_POSTGRES_URL, default the local postgres)
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { generatePolicyRepo, mutatePolicyRepo, writePolicyRepo } from './generate-policy.ts';
import { loadPolicy } from '../schemas/src/validate/load-policy.ts';
import { createLogger } from '../server/src/logger.ts';
import { freshDatabase, POSTGRES_ADMIN_URL } from '../server/test/support/database.ts';
import { openPolicySource } from '../server/src/git/source.ts';
import { reconcileOnce, type ReconcileOutcome } from '../server/src/reconcile/reconcile.ts';
import { desiredRows } from '../server/src/reconcile/desired-rows.ts';

const SIZE = { organizations: 50, locations: 1000, overrides: 10000, scripts: 500, deployments: 200 };
const TARGETS = { fullMs: 5000, incrementalMs: 300 };
const ADMIN_URL = POSTGRES_ADMIN_URL;
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

function expectApplied(outcome: ReconcileOutcome): number {
  if (outcome.status !== 'applied') throw new Error(`reconcile ${outcome.status}: ${outcome.message}`);
  return outcome.durationMs;
}

const repoDir = await mkdtemp(path.join(os.tmpdir(), 'pswm-bench-reconcile-'));
try {
  let files = generatePolicyRepo(SIZE);
  await writePolicyRepo(repoDir, files);
  git(['init', '--quiet', '-b', 'main'], repoDir);
  git(['add', '--all'], repoDir);
  git(['commit', '--quiet', '-m', 'generated'], repoDir);
  const source = await openPolicySource({ dataDir: repoDir, policyRepo: repoDir, policyBranch: 'main' }, log);

  // Stage breakdown on the generated files (in memory, no git, no database).
  let started = performance.now();
  const loaded = loadPolicy(files);
  const loadMs = performance.now() - started;
  if (!loaded.ok) throw new Error(`the generated repository is invalid: ${loaded.errors[0]?.message}`);
  started = performance.now();
  const desired = desiredRows(loaded.policy);
  const compileMs = performance.now() - started;
  let documentBytes = 0;
  for (const document of desired.documents.values()) documentBytes += Buffer.byteLength(document.json);
  console.log(`load+validate ${loadMs.toFixed(0)} ms; compile ${desired.scopes.size} scopes → ${desired.documents.size} documents (${(documentBytes / 1e6).toFixed(0)} MB) ${compileMs.toFixed(0)} ms`);

  const full: number[] = [];
  for (let i = 0; i < runs; i++) {
    const db = await freshDatabase();
    try {
      full.push(expectApplied(await reconcileOnce({ sql: db.sql, source, log, trigger: 'bench' })));
      console.log(`full #${i + 1}: ${full.at(-1)} ms`);
      if (i < runs - 1) continue;
      // Incremental runs reuse the last full run's database.
      const incremental: number[] = [];
      for (let k = 0; k < runs; k++) {
        files = mutatePolicyRepo(files, 'one-location-setting');
        await writePolicyRepo(repoDir, files);
        git(['commit', '--quiet', '-am', `one location setting #${k + 1}`], repoDir);
        incremental.push(expectApplied(await reconcileOnce({ sql: db.sql, source, log, trigger: 'bench' })));
        console.log(`incremental #${k + 1}: ${incremental.at(-1)} ms`);
      }
      await report({ full, incremental, loadMs, compileMs, scopes: desired.scopes.size, documents: desired.documents.size, documentBytes });
    } finally {
      await db.drop();
    }
  }
  await source.close();
} finally {
  await rm(repoDir, { recursive: true, force: true });
}

async function report(r: { full: number[]; incremental: number[]; loadMs: number; compileMs: number; scopes: number; documents: number; documentBytes: number }): Promise<void> {
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  const cpus = os.cpus();
  const machine = `${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}, ${os.platform()} ${os.release()}`;
  const pg = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
  const [{ server_version: pgVersion }] = await pg`show server_version`;
  await pg.end();
  const row = (name: string, samples: number[], target: number) =>
    `| ${name} | ${median(samples).toFixed(0)} ms | ${samples.join(', ')} | ≤ ${target} ms | ${median(samples) <= target ? 'met' : 'missed'} |`;
  const section = [
    '## Reconcile',
    '',
    `Command: \`npm run bench:reconcile\` (\`node bench/reconcile.ts --runs ${runs}\`), ${new Date().toISOString().slice(0, 10)}.`,
    `Machine: ${machine}; PostgreSQL ${pgVersion} on the same machine.`,
    `Repository: ${SIZE.organizations} organizations, ${SIZE.locations} locations, ${SIZE.overrides} AgentOverrides, ${SIZE.scripts} scripts, ${SIZE.deployments} ChocoDeployments (bench/generate-policy.ts, seed 1).`,
    'Full = a clean database; incremental = after a one-file commit (one Location setting). Durations are reconcileOnce from sync to recorded outcome.',
    '',
    '| run | median | samples | target | |',
    '|---|---|---|---|---|',
    row('full reconcile', r.full, TARGETS.fullMs),
    row('incremental reconcile', r.incremental, TARGETS.incrementalMs),
    '',
    `Peak RSS: ${peakRssMb.toFixed(0)} MB.`,
    `Stages (one run, in memory): load + validate ${r.loadMs.toFixed(0)} ms; compile ${r.scopes} scopes → ${r.documents} distinct documents, ${(r.documentBytes / 1e6).toFixed(0)} MB of canonical JSON, ${r.compileMs.toFixed(0)} ms.`,
    '',
  ].join('\n');
  console.log(`\n${section}`);
  if (values['no-write']) return;
  const existing = await readFile(BENCHMARKS, 'utf8').catch(() => '# Benchmarks\n\n');
  const pattern = /## Reconcile\n[\s\S]*?(?=\n## |$)/;
  const updated = pattern.test(existing) ? existing.replace(pattern, section) : `${existing.trimEnd()}\n\n${section}`;
  await writeFile(BENCHMARKS, updated);
}
