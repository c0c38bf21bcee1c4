// Sign-in in real headless Chromium (playwright-core + Debian chromium) against a real gateway,
// started by backend/tests/e2e/test_dashboard_auth.py.
//
// Environment: BASE_URL (the gateway), AUTH_MODE (`required` | `off`), E2E_USERNAME and
// E2E_PASSWORD (a user the driver created through the admin API; required mode), SCREENSHOT_DIR,
// CHROMIUM_PATH. Protocol with the Python driver (required mode): the script prints `ROTATE` when
// it wants the gateway restarted with another JWT_SECRET (every token issued so far becomes
// invalid) and waits for a line on stdin; the last stdout line is the JSON result.
import { chromium } from 'playwright-core';
import { createInterface } from 'node:readline';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const BASE = process.env.BASE_URL;
const MODE = process.env.AUTH_MODE ?? 'required';
const USERNAME = process.env.E2E_USERNAME ?? '';
const PASSWORD = process.env.E2E_PASSWORD ?? '';
const SHOTS = process.env.SCREENSHOT_DIR ?? 'screenshots';
mkdirSync(SHOTS, { recursive: true });

const result = { ok: false, mode: MODE, steps: {}, pageErrors: [], screenshots: [] };
const stdinLines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const t0 = Date.now();
const step = (name, value) => {
  result.steps[name] = value;
  process.stderr.write(`[auth e2e ${((Date.now() - t0) / 1000).toFixed(1)}s] ${name}: ${JSON.stringify(value)}\n`);
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-dev-shm-usage'],
});

// Everything the page sent and logged, to prove no credential ever travels in a URL or a log line.
const requests = [];
const consoleLines = [];
const secrets = new Set();

try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'dark' });
  const page = await context.newPage();
  page.on('request', (request) => requests.push({ url: request.url(), authorization: request.headers()['authorization'] ?? null }));
  page.on('console', (msg) => consoleLines.push(msg.text()));
  page.on('pageerror', (err) => result.pageErrors.push(err.message));

  const shot = async (name) => {
    const path = join(SHOTS, `${name}.png`);
    await page.screenshot({ path });
    result.screenshots.push(path);
  };
  const signInHeading = () => page.getByRole('heading', { level: 1, name: 'Sign in' });
  const ticks = async () => Number((await page.getByTestId('ticks-received').innerText().catch(() => '0')) || 0);
  /** Prices page open, socket connected, and the tick counter moving: live prices over Socket.IO. */
  const livePrices = async () => {
    await page.getByRole('heading', { level: 1, name: 'Prices' }).waitFor({ timeout: 15000 });
    await page.locator('.topbar .conn[data-state="connected"]').waitFor({ timeout: 15000 });
    await page.getByTestId('ticks-received').waitFor({ timeout: 10000 });
    const before = await ticks();
    await page.waitForFunction((n) => Number(document.querySelector('[data-testid="ticks-received"]')?.textContent) > n, before, { timeout: 10000 });
    return { ticking: true, rows: await page.locator('table[aria-label="Prices"] tbody tr').count() };
  };
  const stored = () =>
    page.evaluate(() => ({
      session: sessionStorage.getItem('ascep.credential'),
      local: Object.keys(localStorage).map((k) => localStorage.getItem(k)).join('\n'),
    }));
  const signIn = async (password) => {
    await page.getByLabel('Username').fill(USERNAME);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  };

  if (MODE === 'off') {
    // AUTH_MODE=off: the dashboard as before, straight to the page, no form, no account menu.
    await page.goto(BASE + '/prices');
    step('prices', await livePrices());
    step('no_form', (await signInHeading().count()) === 0);
    step('no_account_menu', (await page.getByTestId('account').count()) === 0);
    step('authorization_headers', requests.filter((r) => r.authorization).length);
    step('stored', await stored());
    await shot('auth-off-prices');
  } else {
    secrets.add(PASSWORD);
    // 1. No credential: the sign-in form, not the page.
    await page.goto(BASE + '/prices');
    await signInHeading().waitFor({ timeout: 15000 });
    step('form_first', (await page.getByRole('heading', { level: 1, name: 'Prices' }).count()) === 0);
    await shot('sign-in');

    // 2. Wrong password: the server's message, still the form, nothing stored.
    await signIn(PASSWORD + '-wrong');
    const wrong = page.getByTestId('sign-in-error');
    await wrong.waitFor({ timeout: 10000 });
    step('wrong_password_error', await wrong.innerText());
    step('wrong_password_stored', (await stored()).session);
    step('wrong_password_still_form', (await signInHeading().count()) === 1);
    await shot('sign-in-wrong-password');

    // 3. Right password: the page it was asked for, live prices over Socket.IO, who is signed in.
    await signIn(PASSWORD);
    step('prices', await livePrices());
    step('signed_in_as', await page.getByTestId('signed-in-as').innerText());
    step('scopes', await page.getByTestId('scopes').locator('.badge').allInnerTexts());
    const token = JSON.parse((await stored()).session ?? 'null')?.value ?? null;
    step('token_stored_in_session', typeof token === 'string' && token.split('.').length === 3);
    if (token) secrets.add(token);
    step('token_in_local_storage', token ? (await stored()).local.includes(token) : null);
    await shot('signed-in-prices');

    // 4. A write with a read-only token: the gateway's 403 shown inline, naming the scope; still signed in.
    await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Arbitrage', exact: true }).click();
    await page.getByRole('button', { name: /detector configuration/ }).click();
    await page.locator('input[name="max_cycle_length"]').waitFor({ timeout: 15000 });
    await page.getByRole('button', { name: 'Save configuration' }).click();
    const forbidden = page.locator('form[aria-label="Detector configuration"] [role="alert"]', { hasText: 'FORBIDDEN' });
    await forbidden.waitFor({ timeout: 10000 });
    step('forbidden_message', await forbidden.innerText());
    step('still_signed_in_after_403', (await page.getByTestId('account').count()) === 1);
    await shot('forbidden-inline');

    // 5. Reload: the session survives (sessionStorage), no form, prices live again.
    await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Prices', exact: true }).click();
    await page.reload();
    step('after_reload', await livePrices());
    step('after_reload_no_form', (await signInHeading().count()) === 0);
    step('after_reload_signed_in_as', await page.getByTestId('signed-in-as').innerText());

    // 6. Sign out: back to the form, nothing stored.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signInHeading().waitFor({ timeout: 10000 });
    step('signed_out_notice', await page.getByTestId('auth-notice').innerText());
    step('signed_out_stored', (await stored()).session);

    // 7. Sign in again, then the gateway restarts with another secret: the socket's reconnection
    //    presents a token that is no longer valid, the handshake is refused, the form comes back
    //    saying the session expired; signing in again reconnects with the new token.
    await signIn(PASSWORD);
    await livePrices();
    const second = JSON.parse((await stored()).session ?? 'null')?.value;
    if (second) secrets.add(second);
    process.stdout.write('ROTATE\n');
    await stdinLines.next();
    const expired = page.locator('[data-testid="auth-notice"][data-kind="expired"]');
    await expired.waitFor({ timeout: 30000 });
    step('expired_notice', await expired.innerText());
    step('expired_stored', (await stored()).session);
    await shot('sign-in-expired');
    await signIn(PASSWORD);
    step('after_rotation', await livePrices());
    const third = JSON.parse((await stored()).session ?? 'null')?.value;
    if (third) secrets.add(third);
  }

  const leaks = (lines) => lines.filter((line) => [...secrets].some((s) => s && line.includes(s)));
  step('secret_in_url', leaks(requests.map((r) => r.url)));
  step('secret_in_console', leaks(consoleLines));
  result.ok = true;
} catch (exc) {
  result.error = String(exc?.stack ?? exc);
} finally {
  await browser.close();
  result.seconds = (Date.now() - t0) / 1000;
  process.stdout.write(JSON.stringify(result) + '\n');
  process.exit(0);
}
