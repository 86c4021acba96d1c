// `npm run build -w console` (also run by the root `prepare` and `start` scripts): builds the console
// with Astro into console/dist unless dist is already the build of the current sources. --force
// builds anyway.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { buildInfoPath, CONSOLE_ROOT, isBuildCurrent, sourceDigests } from './build-state.ts';

export function buildConsole(opts: { force?: boolean; quiet?: boolean } = {}): void {
  if (!opts.force && isBuildCurrent()) {
    if (!opts.quiet) console.log('console: dist is current');
    return;
  }
  const digests = sourceDigests();
  const astroBin = path.join(path.dirname(createRequire(import.meta.url).resolve('astro/package.json')), 'bin', 'astro.mjs');
  const result = spawnSync(process.execPath, [astroBin, 'build', '--silent'], {
    cwd: CONSOLE_ROOT,
    stdio: 'inherit',
    env: { ...process.env, ASTRO_TELEMETRY_DISABLED: '1' },
  });
  if (result.status !== 0) throw new Error(`console: astro build failed (exit status ${result.status})`);
  writeFileSync(buildInfoPath(), JSON.stringify({ builtAt: new Date().toISOString(), digests }, null, 2) + '\n');
  if (!opts.quiet) console.log('console: built into console/dist');
}

if (import.meta.main) buildConsole({ force: process.argv.includes('--force') });
