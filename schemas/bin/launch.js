// Bins are plain JavaScript so they start on any Node; the code itself is TypeScript run by
// Node 24's type stripping. On an older system Node (a bin called directly rather than through
// npm/npx), re-run the entry point with the Node 24 binary installed by the `node` devDependency.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const MIN_MAJOR = 24;

export async function launch(entryUrl) {
  const major = Number(process.versions.node.split('.')[0]);
  if (major >= MIN_MAJOR) {
    await import(entryUrl.href);
    return;
  }
  let node24;
  try {
    node24 = createRequire(import.meta.url).resolve('node/bin/node');
  } catch {
    console.error(`pswm needs Node.js ${MIN_MAJOR} or newer (this is ${process.version}); run it through npx or install Node ${MIN_MAJOR}.`);
    process.exit(1);
  }
  const child = spawn(node24, [fileURLToPath(entryUrl), ...process.argv.slice(2)], { stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => (signal ? process.kill(process.pid, signal) : process.exit(code ?? 1)));
}
