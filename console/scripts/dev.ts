// `npm run dev -w console -- --server URL [--port N]`: Astro's dev server for the console alone,
// reading the API of a running pswm-server (pages fetch it with the browser's cookie; /api is
// proxied to it so login, logout and the live stream work on the dev origin).
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CONSOLE_ROOT } from './build-state.ts';

const { values } = parseArgs({ options: { server: { type: 'string' }, port: { type: 'string', default: '4321' } } });
if (!values.server || !URL.canParse(values.server)) {
  console.error('usage: npm run dev -w console -- --server http://127.0.0.1:8080 [--port 4321]');
  process.exit(2);
}
const astroBin = path.join(path.dirname(createRequire(import.meta.url).resolve('astro/package.json')), 'bin', 'astro.mjs');
const child = spawn(process.execPath, [astroBin, 'dev', '--port', values.port!], {
  cwd: CONSOLE_ROOT,
  stdio: 'inherit',
  env: { ...process.env, PSWM_SERVER_URL: values.server, ASTRO_TELEMETRY_DISABLED: '1' },
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
child.on('exit', (code) => process.exit(code ?? 1));
