// The Gateway page in real headless Chromium (playwright-core + Debian chromium) against gateway A,
// while backend/tests/e2e/test_dashboard_gateway.py acts on gateway B.
//
// Environment: BASE_URL (gateway A), ADMIN_USER, VIEWER_USER, PASSWORD, SCREENSHOT_DIR,
// CHROMIUM_PATH. Protocol: the script prints `COMMAND [arg]` and reads one JSON line back (what
// the driver saw on gateway B); the last stdout line is the JSON result.
import { chromium } from 'playwright-core';
import { createInterface } from 'node:readline';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const BASE = process.env.BASE_URL;
const SHOTS = process.env.SCREENSHOT_DIR ?? 'screenshots';
const PASSWORD = process.env.PASSWORD;
mkdirSync(SHOTS, { recursive: true });

const result = { ok: false, steps: {}, consoleErrors: [], screenshots: [] };
const stdinLines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const t0 = Date.now();
const step = (name, value) => {
  result.steps[name] = value;
  process.stderr.write(`[gateway e2e ${((Date.now() - t0) / 1000).toFixed(1)}s] ${name}: ${JSON.stringify(value)}\n`);
};
/** Ask the driver to act on gateway B; its JSON answer. */
const ask = async (command, arg = '') => {
  process.stdout.write(`${command}${arg ? ` ${arg}` : ''}\n`);
  const { value } = await stdinLines.next();
  return JSON.parse(value);
};

let expectingUnauthorized = false; // the session is ended on purpose once
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-dev-shm-usage'],
});

try {
  const context = await browser.newContext({ viewport: { width: 1440, height: 1000 }, colorScheme: 'dark' });
  const page = await context.newPage();
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    if (expectingUnauthorized && msg.text().includes('status of 401')) return;
    result.consoleErrors.push(msg.text());
  });
  page.on('pageerror', (err) => result.consoleErrors.push(`pageerror: ${err.message}`));
  const shot = async (name, fullPage = false) => {
    const path = join(SHOTS, `${name}.png`);
    await page.screenshot({ path, fullPage });
    result.screenshots.push(path);
  };
  const signIn = async (user) => {
    const form = page.locator('form').filter({ has: page.getByLabel('Password') }).first();
    await form.getByLabel('Username').fill(user);
    await form.getByLabel('Password').fill(PASSWORD);
    await form.getByRole('button', { name: 'Sign in', exact: true }).click();
  };
  const service = (name) => page.locator(`section[data-service="${name}"]`);

  // 1. Sign in with a real token (password grant on the token endpoint), straight onto /gateway.
  await page.goto(BASE + '/gateway');
  await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor({ timeout: 15000 });
  await signIn(process.env.ADMIN_USER);
  await page.getByRole('heading', { level: 1, name: 'Gateway' }).waitFor({ timeout: 15000 });
  step('signed_in_as', await page.getByTestId('signed-in-as').innerText());
  await page.locator('.topbar .conn[data-state="connected"]').waitFor({ timeout: 15000 });

  // 2. Every service with its instances: svc has v1 and v2, static.
  await service('svc').locator('tr[data-instance]').nth(1).waitFor({ timeout: 15000 });
  const svcRows = service('svc').locator('tr[data-instance]');
  step('instances', {
    svc: await svcRows.evaluateAll((rows) => rows.map((r) => r.children[2].textContent.trim())),
    sources: [...new Set(await svcRows.evaluateAll((rows) => rows.map((r) => r.children[1].textContent.trim())))],
  });

  // 3. A breaker opening on screen: ledger's upstream killed, calls failing through gateway B.
  const ledgerRow = service('ledger').locator('tr[data-instance]').first();
  await ledgerRow.waitFor();
  step('trip', await ask('TRIP'));
  await service('ledger').locator('tr[data-breaker="open"]').waitFor({ timeout: 10000 });
  step('breaker_on_page', await ledgerRow.getAttribute('data-breaker'));
  // The reason comes only with the circuit_state event (the listing has none): it arrived live.
  step('breaker_reason', await service('ledger').getByTestId('breaker-reason').innerText({ timeout: 5000 }));

  // 4. Traffic split: created at 10 %, edited to 100 % in the browser (A); in force on B.
  await page.locator('select[name="new-split-service"]').selectOption('svc');
  const newSplit = page.locator('form[aria-label="Split of svc"]');
  await newSplit.locator('input[name="stable"]').fill('v1');
  await newSplit.locator('input[name="canary"]').fill('v2');
  await newSplit.locator('input[name="canaryPercent"]').fill('10');
  await newSplit.getByRole('button', { name: 'Save split' }).click();
  const split = page.locator('section[data-split="svc"]');
  const canaryShare = split.locator('tr[data-arm="canary"] [data-testid="arm-share"]');
  await page.waitForFunction(() => document.querySelector('section[data-split="svc"] tr[data-arm="canary"] [data-testid="arm-share"]')?.textContent === '10 %', null, { timeout: 10000 });
  await split.getByRole('button', { name: 'Edit split' }).click();
  await split.locator('input[name="canaryPercent"]').fill('100');
  await split.getByRole('button', { name: 'Save split' }).click();
  await page.waitForFunction(() => document.querySelector('section[data-split="svc"] tr[data-arm="canary"] [data-testid="arm-share"]')?.textContent === '100 %', null, { timeout: 10000 });
  step('split_on_b', await ask('SPLIT_ON_B'));
  // ... and a split changed through B shows here (the page polls every 5 s).
  await ask('SPLIT_FROM_B');
  await page.waitForFunction(() => document.querySelector('section[data-split="svc"] tr[data-arm="canary"] [data-testid="arm-share"]')?.textContent === '25 %', null, { timeout: 12000 });
  step('split_from_b_on_page', await canaryShare.innerText());

  // 5. Rate limits: an override set here limits calls through B; the refused client is listed.
  const ledgerLimit = page.locator('tr[data-target="ledger"]');
  await ledgerLimit.getByRole('button', { name: 'Override' }).click();
  await ledgerLimit.locator('input[name="limit"]').fill('1/1h');
  await ledgerLimit.getByRole('button', { name: 'Apply' }).click();
  await page.waitForFunction(() => document.querySelector('tr[data-target="ledger"] [data-testid="limit-in-force"]')?.textContent === '1/1h', null, { timeout: 10000 });
  step('limit_on_b', await ask('LIMIT_ON_B'));
  const limited = page.locator('table[aria-label="Clients being limited"] tr[data-client]').first();
  await limited.waitFor({ timeout: 10000 });
  step('limited_listed', (await limited.innerText()).replace(/\s+/g, ' '));
  await page.getByRole('heading', { name: 'Services and instances' }).scrollIntoViewIfNeeded();
  await shot('gateway');

  // 6. API keys: created (the secret shown once), working on B; revoked here, refused on B.
  await page.locator('input[name="key-name"]').fill('e2e-key');
  await page.getByRole('button', { name: 'Create key' }).click();
  const secret = (await page.getByTestId('new-key-secret').innerText({ timeout: 10000 })).trim();
  const keyRow = page.locator('tr[data-key-name="e2e-key"]');
  await keyRow.waitFor({ timeout: 10000 });
  step('key_id_subject', `key:${await keyRow.getAttribute('data-key-id')}`);
  await page.getByRole('heading', { name: 'API keys' }).scrollIntoViewIfNeeded();
  await shot('gateway-keys');
  step('key_on_b', await ask('KEY_ON_B', secret));
  await page.getByRole('button', { name: 'I have stored it' }).click();
  step('secret_shown_once', !(await page.evaluate((s) => document.body.innerText.includes(s), secret)));
  await keyRow.getByRole('button', { name: 'Revoke…' }).click();
  await keyRow.getByRole('button', { name: 'Revoke now' }).click();
  await keyRow.waitFor({ state: 'detached', timeout: 10000 });
  step('revoked_on_b', await ask('REVOKED_ON_B', secret));

  // 7. A 401 mid-session (the user deleted through B): the form comes over the page, which keeps
  //    what was typed; signing in again gives the page back as it was.
  await page.locator('input[name="key-name"]').fill('draft key name');
  expectingUnauthorized = true;
  await ask('EXPIRE');
  await page.locator('.gate-overlay').getByRole('heading', { level: 1, name: 'Sign in' }).waitFor({ timeout: 15000 });
  const kept = await page.locator('.gate-page[data-locked] input[name="key-name"]').inputValue();
  await ask('RECREATE');
  await signIn(process.env.ADMIN_USER);
  await page.locator('.gate-overlay').waitFor({ state: 'detached', timeout: 15000 });
  expectingUnauthorized = false;
  step('expired', { form_over_page: kept === 'draft key name', draft_after_sign_in: await page.locator('input[name="key-name"]').inputValue() });

  // 8. The killed instance's health fell (rise/fall history), whichever gateway decided it.
  await page.waitForFunction(
    () => document.querySelector('section[data-service="ledger"] [data-testid="transitions"] li')?.textContent?.includes('unhealthy'),
    null,
    { timeout: 20000 },
  );
  step('fell', 'unhealthy');

  // 9. A read-only account: the admin controls are there, disabled, with the reason.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await signIn(process.env.VIEWER_USER);
  await page.getByRole('heading', { level: 1, name: 'Gateway' }).waitFor({ timeout: 15000 });
  const createKey = page.getByRole('button', { name: 'Create key' });
  step('viewer', {
    disabled: await createKey.isDisabled(),
    reason: (await page.getByTestId('denied-reason').first().innerText()).trim(),
  });
  await page.getByRole('heading', { name: 'Traffic splits' }).scrollIntoViewIfNeeded();
  await shot('gateway-viewer');
  result.ok = true;
} catch (exc) {
  result.error = String(exc?.stack ?? exc);
} finally {
  await browser.close();
  result.seconds = (Date.now() - t0) / 1000;
  process.stdout.write(JSON.stringify(result) + '\n');
  process.exit(0);
}
