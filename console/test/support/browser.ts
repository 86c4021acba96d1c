// Headless Chromium (the system's Debian package) driven by playwright-core, one launch per test
// file, plus the console fixture: a real pswm-server with the built console, signed-in pages and
// screenshots saved under console/test-artifacts/ (git-ignored).
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
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
