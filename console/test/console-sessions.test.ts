// Console sessions in the browser: a real remote console session (real pswm-server, real `pswm agent`
// process with a PTY, a scripted operator on the console WebSocket) is listed on /sessions with its
// filters, linked from the agent's timeline, and replayed on its page with the output that was typed;
// every transcript read is audited; a server started with --console-transcript-readers admin shows
// how to replay with the CLI instead. Also the audit log's CSV export against the filtered table.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { openOperator } from '../../agent/test/support/console-operator.ts';
import { enrolledAgent } from '../../agent/test/support/fleet.ts';
import { startServerProcess } from '../../server/test/support/server-process.ts';
import { checkThemesAndWidths, launchBrowser, newContext, signIn } from './support/browser.ts';
import { fileFleet, fileScope } from './support/fleet-fixture.ts';

let browser: Browser;
let fleet: Awaited<ReturnType<typeof fileFleet>>;
let viewer: string;
let admin: string;
let adminName: string;
let sessionId: string;
/** What the operator's terminal received. */
let operatorOutput: string;

const TYPED = 'echo hel""lo-from-the-console';
const PRINTED = 'hello-from-the-console';

before(async () => {
  [fleet, browser] = await Promise.all([fileFleet(), launchBrowser()]);
  fileScope.after(() => browser.close());
  [viewer, admin] = await Promise.all([fleet.token('viewer'), fleet.token('admin')]);
  [{ name: adminName }] = await fleet.sql<Array<{ name: string }>>`select name from api_tokens where role = 'admin' order by created_at desc limit 1`;

  // fabrikam/lab-linux enables the console without consent in the demo policy
  const agent = await enrolledAgent(fileScope, fleet, 'lab-console', 'fabrikam/lab-linux');
  const running = agent.start(['agent'], { HOME: agent.home });
  await running.waitFor(/"msg":"WebSocket connected"/);
  await running.waitFor(/"msg":"iteration finished"/);

  const operator = openOperator(fleet.url, admin, { agent: 'lab-console', reason: 'INC-42: look at the disk', cols: 100, rows: 30 });
  fileScope.after(() => operator.socket.terminate());
  sessionId = (await operator.waitForMessage('started', 30_000)).session;
  // Typed well after the start, so a replay at 1× cannot show it at once.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  operator.type(`${TYPED}\r`);
  await operator.waitForOutput(new RegExp(`${PRINTED}\\r\\n`), 30_000);
  operator.socket.send(JSON.stringify({ type: 'exit' }));
  assert.equal((await operator.waitForMessage('ended')).end, 'operator-exit');
  await operator.closed;
  operatorOutput = operator.output();
}, { timeout: 180_000 });

test('the sessions page lists the session, filters it by agent, operator and time, and the agent timeline links it', { timeout: 60_000 }, async () => {
  const context = await newContext(browser, fleet.url);
  try {
    const page = await context.newPage();
    await signIn(page, viewer, '/sessions');
    const rows = page.locator('tr[data-session]');
    assert.deepEqual(await rows.evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).dataset.session)), [sessionId]);
    const cells = await rows.first().locator('td').allTextContents();
    assert.equal(cells[1], 'lab-console');
    assert.equal(cells[2], `token:${adminName}`);
    assert.equal(cells[3], 'INC-42: look at the disk');
    assert.equal(cells[7], 'operator-exit');
    assert.match(cells[6], /^\d+ s$/);
    await checkThemesAndWidths(page, 'sessions-listed');

    const listed = async (search: string) => {
      await page.goto(`/sessions?${search}`);
      return page.locator('tr[data-session]').count();
    };
    assert.equal(await listed('agent=lab-console'), 1);
    assert.equal(await listed(`actor=${encodeURIComponent(adminName)}`), 1);
    assert.equal(await listed(`actor=token%3A${encodeURIComponent(adminName)}`), 1);
    assert.equal(await listed('actor=someone-else'), 0);
    assert.equal(await listed('since=2000-01-01T00%3A00&until=2100-01-01T00%3A00'), 1);
    assert.equal(await listed('since=2100-01-01T00%3A00'), 0);
    assert.equal(await listed('agent=no-such-agent'), 0);
    assert.match(await page.getByRole('alert').textContent() ?? '', /No agent named "no-such-agent"/);

    await page.goto('/agents/lab-console');
    const links = await page.locator(`[data-region="timeline"] a[href="/sessions/${sessionId}"]`).allTextContents();
    assert.ok(links.some((text) => /console\.open by token:/.test(text)), `timeline links the session: ${links.join(' | ')}`);
  } finally {
    await context.close();
  }
});

test('a session page replays the transcript with its timing; without JavaScript it shows the output; each read is audited', { timeout: 90_000 }, async () => {
  const context = await newContext(browser, fleet.url, { colorScheme: 'dark' });
  try {
    const page = await context.newPage();
    await signIn(page, viewer, `/sessions/${sessionId}`);
    const screen = page.locator('[data-replay-screen]');
    const rendered = (await screen.textContent()) ?? '';
    assert.match(rendered, new RegExp(PRINTED), 'the page shows the output before any replay');
    assert.doesNotMatch(rendered, /\x1b/, 'escape sequences are not shown');

    await page.getByRole('button', { name: 'Play' }).click();
    assert.equal(await screen.getAttribute('data-state'), 'playing');
    assert.doesNotMatch((await screen.textContent()) ?? '', new RegExp(PRINTED), 'at 1× the typed command has not come yet');
    await page.getByRole('button', { name: 'Pause' }).click();
    assert.equal(await screen.getAttribute('data-state'), 'paused');
    await new Promise((resolve) => setTimeout(resolve, 2500));
    assert.doesNotMatch((await screen.textContent()) ?? '', new RegExp(PRINTED), 'a paused replay stays where it is');
    await page.getByRole('button', { name: 'Resume' }).click();
    await page.waitForFunction(() => document.querySelector<HTMLElement>('[data-replay-screen]')?.dataset.state === 'finished', null, { timeout: 30_000 });
    assert.equal(await screen.textContent(), rendered, 'the replay ends on what the server rendered');
    assert.match(await page.locator('[data-replay-clock]').textContent() ?? '', /^(\d+\.\d) s of \1 s$/);

    // Plays again at 16×.
    await page.getByLabel('Speed').selectOption('16');
    await page.getByRole('button', { name: 'Play' }).click();
    await page.waitForFunction(() => document.querySelector<HTMLElement>('[data-replay-screen]')?.dataset.state === 'finished', null, { timeout: 15_000 });
    assert.equal(await screen.textContent(), rendered);
    await checkThemesAndWidths(page, 'session-replayed');

    const replays = await fleet.sql<Array<{ actor: string; target: string; details: { agent: string; operator: string } }>>`
      select actor, target, details from audit_log where action = 'console.replay' order by id`;
    assert.equal(replays.length, 1, 'one page view is one read of the transcript; replaying in the browser reads nothing more');
    assert.equal(replays[0].target, sessionId);
    assert.match(replays[0].actor, /^token:console-viewer-/);
    assert.equal(replays[0].details.agent, 'lab-console');
    assert.equal(replays[0].details.operator, `token:${adminName}`);
  } finally {
    await context.close();
  }

  const noScript = await browser.newContext({ baseURL: fleet.url, javaScriptEnabled: false });
  try {
    const page = await noScript.newPage();
    await signIn(page, viewer, `/sessions/${sessionId}`);
    assert.match(await page.locator('[data-replay-screen]').textContent() ?? '', new RegExp(`${PRINTED}`));
    assert.equal(await page.locator('[data-replay-controls]').isVisible(), false, 'no player without JavaScript');
    assert.ok(operatorOutput.includes(PRINTED));
  } finally {
    await noScript.close();
  }
});

test('with --console-transcript-readers admin the page says how to replay with the CLI, and the API refuses viewers', { timeout: 90_000 }, async () => {
  // A second instance on the same database and data folder, with transcripts for admins only.
  const restricted = await startServerProcess({ dataDir: fleet.dataDir, env: { DATABASE_URL: fleet.databaseUrl }, args: ['--console-transcript-readers', 'admin'] });
  const context = await newContext(browser, restricted.url);
  try {
    const page = await context.newPage();
    await signIn(page, viewer, `/sessions/${sessionId}`);
    assert.equal(await page.locator('[data-replay-screen]').count(), 0);
    assert.match(await page.locator('[data-transcript-admin-only]').textContent() ?? '', new RegExp(`pswm-server console replay ${sessionId}`));
    assert.equal((await page.request.get(`/api/v1/console/sessions/${sessionId}/transcript`)).status(), 401, 'a console session never reads as an admin');
    const asViewer = await fetch(new URL(`/api/v1/console/sessions/${sessionId}/transcript`, restricted.url), { headers: { authorization: `Bearer ${viewer}` } });
    assert.equal(asViewer.status, 403);
    const asAdmin = await fetch(new URL(`/api/v1/console/sessions/${sessionId}/transcript`, restricted.url), { headers: { authorization: `Bearer ${admin}` } });
    assert.equal(asAdmin.status, 200);
    assert.match(await asAdmin.text(), /^\{"version":2,/);
    const list = await fetch(new URL('/api/v1/console/sessions', restricted.url), { headers: { authorization: `Bearer ${viewer}` } });
    assert.equal((await list.json()).total, 1, 'the list stays viewer-readable');
  } finally {
    await context.close();
    await restricted.stop();
  }
});

test('the audit log\'s CSV export equals the filtered table', { timeout: 60_000 }, async () => {
  const context = await newContext(browser, fleet.url);
  try {
    const page = await context.newPage();
    await signIn(page, viewer, '/audit?action=console.*');
    const table = await page.locator('table[data-audit] tbody tr').evaluateAll((rows) => rows.map((row) => [...row.querySelectorAll('td')].map((td) => td.textContent!.trim())));
    assert.ok(table.length >= 3, `console.open, console.close and the replays: ${table.length}`);
    assert.ok(table.every(([, , action]) => action.startsWith('console.')));
    const href = await page.getByRole('link', { name: 'Export CSV' }).getAttribute('href');
    assert.equal(href, '/audit.csv?action=console.*', 'the export carries the filter');
    const csv = await (await page.request.get(href!)).text();
    const lines = parseCsv(csv);
    assert.deepEqual(lines[0], ['id', 'at', 'actor', 'action', 'target', 'outcome', 'details']);
    assert.deepEqual(lines.slice(1).map(([, at, actor, action, target, outcome, details]) => [isoSeconds(at), actor, action, target, outcome, details]),
      table.map(([at, actor, action, target, outcome, details]) => [at, actor, action, target, outcome, details]));
    const [{ count }] = await fleet.sql<Array<{ count: number }>>`select count(*)::int as count from audit_log where action like 'console.%'`;
    assert.equal(lines.length - 1, count, 'every matching entry, no other');
  } finally {
    await context.close();
  }
});

/** RFC 4180 rows: quoted fields may hold commas, quotes ("") and line breaks. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (field += '"', i++);
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') (row.push(field), (field = ''));
    else if (ch === '\r' && text[i + 1] === '\n') (row.push(field), rows.push(row), (row = []), (field = ''), i++);
    else field += ch;
  }
  if (field || row.length) (row.push(field), rows.push(row));
  return rows;
}

/** The page's time format (isoTime: seconds, UTC) of an ISO time. */
function isoSeconds(iso: string): string {
  return new Date(iso).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}
