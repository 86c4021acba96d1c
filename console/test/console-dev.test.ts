// `npm run dev -w console -- --server URL`: the console alone (Astro's dev server) against a real
// pswm-server. The test runs what the npm script runs (`node scripts/dev.ts` in console/) on a free
// port, signs in through the dev origin (login is proxied to the server), reads a page whose data
// comes from the server's API, and kills the whole process group afterwards, also on failure.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { freePort } from '../../server/test/support/free-port.ts';
import { fileFleet } from './support/fleet-fixture.ts';

const CONSOLE_ROOT = fileURLToPath(new URL('..', import.meta.url));
const READY_TIMEOUT_MS = 120_000;

/** Starts the dev server in its own process group; resolves once it answers HTTP. */
async function startDev(serverUrl: string, port: number) {
  const child = spawn(process.execPath, ['scripts/dev.ts', '--server', serverUrl, '--port', String(port)], {
    cwd: CONSOLE_ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: '0' },
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const kill = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      return; // the group is gone already
    }
    const backstop = setTimeout(() => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ } }, 10_000);
    await exited;
    clearTimeout(backstop);
  };
  // A crash of the test process must not leave the dev server behind either.
  const onExit = () => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ } };
  process.once('exit', onExit);
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the dev server exited with ${child.exitCode}:\n${output}`);
    if (Date.now() > deadline) {
      await kill();
      throw new Error(`the dev server did not answer within ${READY_TIMEOUT_MS / 1000} s:\n${output}`);
    }
    const answered = await fetch(`${base}/login`, { redirect: 'manual' }).then((r) => r.status, () => 0);
    if (answered === 200) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return { base, output: () => output, async stop() { await kill(); process.off('exit', onExit); } };
}

test('npm run dev -w console -- --server URL serves the pages from that server\'s API, login through its proxy', { timeout: 300_000 }, async () => {
  const fleet = await fileFleet();
  const viewer = await fleet.token('viewer');
  const created = await fleet.admin(['agent', 'create', 'dev-mode-agent', '--org', 'contoso', '--location', 'paris']);
  assert.equal(created.code, 0, created.stderr);

  const usage = spawn(process.execPath, ['scripts/dev.ts'], { cwd: CONSOLE_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let usageText = '';
  usage.stderr.on('data', (chunk: Buffer) => (usageText += chunk));
  assert.equal(await new Promise((resolve) => usage.once('exit', resolve)), 2, 'without --server: usage, exit 2');
  assert.match(usageText, /--server http:\/\/127\.0\.0\.1:8080/);

  const dev = await startDev(fleet.url, await freePort());
  try {
    const signedOut = await fetch(`${dev.base}/agents`, { redirect: 'manual' });
    assert.equal(signedOut.status, 303);
    assert.equal(signedOut.headers.get('location'), '/login?next=%2Fagents');

    // The form post goes through the dev server's /api proxy to the real server.
    const login = await fetch(`${dev.base}/api/v1/login`, {
      method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: viewer, next: '/agents?organization=contoso' }),
    });
    assert.equal(login.status, 303, await login.clone().text());
    assert.equal(login.headers.get('location'), '/agents?organization=contoso');
    const cookie = /pswm_session=[^;]+/.exec(login.headers.get('set-cookie') ?? '')?.[0];
    assert.ok(cookie, 'the server\'s session cookie reaches the dev origin');

    const agents = await fetch(`${dev.base}/agents?organization=contoso`, { headers: { cookie } });
    assert.equal(agents.status, 200);
    const html = await agents.text();
    assert.match(html, /data-agent="dev-mode-agent"/, 'the list is the server\'s');
    const [{ count }] = await fleet.sql<Array<{ count: number }>>`select count(*)::int as count from audit_log where action = 'web.login' and outcome = 'success'`;
    assert.equal(count, 1, 'the login happened on the server');
  } finally {
    await dev.stop();
  }
});
