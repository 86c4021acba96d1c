#!/usr/bin/env node
// `pswm`: runs the compiled copy (agent/dist/, `npm run build -w agent`) when it was built from the
// sources as they are now, else the TypeScript sources. The compiled copy needs no type stripping,
// which is most of a short command's start-up (docs/BENCHMARKS.md "pswm agent --once"). The check
// is the one agent/src/service/compiled-copy.ts makes for the service — every source listed in
// build-info.json hashes to its recorded sha256 — written here in plain JavaScript, because
// importing that TypeScript module would start the stripper this avoids.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { launch } from '@pswm/schemas/launch';

function currentCompiledMain() {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const dist = path.join(root, 'agent', 'dist');
  try {
    const sources = Object.entries(JSON.parse(readFileSync(path.join(dist, 'build-info.json'), 'utf8')).sources ?? {});
    if (sources.length === 0) return undefined;
    for (const [file, digest] of sources) {
      if (createHash('sha256').update(readFileSync(path.join(root, file), 'utf8')).digest('hex') !== digest) return undefined;
    }
    return pathToFileURL(path.join(dist, 'agent', 'src', 'cli', 'main.js'));
  } catch {
    return undefined; // no compiled copy, or a source is gone: the sources it is
  }
}

await launch(currentCompiledMain() ?? new URL('../src/cli/main.ts', import.meta.url));
