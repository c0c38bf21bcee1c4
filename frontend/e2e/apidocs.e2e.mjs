// The gateway's API documentation in real headless Chromium (playwright-core + Debian chromium),
// against a real platform started by backend/tests/e2e/test_api_docs.py.
//
// /docs (Swagger UI) must render the platform's operations and a "Try it out" call to
// GET /api/prices must succeed; /redoc must render too. Every request the pages make must stay on
// the gateway's origin (assets are vendored, nothing comes from a CDN) and the console must stay
// free of errors (a Content-Security-Policy violation is one). Environment: BASE_URL,
// SCREENSHOT_DIR, CHROMIUM_PATH. The last stdout line is the JSON result.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const BASE = process.env.BASE_URL;
const SHOTS = process.env.SCREENSHOT_DIR ?? 'screenshots';
mkdirSync(SHOTS, { recursive: true });

const result = { ok: false, steps: {}, consoleErrors: [], foreignRequests: [], screenshots: [] };
const step = (name, value) => {
  result.steps[name] = value;
  process.stderr.write(`[apidocs] ${name}: ${JSON.stringify(value)}\n`);
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-dev-shm-usage'],
});

try {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  page.on('console', (msg) => msg.type() === 'error' && result.consoleErrors.push(msg.text()));
  page.on('pageerror', (err) => result.consoleErrors.push(`pageerror: ${err.message}`));
  page.on('request', (request) => {
    const url = request.url();
    if (!url.startsWith(BASE) && !url.startsWith('data:') && !url.startsWith('blob:')) result.foreignRequests.push(url);
  });
  const shot = async (name) => {
    const path = join(SHOTS, `${name}.png`);
    await page.screenshot({ path, fullPage: false });
    result.screenshots.push(path);
  };

  // 1. Swagger UI renders every operation of the platform document, grouped by service.
  const response = await page.goto(BASE + '/docs', { waitUntil: 'load' });
  step('docs_status', response.status());
  step('docs_csp', response.headers()['content-security-policy'] ?? null);
  await page.locator('.opblock').first().waitFor({ timeout: 45000 });
  step('operations', await page.locator('.opblock').count());
  step('tags', await page.locator('.opblock-tag').evaluateAll((els) => els.map((e) => e.getAttribute('data-tag'))));
  const paths = await page.locator('.opblock-summary-path').evaluateAll((els) => els.map((e) => e.getAttribute('data-path')));
  step('has_prices', paths.includes('/api/prices'));
  step('has_rules', paths.includes('/api/rules/{raw_id}'));
  await shot('api-docs-swagger');

  // 2. "Try it out" on GET /api/prices: the browser calls the gateway and shows the answer.
  const prices = page.locator('.opblock-get').filter({ has: page.locator('.opblock-summary-path[data-path="/api/prices"]') });
  await prices.locator('.opblock-summary').first().click();
  await prices.locator('button.try-out__btn').click();
  await prices.locator('button.execute').click();
  const status = prices.locator('.live-responses-table tbody .response-col_status').first();
  await status.waitFor({ timeout: 15000 });
  step('try_it_out_status', (await status.innerText()).trim());
  const body = await prices.locator('.live-responses-table .response-col_description pre').first().innerText();
  step('try_it_out_has_prices', body.includes('"prices"') && body.includes('"total_pairs"'));
  await prices.scrollIntoViewIfNeeded();
  await shot('api-docs-try-it-out');

  // 3. ReDoc renders the same document.
  const redoc = await page.goto(BASE + '/redoc', { waitUntil: 'load' });
  step('redoc_status', redoc.status());
  await page.locator('h2').filter({ hasText: 'Latest price of every instrument' }).first().waitFor({ timeout: 45000 });
  step('redoc_rendered', true);
  await shot('api-docs-redoc');

  result.ok = true;
} catch (error) {
  result.error = String(error?.stack ?? error);
} finally {
  await browser.close();
  process.stdout.write(JSON.stringify(result) + '\n');
}
