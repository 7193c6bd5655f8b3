/**
 * The browser page in a real headless Chromium, against a real `modelship serve` of the example models:
 * it loads with no console error and no CSP violation, takes the key from the address bar or the form,
 * lists the models, sends the golden sample, and a digit drawn stroke by stroke or uploaded as a PNG gets
 * the class the model gives over plain HTTP. Bad input gets a message; HTML in a package is shown as text.
 * Screenshots at desktop and phone width go to SCREENSHOT_DIR (default: a temp directory).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { parseServerConfig } from '../../lib/local/config';
import { startServer, type RunningServer } from '../../lib/local/serve';
import { launchChromium } from '../helpers/browser';
import { makeTinyMlpPackage, tempDir } from '../helpers/fixtures';
import { errorMessage, send } from '../helpers/http';
import { grayPng } from '../helpers/png';

// A real browser on a 2-core machine shared with the suite's training tests: allow for a loaded machine.
jest.setTimeout(180_000);

const ROOT = join(__dirname, '..', '..');
const KEY = 'browser-test-key-0123456789abcdef';
const HOSTILE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">';
const SCREENSHOTS = process.env.SCREENSHOT_DIR ?? join(tmpdir(), 'modelship-screenshots');

interface EvalSet {
  readonly labels: number[];
  readonly pixels: string;
}
const evalSet = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'mnist-eval.json'), 'utf8')) as EvalSet;
const evalPixels = Buffer.from(evalSet.pixels, 'base64');
const digit = (i: number) => evalPixels.subarray(i * 784, (i + 1) * 784);

let browser: Browser;
let running: RunningServer;
let context: BrowserContext;
/** What the page reported: console errors, uncaught exceptions, CSP and Trusted Types violations. */
let problems: string[];

async function serve(dirs: string[]): Promise<RunningServer> {
  return startServer({
    dirs,
    port: 0,
    config: parseServerConfig({ plans: { p: { rateLimit: 500, burstLimit: 500 } }, apiKeys: [{ name: 'browser', value: KEY, plan: 'p' }] }),
  });
}

async function newPage(width = 1280, height = 860): Promise<Page> {
  const page = await context.newPage();
  await page.setViewportSize({ width, height });
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`exception: ${e.message}`));
  return page;
}

/** The page, connected with the key typed into its form. */
async function connected(url = running.pageUrl, width?: number): Promise<Page> {
  const page = await newPage(width);
  await page.goto(url);
  await page.fill('#credential', KEY);
  await page.click('button[type=submit]');
  await page.waitForSelector('#send');
  return page;
}

/** The little of the page's globals a predicate reads (the tests compile without the DOM's types). */
interface PageGlobals {
  readonly document: { getElementById(id: string): { readonly dataset: Record<string, string | undefined> } | null };
}

/** How many answers the page has shown for the model in view. */
async function answerCount(page: Page): Promise<number> {
  return Number(await page.getAttribute('#answer', 'data-answers'));
}

/**
 * Runs `action`, then waits until the page shows an answer newer than the ones before it and has no
 * request out or queued; returns the status line and the top class.
 */
async function answered(page: Page, action: () => Promise<void>): Promise<{ status: string; top: string | null }> {
  const before = await answerCount(page);
  await action();
  // A function, not a string: the page's CSP forbids eval, and Playwright evaluates a string predicate with it.
  await page.waitForFunction((n: number) => {
    const el = (globalThis as unknown as PageGlobals).document.getElementById('answer');
    return el !== null && Number(el.dataset.answers) > n && el.dataset.state === 'idle';
  }, before);
  // No waiting for a top class: an error answer has none.
  const top = await page.$('#top-class');
  return { status: (await page.textContent('#answer-status')) ?? '', top: top && (await top.textContent()) };
}

async function classOverHttp(model: string, pixels: Uint8Array, shape: number[]): Promise<string> {
  const body = JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape, data: Array.from(pixels, (v) => v / 255) }] });
  const answer = await send(`${running.url}/v2/models/${model}/infer`, {
    headers: { 'x-api-key': KEY, 'content-type': 'application/json' },
    body,
  });
  const scores = (answer.json as { outputs: Array<{ data: number[] }> }).outputs[0].data;
  return String(scores.indexOf(Math.max(...scores)));
}

async function showModel(page: Page, name: string): Promise<void> {
  await page.click(`button[data-model="${name}"]`);
  await page.waitForSelector(`#model-title:text-is("${name}")`);
}

beforeAll(async () => {
  browser = await launchChromium();
  running = await serve([join(ROOT, 'models', 'mnist-mlp'), join(ROOT, 'models', 'mnist-cnn')]);
});
afterAll(async () => {
  await browser?.close();
  await running?.close();
});
beforeEach(async () => {
  problems = [];
  context = await browser.newContext();
  // Injected by the test, not by the page: the page's CSP does not apply to it.
  await context.addInitScript(
    "document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`))",
  );
});
afterEach(async () => {
  await context.close();
  expect(problems).toEqual([]);
});

test('the key from the address bar goes to sessionStorage and out of the URL; the models are listed', async () => {
  const page = await newPage();
  await page.goto(`${running.pageUrl}#key=${KEY}`);
  await page.waitForSelector('#send');
  expect(page.url()).toBe(running.pageUrl);
  expect(await page.evaluate("sessionStorage.getItem('modelship.credential')")).toContain(KEY);
  expect(await page.evaluate('localStorage.length')).toBe(0);
  const listed = await Promise.all((await page.locator('.model-button').all()).map((b) => b.getAttribute('data-model')));
  expect(listed.sort()).toEqual(['mnist-cnn', 'mnist-mlp']);
  // A reload in the same tab stays connected, from sessionStorage.
  await page.reload();
  await page.waitForSelector('#send');
});

test('the golden sample, sent as pre-filled, shows the class the recorded answer has', async () => {
  const page = await connected();
  await showModel(page, 'mnist-mlp');
  const golden = JSON.parse(readFileSync(join(ROOT, 'models', 'mnist-mlp', 'samples', '0.response.json'), 'utf8')) as {
    outputs: Array<{ data: number[] }>;
  };
  const first = golden.outputs[0].data.slice(0, 10);
  const expected = String(first.indexOf(Math.max(...first)));
  expect(JSON.parse(await page.inputValue('#request'))).toEqual(
    JSON.parse(readFileSync(join(ROOT, 'models', 'mnist-mlp', 'samples', '0.request.json'), 'utf8')),
  );
  const { status, top } = await answered(page, () => page.click('#send'));
  expect(status).toMatch(/^200 OK \d+\.\d ms$/);
  expect(top).toBe(expected);
});

test('a digit from the eval set drawn stroke by stroke gets the class the model gives over HTTP', async () => {
  const page = await connected();
  await showModel(page, 'mnist-mlp');
  // The first eval digit of each of three classes the model is sure of over HTTP.
  const picks = [0, 500, 1000];
  for (const i of picks) {
    const pixels = digit(i);
    const expected = await classOverHttp('mnist-mlp', pixels, [1, 784]);
    await page.click('#pad-clear');
    const box = (await page.locator('#pad').boundingBox())!;
    const cell = box.width / 28;
    const { status, top } = await answered(page, () => drawDigit(page, pixels, box, cell));
    expect(status).toMatch(/^200 OK/);
    expect(top).toBe(expected);
  }
});

/** One stroke per run of ink in each row, through the middle of its pixels. */
async function drawDigit(page: Page, pixels: Uint8Array, box: { x: number; y: number }, cell: number): Promise<void> {
  for (let y = 0; y < 28; y++) {
    let x = 0;
    while (x < 28) {
      if (pixels[y * 28 + x] < 128) {
        x++;
        continue;
      }
      const start = x;
      while (x < 28 && pixels[y * 28 + x] >= 128) x++;
      const cy = box.y + (y + 0.5) * cell;
      await page.mouse.move(box.x + (start + 0.5) * cell, cy);
      await page.mouse.down();
      await page.mouse.move(box.x + (x - 0.5) * cell, cy, { steps: 2 });
      await page.mouse.up();
    }
  }
}

test('a digit uploaded as a PNG gets the class the model gives over HTTP, for both models', async () => {
  const page = await connected();
  for (const [model, shape] of [
    ['mnist-mlp', [1, 784]],
    ['mnist-cnn', [1, 28, 28, 1]],
  ] as const) {
    await showModel(page, model);
    for (const i of [3, 700, 1400]) {
      const expected = await classOverHttp(model, digit(i), [...shape]);
      const { top } = await answered(page, () =>
        page.setInputFiles('#image-file', { name: `digit-${i}.png`, mimeType: 'image/png', buffer: grayPng(digit(i), 28, 28) }),
      );
      expect(top).toBe(expected);
    }
    const request = JSON.parse(await page.inputValue('#request')) as { inputs: Array<{ shape: number[] }> };
    expect(request.inputs[0].shape).toEqual(shape);
  }
});

test('a wrong key shows the server’s own 401 message, and is not kept', async () => {
  const wrong = 'wrong-key-0123456789abcdefghij';
  const expected = errorMessage(
    await send(`${running.url}/v2/repository/index`, { method: 'POST', headers: { 'x-api-key': wrong }, body: '{}' }),
  );
  const page = await newPage();
  await page.goto(running.pageUrl);
  await page.fill('#credential', wrong);
  await page.click('button[type=submit]');
  await page.waitForSelector('#connect-error:has-text("401")');
  expect(await page.textContent('#connect-error')).toBe(`401 Unauthorized: ${expected!}`);
  expect(await page.evaluate("sessionStorage.getItem('modelship.credential')")).toBeNull();
  // The refused answer is the browser's console error for a failed fetch; it is the point of this test.
  problems = problems.filter((p) => !/status of 401/.test(p));
});

test('bad input gets a clear message: invalid JSON, a non-image file, an oversized image', async () => {
  const page = await connected();
  await showModel(page, 'mnist-mlp');
  await page.fill('#request', '{"inputs": [');
  await page.click('#send');
  expect(await page.textContent('#request-error')).toMatch(/^The request is not valid JSON, so it was not sent: /);
  expect(await page.textContent('#answer-status')).toBe('No request sent yet.');
  expect(await page.getAttribute('#request', 'aria-invalid')).toBe('true');

  await page.setInputFiles('#image-file', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a picture') });
  await page.waitForSelector('#pad-error:has-text("notes.txt")');
  expect(await page.textContent('#pad-error')).toBe('notes.txt is not an image this browser can read (PNG, JPEG, GIF, WebP or BMP)');

  const huge = Buffer.concat([grayPng(digit(0), 28, 28), Buffer.alloc(10 * 1024 * 1024)]);
  await page.setInputFiles('#image-file', { name: 'huge.png', mimeType: 'image/png', buffer: huge });
  await page.waitForSelector('#pad-error:has-text("huge.png")');
  expect(await page.textContent('#pad-error')).toBe('huge.png is 10.0 MB; the page takes images up to 10.0 MB');
  expect(await page.textContent('#answer-status')).toBe('No request sent yet.');
});

test("the server's error body is shown as text, never as HTML", async () => {
  const page = await connected();
  await showModel(page, 'mnist-mlp');
  const request = JSON.stringify({ inputs: [{ name: HOSTILE, datatype: 'FP32', shape: [1, 784], data: new Array(784).fill(0) }] });
  const expected = errorMessage(await send(`${running.url}/v2/models/mnist-mlp/infer`, { headers: { 'x-api-key': KEY }, body: request }));
  expect(expected).toContain('<script>');
  await page.fill('#request', request);
  const { status } = await answered(page, () => page.click('#send'));
  expect(status).toMatch(/^400 Bad Request/);
  expect(await page.textContent('#answer-error')).toBe(expected);
  expect(await page.evaluate('window.__pwned')).toBeUndefined();
  expect(await page.locator('img[src="x"], #model script').count()).toBe(0);
  problems = problems.filter((p) => !/status of 400/.test(p));
});

test('a package whose description and labels hold <script> shows them as text; nothing runs', async () => {
  const hostile = await makeTinyMlpPackage(tempDir(), {
    name: 'hostile',
    extras: { description: `Described as ${HOSTILE}`, labels: [HOSTILE, '<b>bold</b>', '<img src=x onerror="window.__pwned = 3">'] },
  });
  const other = await serve([hostile.dir]);
  try {
    const page = await connected(other.pageUrl);
    expect(await page.textContent('#model-description')).toBe(`Described as ${HOSTILE}`);
    expect(await page.locator('#model-labels li').allTextContents()).toEqual([
      HOSTILE,
      '<b>bold</b>',
      '<img src=x onerror="window.__pwned = 3">',
    ]);
    await answered(page, () => page.click('#send'));
    expect(await page.locator('.bar-label').count()).toBe(3);
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
    expect(await page.locator('img[src="x"], b, main script').count()).toBe(0);
  } finally {
    await other.close();
  }
});

test('the CSP is enforced: the check above would see an inline handler or an HTML sink', async () => {
  const page = await connected();
  const blocked = await page.evaluate(`(() => {
    try {
      document.body.insertAdjacentHTML('beforeend', '<img src=x onerror="window.__pwned = 4">');
      return 'inserted';
    } catch (e) {
      return e.name;
    }
  })()`);
  expect(blocked).toBe('TypeError');
  await page.waitForTimeout(50);
  expect(problems.some((p) => /CSP violation: require-trusted-types-for/.test(p))).toBe(true);
  problems = [];
});

test('accessibility: axe finds no WCAG A/AA violation, and Send is reachable by keyboard', async () => {
  const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  const page = await newPage();
  await page.goto(running.pageUrl);
  const audit = async () => {
    // Evaluated by the test over CDP, which the page's CSP does not govern.
    await page.evaluate(axeSource);
    return page.evaluate<string[]>(`(async () => {
      const r = await axe.run({ runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa'] } });
      return r.violations.map((v) => v.id + ' (' + v.nodes.length + '): ' + v.nodes.map((n) => n.target.join(' ')).join(', '));
    })()`);
  };
  expect(await audit()).toEqual([]);
  await page.fill('#credential', KEY);
  await page.keyboard.press('Enter');
  await page.waitForSelector('#send');
  await answered(page, () => page.click('#send'));
  expect(await audit()).toEqual([]);
  await page.focus('#request');
  let reached = false;
  for (let i = 0; i < 5 && !reached; i++) {
    await page.keyboard.press('Tab');
    reached = await page.evaluate("document.activeElement?.id === 'send'");
  }
  expect(reached).toBe(true);
});

test('screenshots at desktop and phone width; nothing is wider than the phone', async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const page = await connected(running.pageUrl, 1280);
  await showModel(page, 'mnist-mlp');
  await answered(page, () =>
    page.setInputFiles('#image-file', { name: 'digit.png', mimeType: 'image/png', buffer: grayPng(digit(0), 28, 28) }),
  );
  await page.screenshot({ path: join(SCREENSHOTS, 'page-desktop.png'), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
  await page.screenshot({ path: join(SCREENSHOTS, 'page-phone.png'), fullPage: true });
});
