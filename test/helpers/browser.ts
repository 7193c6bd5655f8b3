/**
 * A real headless Chromium for the page's tests, driven by playwright-core. The browser comes with
 * `npm ci`: @sparticuz/chromium ships it inside its npm package (brotli-compressed, unpacked into the
 * temp directory on first use), so nothing downloads a browser. CHROMIUM_PATH names another one, such
 * as Debian's /usr/bin/chromium.
 */
import { chromium, type Browser } from 'playwright-core';

/**
 * Flags for a sandbox-less, offline machine. Not @sparticuz/chromium's own list, which is tuned for
 * Lambda and includes --disable-web-security: the page's CSP and same-origin rules must stay in force.
 */
const ARGS = [
  '--no-sandbox',
  '--no-zygote',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-extensions',
];

async function executablePath(): Promise<string> {
  const named = process.env.CHROMIUM_PATH;
  if (named) return named;
  // The package is an ES module with a CommonJS build; its default export is the class.
  const mod = (await import('@sparticuz/chromium')) as unknown as {
    default?: { executablePath(): Promise<string> };
    executablePath?(): Promise<string>;
  };
  const packaged = mod.default ?? (mod as { executablePath(): Promise<string> });
  return packaged.executablePath();
}

export async function launchChromium(): Promise<Browser> {
  const path = await executablePath();
  try {
    return await chromium.launch({ executablePath: path, args: ARGS, headless: true, timeout: 60_000 });
  } catch (err) {
    throw new Error(
      `Chromium at ${path} did not start (set CHROMIUM_PATH to another, such as Debian's /usr/bin/chromium): ${(err as Error).message}`,
    );
  }
}
