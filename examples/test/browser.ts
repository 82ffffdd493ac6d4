// Debian's chromium, headless, driven by puppeteer-core (no browser download): a page that records
// every console error and uncaught exception, axe-core injected from node_modules, screenshots
// under .artifacts/console/.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
export const ARTIFACTS = join(import.meta.dirname, '..', '..', '.artifacts', 'console');
export const TABLET = {
  landscape: { width: 1024, height: 768 },
  portrait: { width: 768, height: 1024 },
};

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(`no chromium at ${CHROMIUM}: \`make system-deps\` installs Debian's chromium`);
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    // root in a container has no user namespace for chromium's sandbox
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'],
  });
}

export interface WatchedPage {
  page: Page;
  /** Console errors, uncaught exceptions and failed requests, as they happened. */
  errors: string[];
}

export async function openPage(
  browser: Browser,
  url: string,
  viewport = TABLET.landscape,
): Promise<WatchedPage> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`exception: ${(e as Error).message}`));
  page.on('requestfailed', (r) => {
    // an EventSource closed by the page's own navigation/close is not an error of the page
    if (!r.url().endsWith('/api/events')) errors.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
  });
  await page.setViewport(viewport);
  await page.goto(url, { waitUntil: 'domcontentloaded' });
  return { page, errors };
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

const axeSource = () => readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core's WCAG 2.x A/AA rules on the page as it is now. */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  // through the DevTools protocol: the page's CSP (rightly) refuses an injected inline script
  await page.evaluate(axeSource());
  return page.evaluate(async () => {
    // biome-ignore lint/suspicious/noExplicitAny: the page's globals (axe injected, DOM) are not in our lib
    const page = globalThis as any;
    const r = await page.axe.run(page.document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
    });
    return r.violations.map((v: AxeViolation) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target })),
    }));
  });
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
