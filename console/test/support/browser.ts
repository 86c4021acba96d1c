// Headless Chromium (the system's Debian package) driven by playwright-core, one launch per test
// file, plus the console fixture: a real pswm-server with the built console, signed-in pages and
// screenshots saved under console/test-artifacts/ (git-ignored).
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import axe from 'axe-core';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { buildConsole } from '../../scripts/build.ts';

export const CHROMIUM = process.env.PSWM_CHROMIUM ?? '/usr/bin/chromium';
export const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));

export const VIEWPORTS = {
  desktop: { width: 1280, height: 900 },
  phone: { width: 390, height: 844 },
} as const;

export async function launchBrowser(): Promise<Browser> {
  // A stale build would test yesterday's pages.
  buildConsole({ quiet: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 30_000,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

export interface ContextOptions {
  colorScheme?: 'light' | 'dark';
  viewport?: keyof typeof VIEWPORTS;
}

export async function newContext(browser: Browser, baseURL: string, opts: ContextOptions = {}): Promise<BrowserContext> {
  const context = await browser.newContext({
    baseURL,
    colorScheme: opts.colorScheme ?? 'light',
    viewport: VIEWPORTS[opts.viewport ?? 'desktop'],
  });
  context.setDefaultTimeout(15_000);
  return context;
}

/** Signs in through the login form; resolves on the page the login lands on. */
export async function signIn(page: Page, token: string, next = '/'): Promise<void> {
  await page.goto(`/login?next=${encodeURIComponent(next)}`);
  await page.getByLabel('API token', { exact: true }).fill(token);
  await Promise.all([page.waitForURL((url) => url.pathname !== '/login'), page.getByRole('button', { name: 'Sign in' }).click()]);
}

/** Saves a full-page screenshot as test-artifacts/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/**
 * The loaded page in light and dark, at desktop and phone width (media emulation and viewport re-apply
 * the CSS as a fresh load would): no serious axe-core violation, no sideways scrolling on a phone, and
 * a screenshot of each as <name>-<theme>-<width>.png.
 */
export async function checkThemesAndWidths(page: Page, name: string): Promise<void> {
  await page.evaluate(axe.source);
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    await page.setViewportSize(VIEWPORTS.desktop);
    const result = await page.evaluate(() => (window as unknown as { axe: typeof axe }).axe.run(document, { resultTypes: ['violations'] }));
    const serious = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    assert.deepEqual(serious.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`), [], `${name} (${colorScheme})`);
    await screenshot(page, `${name}-${colorScheme}-desktop`);
    await page.setViewportSize(VIEWPORTS.phone);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `${name} scrolls sideways by ${overflow}px at phone width`);
    await screenshot(page, `${name}-${colorScheme}-phone`);
  }
}
