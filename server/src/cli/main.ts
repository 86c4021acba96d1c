// pswm-server: one entry point, one table of subcommands (each its own module, loaded on demand).
import { readFile } from 'node:fs/promises';
import { enableCompileCache } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dispatch } from './command.ts';

// V8 keeps the compiled (type-stripped) modules on disk: ~0.6 s less CPU for every start. The cache sits
// beside the installed packages, owned by whoever installed them, not in the shared temp folder where
// another user could plant entries. An unwritable folder just means no cache.
enableCompileCache(fileURLToPath(new URL('../../../node_modules/.cache/pswm-server/compile-cache', import.meta.url)));
import type { CommandTable } from './command.ts';

const COMMANDS: CommandTable = {
  start: async () => (await import('./start.ts')).start,
  migrate: async () => (await import('./migrate.ts')).migrateCommand,
  token: async () => (await import('./token.ts')).token,
  reconcile: async () => (await import('./reconcile.ts')).reconcileCommand,
  agent: async () => (await import('./agent.ts')).agent,
  otp: async () => (await import('./otp.ts')).otp,
  queue: async () => (await import('./queue.ts')).queue,
  signal: async () => (await import('./signal.ts')).signalCommand,
  console: async () => (await import('./console.ts')).consoleCommand,
  'secret-key': async () => (await import('./secret-key.ts')).secretKey,
  run: async () => (await import('./run.ts')).runCommand,
  release: async () => (await import('./release.ts')).release,
};

async function packageVersion(): Promise<string> {
  return (JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

const root = { summary: 'pswm server: reconciles a policy repository into PostgreSQL and serves the API.', subcommands: COMMANDS, version: packageVersion };

process.exitCode = await dispatch('pswm-server', root, process.argv.slice(2), {
  env: process.env,
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
});
