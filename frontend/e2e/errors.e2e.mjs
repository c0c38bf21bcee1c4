// Every page with no service behind the gateway: each must say what is wrong (role=alert with the
// gateway's message), never crash or stay blank. Environment: BASE_URL, SCREENSHOT_DIR, CHROMIUM_PATH.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const BASE = process.env.BASE_URL;
const SHOTS = process.env.SCREENSHOT_DIR ?? 'screenshots';
mkdirSync(SHOTS, { recursive: true });
const result = { ok: false, pages: {}, pageErrors: [] };
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-dev-shm-usage'],
});
try {
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  page.on('pageerror', (err) => result.pageErrors.push(err.message));
  for (const [path, heading] of [['/', 'Overview'], ['/prices', 'Prices'], ['/arbitrage', 'Arbitrage'], ['/rules', 'Rules'], ['/latency', 'Latency'], ['/tasks', 'Tasks']]) {
    await page.goto(BASE + path);
    await page.getByRole('heading', { level: 1, name: heading }).waitFor({ timeout: 10000 });
    // Latency is the gateway's own (Redis) data: it has nothing to complain about here.
    if (heading !== 'Latency') await page.locator('main [role="alert"]').first().waitFor({ timeout: 10000 }).catch(() => undefined);
    result.pages[heading] = await page.locator('main [role="alert"]').allInnerTexts();
    if (heading === 'Arbitrage') await page.screenshot({ path: join(SHOTS, 'errors-arbitrage.png') });
  }
  result.ok = true;
} catch (exc) {
  result.error = String(exc?.stack ?? exc);
} finally {
  await browser.close();
  process.stdout.write(JSON.stringify(result) + '\n');
  process.exit(0);
}
