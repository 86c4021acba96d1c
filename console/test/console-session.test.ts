// The console in a real browser against a real pswm-server: sign in and out, wrong tokens, what a
// session may reach, read-only pages, the overview's counts and the agents list with its CSV export.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { enrolledAgent } from '../../agent/test/support/fleet.ts';
import { launchBrowser, newContext, screenshot, signIn } from './support/browser.ts';
import { fileFleet, fileScope } from './support/fleet-fixture.ts';

let browser: Browser;
let fleet: Awaited<ReturnType<typeof fileFleet>>;
let viewer: string;
let admin: string;

before(async () => {
  [fleet, browser] = await Promise.all([fileFleet(), launchBrowser()]);
  fileScope.after(() => browser.close());
  [viewer, admin] = await Promise.all([fleet.token('viewer'), fleet.token('admin')]);
  // One agent that converged (a real agent process), one created but never enrolled.
  const lab = await enrolledAgent(fileScope, fleet, 'lab-01', 'fabrikam/lab-linux');
  const once = await lab.run(['agent', '--once']);
  assert.equal(once.code, 0, once.stderr);
  const created = await fleet.admin(['agent', 'create', 'paris-kiosk-01', '--org', 'contoso', '--location', 'paris']);
  assert.equal(created.code, 0, created.stderr);
}, { timeout: 180_000 });

test('a wrong token is refused; a viewer token signs in, and logging out ends the session', { timeout: 60_000 }, async () => {
  const context = await newContext(browser, fleet.url);
  try {
    const page = await context.newPage();
    const first = await page.goto('/agents?state=converged');
    assert.equal(new URL(page.url()).pathname, '/login', 'signed out, a page sends to the login');
    assert.match(first!.headers()['content-security-policy'], /script-src 'self'/);

    await page.getByLabel('API token', { exact: true }).fill('pswm_not-a-real-token-000000000000000000000000000');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/error=invalid/);
    assert.match(await page.getByRole('alert').textContent() ?? '', /unknown or revoked/);
    await screenshot(page, 'login-light-desktop');

    await page.getByLabel('API token', { exact: true }).fill(viewer);
    await Promise.all([page.waitForURL((url) => url.pathname === '/agents'), page.getByRole('button', { name: 'Sign in' }).click()]);
    assert.equal(new URL(page.url()).search, '?state=converged', 'back to the page asked for');
    const cookie = (await context.cookies()).find((c) => c.name === 'pswm_session');
    assert.ok(cookie, 'a session cookie');
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Strict');
    assert.ok(cookie.expires > Date.now() / 1000, 'it expires');

    await Promise.all([page.waitForURL(/\/login$/), page.getByRole('button', { name: 'Log out' }).click()]);
    const whoami = await page.request.get('/api/v1/whoami');
    assert.equal(whoami.status(), 401, 'the session is gone');
    const [audit] = await fleet.sql`select count(*) filter (where action = 'web.login' and outcome = 'success')::int as ok,
      count(*) filter (where action = 'web.login' and outcome = 'failure')::int as failed,
      count(*) filter (where action = 'web.logout')::int as out from audit_log`;
    assert.deepEqual({ ...audit }, { ok: 1, failed: 1, out: 1 }, 'logins and logouts are audited');
  } finally {
    await context.close();
  }
});

test('an admin token\'s session reaches no admin endpoint, and console pages refuse anything but GET', { timeout: 60_000 }, async () => {
  const context = await newContext(browser, fleet.url);
  try {
    const page = await context.newPage();
    await signIn(page, admin);
    assert.equal((await page.request.get('/api/v1/whoami').then((r) => r.json())).role, 'viewer', 'a session reads as a viewer');
    assert.equal((await page.request.get('/api/v1/agents')).status(), 200, 'viewer reads work with the cookie');
    const adminRequests = [['GET', '/api/v1/tokens'], ['GET', '/api/v1/enroll/queue'], ['POST', '/api/v1/tokens', { role: 'admin' }], ['POST', '/api/v1/reconcile'], ['POST', '/api/v1/signal', { all: true }]] as const;
    for (const [method, path, data] of adminRequests) {
      const response = await page.request.fetch(path, { method, data });
      assert.equal(response.status(), 401, `${method} ${path} with the session cookie: ${await response.text()}`);
    }
    for (const path of ['/', '/agents', '/agents.csv', '/login']) {
      const response = await page.request.post(path, { form: { token: admin } });
      assert.equal(response.status(), 405, `POST ${path}`);
      assert.equal(response.headers().allow, 'GET, HEAD');
    }
  } finally {
    await context.close();
  }
});

test('the overview counts equal the database\'s, each links to its filtered list, and the CSV equals the table', { timeout: 60_000 }, async () => {
  const context = await newContext(browser, fleet.url);
  try {
    const page = await context.newPage();
    await signIn(page, viewer);
    const shown = Object.fromEntries(await Promise.all(['converged', 'drifted', 'failed', 'offline', 'never_reported', 'pending_approval'].map(async (state) =>
      [state, Number(await page.locator(`[data-count="${state}"]`).textContent())])));
    const [db] = await fleet.sql<Array<Record<string, number>>>`
      select count(*) filter (where a.status = 'pending' or not exists (select 1 from reports r where r.agent_id = a.id and not r.dry_run))::int as never_reported,
             count(*) filter (where a.status = 'active' and exists (select 1 from reports r where r.agent_id = a.id and not r.dry_run))::int as reported,
             (select count(*) from enrollment_requests where status = 'pending')::int as pending_approval
      from agents a where a.status <> 'revoked'`;
    assert.equal(shown.never_reported, db.never_reported);
    assert.equal(shown.converged + shown.drifted + shown.failed + shown.offline, db.reported);
    assert.equal(shown.pending_approval, db.pending_approval);
    assert.deepEqual(shown, { converged: 1, drifted: 0, failed: 0, offline: 0, never_reported: 1, pending_approval: 0 });
    await screenshot(page, 'overview-light-desktop');

    await Promise.all([page.waitForURL(/\/agents\?state=never_reported$/), page.locator('a[data-state="never_reported"]').click()]);
    const names = await page.locator('tr[data-agent]').evaluateAll((rows) => rows.map((row) => (row as HTMLElement).dataset.agent));
    assert.deepEqual(names, ['paris-kiosk-01']);

    await page.goto('/agents?organization=fabrikam');
    const table = await page.locator('tr[data-agent]').evaluateAll((rows) => rows.map((row) => [...row.querySelectorAll('td')].map((td) => td.textContent!.trim())));
    const csv = await (await page.request.get('/agents.csv?organization=fabrikam')).text();
    const lines = csv.trim().split('\r\n').map((line) => line.split(','));
    assert.equal(lines[0][0], 'name');
    assert.deepEqual(lines.slice(1).map((cells) => [cells[0], cells[2] + '/' + cells[3]]), table.map((cells) => [cells[0], cells[2]]));
    assert.deepEqual(table.map((cells) => cells[0]), ['lab-01']);
    await screenshot(page, 'agents-light-desktop');
  } finally {
    await context.close();
  }
});
