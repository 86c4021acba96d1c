import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshDatabase } from './support/database.ts';
import { startServerProcess } from './support/server-process.ts';

function httpsGet(url: string, ca: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, { ca }, (response) => {
      let body = '';
      response.on('data', (chunk) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

test('with a certificate and key the server speaks https and says so in its listening URL', async (t) => {
  const db = await freshDatabase(t);
  const dir = await mkdtemp(join(tmpdir(), 'pswm-tls-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore' });

  const server = await startServerProcess({ dataDir: join(dir, 'data'), args: ['--tls-cert', cert, '--tls-key', key], env: { DATABASE_URL: db.url } });
  t.after(() => server.stop('SIGKILL'));
  assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  const health = await httpsGet(`${server.url}/health`, await readFile(cert));
  assert.equal(health.status, 200);
  assert.deepEqual(JSON.parse(health.body), { status: 'ok' });
  assert.equal(await server.stop(), 0);
});
