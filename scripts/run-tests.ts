// `npm test`'s runner: node:test's own runner and spec reporter, four test files at a time, with the
// files known to take longest started first. node --test sorts its files by path, which started the
// longest ones (self-update, Wine, the console's browser tests) last, so the run ended with one or two
// of them running alone on an otherwise idle machine. Longest first keeps both cores busy to the end.
// Usage: node scripts/run-tests.ts [file ...]  (no arguments: every *.test.ts of the workspaces)
import { glob } from 'node:fs/promises';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { run } from 'node:test';
import { spec } from 'node:test/reporters';
import { templateDatabase } from '../server/test/support/database.ts';

const PATTERNS = ['schemas/**/*.test.ts', 'server/**/*.test.ts', 'agent/**/*.test.ts', 'bench/**/*.test.ts', 'console/test/**/*.test.ts'];

/** Files whose tests took 28 s or more in a whole run (the sum of their tests' durations, four files
 * at a time on the 2-core machine, 2026-12-04), longest first. A file missing from this list only
 * starts later; nothing is skipped. Most of these wait (on a minute boundary, a quiet period, a
 * browser, a server's restart) more than they compute. Files of 30–60 s that started last in
 * alphabetical order (hub-processes, platform-embedded, platform-db-outage) ended the run. */
const SLOW_FIRST = [
  'agent/test/wine.test.ts', // 156 s
  'server/test/reconcile-processes.test.ts', // 134 s
  'agent/test/self-update-restart.test.ts', // 89 s
  'agent/test/e2e-duplicate-identity.test.ts', // 72 s
  'console/test/console-sessions.test.ts', // 66 s
  'agent/test/self-update.test.ts', // 65 s
  'agent/test/e2e-console.test.ts', // 63 s
  'console/test/console-pages.test.ts', // 63 s
  'agent/test/e2e-durability.test.ts', // 62 s
  'agent/test/e2e-converge.test.ts', // 59 s
  'server/test/hub-processes.test.ts', // 58 s
  'server/test/enroll-server.test.ts', // 52 s
  'agent/test/e2e-schedule-bounds.test.ts', // 46 s
  'server/test/platform-embedded.test.ts', // 40 s
  'server/test/document-map.test.ts', // 38 s
  'server/test/reconcile-server.test.ts', // 36 s
  'server/test/reconcile-incremental.test.ts', // 36 s
  'server/test/platform-db-outage.test.ts', // 34 s
  'server/test/enroll-methods.test.ts', // 34 s
  'agent/test/e2e-footprint.test.ts', // 33 s
  'agent/test/e2e-reporting.test.ts', // 32 s
  'server/test/reports-ingest.test.ts', // 28 s
  'agent/test/e2e-realtime.test.ts', // 28 s
];

// The suite waits (on processes, sockets, a browser, deadlines) more than it computes. Whole runs on
// the quiet 2-core machine, CPU of the run's own processes (PostgreSQL's not counted): 3 files at a
// time, 345 s wall for 319 s CPU (46 % of the cores); 4 at a time, 229 s wall for 292 s CPU. The
// suite has grown since: on 2026-12-04, 4 at a time took 610 s wall for 868 s CPU, and 5 at a time
// 614 s, so more at once does not help now that it keeps the two cores busy.
const CONCURRENCY = 4;
const TEST_TIMEOUT_MS = 180_000;

async function testFiles(): Promise<string[]> {
  const found = new Set<string>();
  for (const pattern of PATTERNS) {
    for await (const file of glob(pattern, { exclude: (entry) => /(^|\/)node_modules$/.test(String(entry)) })) found.add(file);
  }
  const rest = [...found].filter((file) => !SLOW_FIRST.includes(file)).sort();
  return [...SLOW_FIRST.filter((file) => found.has(file)), ...rest];
}

// Every Node process of the run (the test files, and the servers, agents and CLIs they start)
// inherits V8's on-disk compile cache, so a module compiled (type-stripped) once is not compiled
// again by the next hundred processes that load it: measured 9.4 → 6.9 s CPU for
// agent/test/e2e-converge.test.ts, 7.2 → 4.1 s for e2e-enroll. As for pswm-server's own cache
// (server/src/cli/main.ts), the folder sits beside the installed packages, not in the shared temp
// folder; Node checks each entry against its source, so a stale entry is recompiled, not used.
process.env.NODE_COMPILE_CACHE ??= path.resolve(import.meta.dirname, '..', 'node_modules', '.cache', 'pswm-tests', 'compile-cache');

// One migrated database for the run to copy: freshDatabase (server/test/support/database.ts) then
// creates each test database from it instead of migrating an empty one, ~0.2 s less per database on
// a quiet machine, ~1 s under load. Without PostgreSQL the tests that need it fail as they would.
const template = await templateDatabase().catch((error: Error) => {
  process.stderr.write(`no template database (${error.message}): each test database is migrated\n`);
  return undefined;
});
if (template) process.env.PSWM_TEST_TEMPLATE_DATABASE = template.name;
// Ctrl-C: the test processes get the signal too; the template goes with them
process.once('SIGINT', () => void (template?.drop() ?? Promise.resolve()).finally(() => process.exit(130)));

const files = process.argv.length > 2 ? process.argv.slice(2) : await testFiles();
const stream = run({ files, concurrency: CONCURRENCY, timeout: TEST_TIMEOUT_MS, forceExit: true });
stream.on('test:fail', () => { process.exitCode = 1; });
const report = stream.compose(spec);
report.pipe(process.stdout);
await finished(report).finally(() => template?.drop());
