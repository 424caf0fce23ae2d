import sparticuzChromium from '@sparticuz/chromium';
import { accessSync, constants, mkdirSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Generous, so a slow machine does not fail a test, yet a broken page cannot hang the run. */
export const WAIT_MS = 20_000;

/** A Chromium to drive and the environment it needs; playwright-core never downloads a browser. */
export interface ChromiumBinary {
  executablePath: string;
  /** Extra environment for the browser process. */
  env: Record<string, string>;
}

/**
 * The browser the tests drive: `CHROMIUM_PATH` if set, else a `chromium` on `PATH` (e.g. Debian's), else the
 * headless Chromium inside the `@sparticuz/chromium` dev dependency, unpacked into the temp folder on first use,
 * so that `npm ci && npm test` needs no system package.
 */
export async function findChromium(env: NodeJS.ProcessEnv = process.env): Promise<ChromiumBinary> {
  const configured = env['CHROMIUM_PATH'];
  if (configured) return { executablePath: configured, env: {} };
  const onPath = (env['PATH'] ?? '')
    .split(delimiter)
    .filter(Boolean)
    .map((dir) => join(dir, 'chromium'))
    .find(isExecutable);
  if (onPath) return { executablePath: onPath, env: {} };
  const executablePath = await sparticuzChromium.executablePath();
  // Its fonts are unpacked next to it; a machine without fonts would otherwise screenshot empty boxes.
  return { executablePath, env: env['FONTCONFIG_PATH'] ? {} : { FONTCONFIG_PATH: join(dirname(executablePath), 'fonts') } };
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Headless, with nothing that calls home. @sparticuz/chromium's own `chromium.args` are for AWS Lambda and not taken:
 * `--single-process`/`--no-zygote` make a desktop run fragile, and `--disable-web-security` would switch off the CORS
 * checks the demo page's tests rely on.
 */
export async function launchChromium(): Promise<Browser> {
  const binary = await findChromium();
  return chromium.launch({
    executablePath: binary.executablePath,
    env: { ...process.env, ...binary.env },
    timeout: WAIT_MS,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export interface PageOptions {
  /** The window's size; a laptop's by default. */
  viewport?: { width: number; height: number };
  /** The browser's language, which formats dates and times; US English by default. */
  locale?: string;
}

/** A fresh browser profile (own cookies and sessionStorage) with default timeouts that fail instead of hanging. */
export async function newPage(browser: Browser, { viewport = { width: 1100, height: 800 }, locale = 'en-US' }: PageOptions = {}): Promise<Page> {
  const context = await browser.newContext({ viewport, locale });
  context.setDefaultTimeout(WAIT_MS);
  return context.newPage();
}

/** The development SSO's login page: any user name and password. */
export async function logInAtSso(page: Page, user: string): Promise<void> {
  await page.locator('input[name="login"]').fill(user);
  await page.locator('input[name="password"]').fill('any');
  await page.locator('button[type="submit"]').click();
}

/** Saves a screenshot under `test-artifacts/` (gitignored) for a human to look at: the whole page, or what is in view. */
export async function screenshot(page: Page, name: string, { fullPage = true } = {}): Promise<void> {
  const folder = join(process.cwd(), 'test-artifacts');
  mkdirSync(folder, { recursive: true });
  await page.screenshot({ path: join(folder, `${name}.png`), fullPage });
}
