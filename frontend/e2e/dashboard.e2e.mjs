// End-to-end run of the dashboard in real headless Chromium (playwright-core + Debian chromium),
// against a real stack started by backend/tests/e2e/test_dashboard.py.
//
// Environment: BASE_URL (the gateway), SCREENSHOT_DIR, CHROMIUM_PATH (default /usr/bin/chromium).
// Protocol with the Python driver: the script prints `RESTART` when it wants the gateway
// restarted and waits for a line on stdin; the last stdout line is the JSON result.
import { chromium } from 'playwright-core';
import { createInterface } from 'node:readline';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const BASE = process.env.BASE_URL;
const SHOTS = process.env.SCREENSHOT_DIR ?? 'screenshots';
const RULE_SYMBOL = process.env.RULE_SYMBOL ?? 'EUR/USD';
mkdirSync(SHOTS, { recursive: true });

const result = { ok: false, steps: {}, consoleErrors: [], restartConsoleErrors: [], screenshots: [], states: [] };
const stdinLines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const t0 = Date.now();
const step = (name, value) => {
  result.steps[name] = value;
  process.stderr.write(`[e2e ${((Date.now() - t0) / 1000).toFixed(1)}s] ${name}: ${JSON.stringify(value)}\n`);
};

let restarting = false;
let expectingHttpError = false; // the config step provokes a 422 on purpose
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-dev-shm-usage'],
});

try {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, colorScheme: 'dark' });
  const page = await context.newPage();
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    if (expectingHttpError && msg.text().includes('status of 422')) return;
    // A gateway without the access endpoints (before issue 17's AUTH part) answers the
    // dashboard's start-up question with a 404, which the dashboard reads as `AUTH_MODE=off`.
    if (msg.text().includes('status of 404') && new URL(msg.location().url || BASE).pathname === '/api/auth/config') return;
    (restarting ? result.restartConsoleErrors : result.consoleErrors).push(msg.text());
  });
  page.on('pageerror', (err) => (restarting ? result.restartConsoleErrors : result.consoleErrors).push(`pageerror: ${err.message}`));

  const shot = async (name) => {
    const path = join(SHOTS, `${name}.png`);
    await page.screenshot({ path, fullPage: false });
    result.screenshots.push(path);
  };
  const nav = async (label) => {
    await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: label, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: label }).waitFor();
  };
  const connected = () => page.locator('.topbar .conn[data-state="connected"]').waitFor({ timeout: 15000 });

  // 0. Latency first, on a fresh stack (no proxied call yet): the page says what it would show and
  //    since when data exists; the indicator, with no live stream on this page, says how long it
  //    has been connected rather than the age of the last event.
  const response = await page.goto(BASE + '/latency', { waitUntil: 'load' });
  step('index_content_type', response.headers()['content-type']);
  await connected();
  const explainer = page.getByTestId('latency-explainer');
  await explainer.waitFor({ timeout: 10000 });
  step('latency_quiet', (await page.getByTestId('latency-since').innerText()).trim());
  step('latency_freshness', (await page.locator('.topbar .conn-last').innerText()).trim());
  await shot('latency-quiet');

  // 1. Overview, socket connected, health grid; the ticker shows every symbol, none cut off.
  await nav('Overview');
  await page.locator('[data-testid="health-grid"] .health-card').first().waitFor({ timeout: 15000 });
  await page.locator('[data-testid="ticker"] span').first().waitFor({ timeout: 10000 });
  step('overview_services', await page.locator('[data-testid="health-grid"] .health-card').count());
  const symbolCount = await page.evaluate(async () => (await (await fetch('/api/prices')).json()).total_pairs);
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid="ticker"] > span').length >= n, symbolCount, { timeout: 10000 });
  step('ticker', await page.evaluate(() => {
    const box = document.querySelector('[data-testid="ticker"]').getBoundingClientRect();
    const items = [...document.querySelectorAll('[data-testid="ticker"] > span')];
    const cut = items.filter((el) => el.getBoundingClientRect().right > box.right + 0.5 || el.scrollWidth > el.clientWidth + 1);
    return { shown: items.length, cut: cut.map((el) => el.textContent), pageOverflow: document.documentElement.scrollWidth > window.innerWidth };
  }));
  step('ticker_symbols', symbolCount);
  // The price feed's own reason on its card (Binance down, crypto from simulated), not "reports degraded".
  const reason = page.locator('[data-service="price_feed"] [data-testid="health-reason"]');
  await page.waitForFunction(() => /Binance not delivering/.test(document.querySelector('[data-service="price_feed"] [data-testid="health-reason"]')?.textContent ?? ''), null, { timeout: 30000 });
  step('health_reason', await reason.innerText());
  await shot('overview');

  // 2. Prices: rows, live updates within 5 s, chart of one symbol with history + live points.
  await nav('Prices');
  await page.locator('table[aria-label="Prices"] tbody tr').first().waitFor({ timeout: 10000 });
  const ticks = async () => Number(await page.getByTestId('ticks-received').innerText());
  const before = await ticks();
  const started = Date.now();
  await page.waitForFunction((n) => Number(document.querySelector('[data-testid="ticks-received"]')?.textContent) > n, before, { timeout: 5000 });
  step('price_update_ms', Date.now() - started);
  step('price_rows', await page.locator('table[aria-label="Prices"] tbody tr').count());
  // A spread reads with its price's decimals (BTC: 2, like its quote), not "6.52000".
  step('spreads', {
    btc: await page.locator('tr[data-symbol="BTCUSDT"] [data-col="spread"]').innerText(),
    btcPrice: await page.locator('tr[data-symbol="BTCUSDT"] [data-col="price"]').innerText(),
    eurusd: await page.locator('tr[data-symbol="EUR/USD"] [data-col="spread"]').innerText(),
  });
  // Under the stack's ~1 000 updates/s: frames keep coming, no long task freezes the page.
  step('price_load', await page.evaluate(async () => {
    const count = () => Number(document.querySelector('[data-testid="ticks-received"]')?.textContent);
    const first = count();
    let frames = 0;
    let longest = 0;
    const observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) longest = Math.max(longest, entry.duration);
    });
    observer.observe({ type: 'longtask' });
    const t0 = performance.now();
    await new Promise((resolve) => {
      const loop = () => {
        frames++;
        if (performance.now() - t0 < 3000) requestAnimationFrame(loop);
        else resolve();
      };
      requestAnimationFrame(loop);
    });
    observer.disconnect();
    const seconds = (performance.now() - t0) / 1000;
    return { fps: Math.round(frames / seconds), updatesPerSecond: Math.round((count() - first) / seconds), longestTaskMs: Math.round(longest) };
  }));
  // Open the chart from the keyboard: rows are focusable, Enter opens them.
  await page.locator(`tr[data-symbol="${RULE_SYMBOL}"]`).focus();
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => Number(document.querySelector('[data-testid="price-chart"]')?.getAttribute('data-points')) > 1, null, { timeout: 10000 });
  step('price_chart_points', Number(await page.getByTestId('price-chart').getAttribute('data-points')));
  await shot('prices');

  // 3. Arbitrage: the injected mispricing shows up as a signal; detail; config validation error.
  await nav('Arbitrage');
  const signalRow = page.locator('[data-testid="signal-table"] tbody tr').first();
  await signalRow.waitFor({ timeout: 30000 });
  step('signal_seen', await signalRow.getAttribute('data-signal-id'));
  await signalRow.click();
  await page.getByTestId('signal-detail').waitFor();
  step('signal_detail_legs', await page.locator('[data-testid="signal-detail"] table[aria-label="Legs"] tbody tr').count());
  await page.getByRole('button', { name: /detector configuration/ }).click();
  const cycleInput = page.locator('input[name="max_cycle_length"]');
  await cycleInput.waitFor();
  step('config_new_fields', {
    closeMargin: await page.locator('input[name="close_margin_percentage"]').inputValue(),
    suppressDominated: await page.locator('input[name="suppress_dominated"]').isChecked(),
  });
  await cycleInput.fill('99');
  expectingHttpError = true;
  await page.getByRole('button', { name: 'Save configuration' }).click();
  const fieldError = page.locator('#err-max_cycle_length');
  await fieldError.waitFor({ timeout: 5000 });
  expectingHttpError = false;
  step('config_field_error', await fieldError.innerText());
  await shot('arbitrage');
  await cycleInput.fill('4');
  step('config_error_cleared_on_edit', (await fieldError.count()) === 0);

  // 4. Rules: create a rule in the UI (form), it fires on live prices and its alert shows.
  await nav('Rules');
  await page.getByRole('button', { name: 'New rule' }).click();
  const editor = page.getByTestId('rule-editor');
  step('new_rule_calm', {
    name: await editor.locator('input[name="name"]').inputValue(),
    jsonName: JSON.parse(await editor.locator('textarea[name="rule-json"]').inputValue()).name,
    red: await page.getByTestId('rule-issues').count(),
    invalid: await editor.locator('textarea[aria-invalid="true"]').count(),
    todo: await page.getByTestId('rule-todo').innerText(),
  });
  await editor.locator('input[name="name"]').fill('e2e price above zero');
  await editor.locator('input[name="symbol"]').fill(RULE_SYMBOL);
  await editor.locator('input[name="value"]').fill('0');
  await editor.locator('select[name="mode"]').selectOption('level');
  await editor.locator('input[name="cooldown"]').fill('1m');
  await editor.locator('input[name="message"]').fill('{symbol} is at {price}');
  await page.waitForFunction(() => !document.querySelector('[data-testid="rule-issues"]'), null, { timeout: 5000 });
  await editor.getByText('Test against sample events').click();
  await editor.getByRole('button', { name: 'Run test' }).click();
  const testResult = page.getByTestId('rule-test-result');
  await testResult.waitFor({ timeout: 5000 });
  step('rule_test', (await testResult.locator('p').innerText()).trim());
  await shot('rule-editor');
  await editor.getByRole('button', { name: 'Create rule' }).click();
  await page.locator('tr[data-rule-name="e2e price above zero"]').waitFor({ timeout: 10000 });
  const alertItem = page.locator('section[aria-label="Alerts of e2e price above zero"] li[data-rule="e2e price above zero"]').first();
  await alertItem.waitFor({ timeout: 15000 });
  step('rule_alert', await alertItem.innerText());
  await shot('rules');

  // 5. Latency: the chart draws points from /api/latency.
  await nav('Latency');
  await page.waitForFunction(() => Number(document.querySelector('[data-testid="latency-chart"]')?.getAttribute('data-points')) >= 4, null, { timeout: 15000 });
  const drawn = await page.evaluate(() => {
    const canvas = document.querySelector('[data-testid="latency-chart"] canvas');
    if (!canvas) return 0;
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let painted = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted++;
    return painted;
  });
  step('latency_points', Number(await page.getByTestId('latency-chart').getAttribute('data-points')));
  step('latency_painted_pixels', drawn);
  // Buckets of one second hold few samples: p95 = p99 there, and the page says why.
  await page.getByTestId('p95-note').waitFor({ timeout: 10000 });
  step('p95_note', Number(await page.getByTestId('p95-note').getAttribute('data-coinciding')));
  await shot('latency');

  // 6. Tasks: submit an export from the catalog; task_update drives the row; the result shows.
  await nav('Tasks');
  step('tasks_freshness', (await page.locator('.topbar .conn-last').innerText()).trim());
  // The cancelled export seeded by the driver: no full bar, not "105 rows"; arguments on the row.
  const cancelled = page.locator('table[aria-label="Tasks"] tbody tr[data-status="cancelled"]').first();
  await cancelled.waitFor({ timeout: 10000 });
  step('cancelled_task', {
    bars: await cancelled.locator('[role="progressbar"]').count(),
    progress: await cancelled.getByTestId('task-progress').innerText(),
    message: await cancelled.getByTestId('task-message').innerText(),
    args: await cancelled.locator('.task-args').innerText(),
  });
  await page.getByRole('button', { name: 'export_prices', exact: true }).click();
  step('since_input_type', await page.locator('form[aria-label="Submit export_prices"] input[name="since"]').getAttribute('type'));
  await page.locator('form[aria-label="Submit export_prices"] input[name="symbol"]').fill(RULE_SYMBOL);
  await page.getByRole('button', { name: 'Run export_prices' }).click();
  const taskRow = page.locator('table[aria-label="Tasks"] tbody tr').first();
  await taskRow.locator('.badge-succeeded').waitFor({ timeout: 30000 });
  const taskResult = page.getByTestId('task-result');
  await taskResult.waitFor({ timeout: 10000 });
  await taskResult.locator('table[aria-label="CSV preview"] tbody tr').first().waitFor({ timeout: 10000 });
  const [download] = await Promise.all([page.waitForEvent('download', { timeout: 10000 }), taskResult.getByRole('button', { name: 'Download CSV' }).click()]);
  step('task', {
    status: 'succeeded',
    result: (await taskResult.innerText()).slice(0, 300),
    rawJson: (await taskResult.innerText()).includes('"csv"'),
    previewRows: await taskResult.locator('table[aria-label="CSV preview"] tbody tr').count(),
    download: download.suggestedFilename(),
    args: await page.getByTestId('task-args').innerText(),
  });
  await shot('tasks');

  // 7. Light theme, by keyboard.
  await page.getByRole('button', { name: /Switch to light theme/ }).focus();
  await page.keyboard.press('Enter');
  step('theme', await page.evaluate(() => document.documentElement.dataset.theme));
  await nav('Overview');
  await shot('overview-light');

  // 8. Gateway restart: the indicator leaves `connected`, comes back, prices flow again, no dupes.
  await nav('Prices');
  await page.locator('table[aria-label="Prices"] tbody tr').first().waitFor();
  const rowsBefore = await page.locator('table[aria-label="Prices"] tbody tr').count();
  // Sequential sampling (one read at a time), so a slow read can never land after a newer one.
  const conn = page.locator('.topbar .conn');
  const record = (state) => {
    if (state && result.states[result.states.length - 1] !== state) result.states.push(state);
  };
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      try {
        record(await conn.getAttribute('data-state', { timeout: 500 }));
      } catch {
        /* page busy */
      }
      await new Promise((resolve) => setTimeout(resolve, 100)); // sampling cadence, not a wait
    }
  })();
  restarting = true;
  process.stdout.write('RESTART\n');
  await stdinLines.next();
  await page.waitForFunction(() => document.querySelector('.topbar .conn')?.getAttribute('data-state') !== 'connected', null, { timeout: 10000 }).catch(() => undefined);
  await connected();
  const afterRestart = await ticks();
  await page.waitForFunction((n) => Number(document.querySelector('[data-testid="ticks-received"]')?.textContent) > n, afterRestart, { timeout: 10000 });
  watching = false;
  await watcher;
  await connected();
  record(await conn.getAttribute('data-state'));
  const symbols = await page.locator('table[aria-label="Prices"] tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-symbol')));
  step('recovered', { rowsBefore, rowsAfter: symbols.length, unique: new Set(symbols).size, states: result.states });
  await shot('prices-after-restart');
  result.ok = true;
} catch (exc) {
  result.error = String(exc?.stack ?? exc);
} finally {
  await browser.close();
  result.seconds = (Date.now() - t0) / 1000;
  process.stdout.write(JSON.stringify(result) + '\n');
  process.exit(0);
}
