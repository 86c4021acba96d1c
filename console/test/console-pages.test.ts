// Every console page in a real browser against a real pswm-server and a real agent: provenance with
// file and line, a rejected commit's file:line:col error, live heartbeats and reconciliations without
// a reload, accessibility (axe-core), light and dark themes at desktop and phone width.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { agentHome, enrolledAgent } from '../../agent/test/support/fleet.ts';
import { checkThemesAndWidths, launchBrowser, newContext, screenshot, signIn } from './support/browser.ts';
import { fileFleet, fileScope } from './support/fleet-fixture.ts';

let browser: Browser;
let fleet: Awaited<ReturnType<typeof fileFleet>>;
let viewer: string;
let lab: Awaited<ReturnType<typeof agentHome>>;
const LAB_FILE = 'organizations/fabrikam/lab-linux.yaml';

before(async () => {
  [fleet, browser] = await Promise.all([fileFleet(), launchBrowser()]);
  fileScope.after(() => browser.close());
  viewer = await fleet.token('viewer');
  lab = await enrolledAgent(fileScope, fleet, 'lab-01', 'fabrikam/lab-linux');
  const once = await lab.run(['agent', '--once']);
  assert.equal(once.code, 0, once.stderr);
}, { timeout: 180_000 });

const repo = () => path.join(fleet.dataDir, 'policy-repo');
const lineOf = (text: string, needle: string) => text.split('\n').findIndex((line) => line.includes(needle)) + 1;

async function withPage<T>(fn: (page: Page) => Promise<T>, opts: Parameters<typeof newContext>[2] = {}): Promise<T> {
  const context = await newContext(browser, fleet.url, opts);
  try {
    const page = await context.newPage();
    await signIn(page, viewer);
    return await fn(page);
  } finally {
    await context.close();
  }
}

test('an agent\'s settings name the file and line that set them, and what they overrode', { timeout: 60_000 }, async () => {
  const yaml = await readFile(path.join(repo(), LAB_FILE), 'utf8');
  await withPage(async (page) => {
    await page.goto('/agents/lab-01');
    const row = page.locator('tr[data-key="agent.interval_seconds"]');
    assert.equal(await row.locator('[data-source]').textContent(), `${LAB_FILE}:${lineOf(yaml, 'interval_seconds:')}`);
    assert.match(await row.textContent() ?? '', /settings\.yaml:\d+/, 'the global value it overrode');
  });
});

test('a new heartbeat appears on the agent page without a reload', { timeout: 90_000 }, async () => {
  await withPage(async (page) => {
    await page.goto('/agents/lab-01');
    await page.waitForSelector('body[data-connected="true"]');
    assert.equal(await page.locator('[data-heartbeat]').count(), 0, 'no heartbeat yet');
    await page.evaluate(() => { (window as unknown as { marker: number }).marker = 1; });
    // The agent service sends a heartbeat as it starts.
    const service = lab.start(['agent']);
    try {
      await page.waitForSelector('[data-heartbeat]', { timeout: 60_000 });
    } finally {
      service.child.kill('SIGTERM');
      await service.exited;
    }
    assert.equal(await page.evaluate(() => (window as unknown as { marker?: number }).marker), 1, 'the same page, not a reload');
    assert.match(await page.locator('[data-region="metrics"]').textContent() ?? '', /CPU/);
  });
});

test('an agent flagged as a duplicate identity says so on its page, with the remedy', { timeout: 60_000 }, async () => {
  // the flag as the hub writes it (agent/test/e2e-duplicate-identity.test.ts produces it with two
  // real agent processes); here only its rendering is checked, and it is removed afterwards. lab-01
  // is a real agent whose socket may already have claimed its row, so the flag is set on that row.
  const [{ id }] = await fleet.sql<{ id: string }[]>`select id from agents where name = 'lab-01'`;
  await fleet.sql`
    insert into agent_socket_claims (agent_id, generation, duplicate_since, duplicate_until, duplicate_peers)
    values (${id}, 1, now(), now() + interval '1 hour', ${fleet.sql.json([{ address: '192.0.2.7', hostname: 'lab-01-clone' }])})
    on conflict (agent_id) do update set duplicate_since = excluded.duplicate_since, duplicate_until = excluded.duplicate_until, duplicate_peers = excluded.duplicate_peers`;
  try {
    await withPage(async (page) => {
      await page.goto('/agents/lab-01');
      const flag = await page.locator('[data-duplicate-identity]').textContent() ?? '';
      assert.match(flag, /in use on more than one machine/);
      assert.match(flag, /lab-01-clone at 192\.0\.2\.7/);
      assert.match(flag, /pswm gencert --force --reenroll/);
    });
  } finally {
    await fleet.sql`update agent_socket_claims set duplicate_since = null, duplicate_until = null, duplicate_peers = '[]' where agent_id = ${id}`;
  }
});

test('a rejected commit appears without a reload, with its file:line:col error', { timeout: 90_000 }, async () => {
  await withPage(async (page) => {
    await page.goto('/reconciliations');
    await page.waitForSelector('body[data-connected="true"]');
    const newest = Number(await page.locator('tr[data-reconciliation]').first().getAttribute('data-reconciliation'));
    const file = path.join(repo(), LAB_FILE);
    const yaml = await readFile(file, 'utf8');
    await writeFile(file, yaml.replace('interval_seconds: 600', 'interval_seconds: often'));
    const git = (...args: string[]) => execFileSync('git', ['-C', repo(), ...args], { env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com' } });
    git('commit', '-qam', 'lab: check in often');
    try {
      await page.waitForFunction((id) => Number(document.querySelector('tr[data-reconciliation]')?.getAttribute('data-reconciliation')) > id, newest, { timeout: 60_000 });
    } catch (error) {
      // Says which step lost the commit: the server's reconcile (watch or poll), the event stream, or the page's refresh.
      const rows = await fleet.sql`select id, revision, trigger, status, started_at, finished_at from reconciliations order by id desc limit 3`;
      const state = await page.evaluate(() => ({ ...document.body.dataset, now: Date.now() }));
      const logs = fleet.server.logs().split('\n').filter((line) => /revision|reconcil|watch|console events/.test(line)).slice(-20);
      throw new Error(`no newer reconciliation than ${newest} on the page: ${JSON.stringify({ rows, state, logs }, null, 1)}`, { cause: error });
    }
    const row = page.locator('tr[data-reconciliation]').first();
    assert.match(await row.textContent() ?? '', /rejected/);
    assert.match(await row.locator('[data-errors]').textContent() ?? '', new RegExp(`${LAB_FILE.replaceAll('.', '\\.')}:${lineOf(yaml, 'interval_seconds:')}:\\d+`));
    await screenshot(page, 'reconciliations-rejected-light-desktop');
  });
});

const PAGES = { overview: '/', agents: '/agents', agent: '/agents/lab-01', reconciliations: '/reconciliations', queue: '/queue', audit: '/audit', sessions: '/sessions', compliance: '/compliance' };

// Each page is loaded once; the theme and width are switched on the loaded page (media emulation and
// viewport), which re-applies the CSS exactly as a fresh load in that setting would.
test('every page: no serious axe-core violation in either theme, no sideways scrolling on a phone, screenshots', { timeout: 300_000 }, async () => {
  await withPage(async (page) => {
    for (const [name, url] of Object.entries(PAGES)) {
      await page.goto(url);
      // Charts are SVG images of their own (/charts/*.svg): each must have loaded.
      await page.waitForFunction(() => [...document.images].every((image) => image.complete && image.naturalWidth > 0), undefined, { timeout: 15_000 });
      await checkThemesAndWidths(page, name);
    }
  });
});
