import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, watchPage, type PageProblems } from '../support/browser/chromium';
import { cockpitWorld, requestMetric } from '../support/browser/cockpit-world';
import { accessibilityFindings, axeViolations, horizontalOverflow } from '../support/browser/page-checks';

const TOKEN = 'cockpit-browser-token-0123456789';
// Pictures for the docs are taken only when asked (`UPDATE_SCREENSHOTS=1`): a test run leaves the tree as it was.
const SCREENSHOTS = process.env.UPDATE_SCREENSHOTS === '1';
const DESKTOP_PNG = fileURLToPath(new URL('../../docs/cockpit.png', import.meta.url));
const PHONE_PNG = fileURLToPath(new URL('../../docs/cockpit-phone.png', import.meta.url));

describe('the cockpit in a real browser (Debian chromium, npm run dev, the demo collector, Access on loopback)', () => {
  const world = cockpitWorld({ ADMIN_TOKEN: TOKEN, CONFIG_CACHE_SECONDS: '1' });
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  const admin = (method: string, path: string, body?: unknown) =>
    fetch(`${world.worker.url}/__rollout/${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  // A change made behind the page's back, as another operator (or the CLI) would make it.
  async function changeBehindItsBack(percent: number): Promise<number> {
    const response = await admin('PUT', 'percent', { percent, reason: 'changed from another terminal' });
    expect(response.status).toBe(200);
    return ((await response.json()) as { version: number }).version;
  }

  async function storedState(): Promise<{ version: number; percent: number; state: string }> {
    return (await (await admin('GET', 'state')).json()) as {
      version: number;
      percent: number;
      state: string;
    };
  }

  async function signIn(page: Page): Promise<void> {
    await page.goto(`${world.cockpitOrigin}/__rollout/`);
    await page.locator('#login').waitFor({ state: 'visible' });
    await page.fill('#token', TOKEN);
    await page.click('#login button[type=submit]');
    await page.locator('#app').waitFor({ state: 'visible' });
  }

  async function previewAndRead(page: Page, start: () => Promise<void>): Promise<string[]> {
    await start();
    await page.locator('#confirm-yes:enabled').waitFor();
    return page.locator('#confirm-lines li').allTextContents();
  }

  function expectNoJavaScriptErrors(problems: PageProblems, expectedStatuses: number[]): void {
    expect(problems.errors).toEqual([]);
    for (const status of problems.failedLoads) expect(expectedStatuses).toContain(status);
  }

  /** Requests and failed requests per minute and assigned cohort, as the collector holds them. */
  async function collectorCounts(): Promise<
    { minute: number; cohort: string; requests: number; failed: number }[]
  > {
    const sql = [
      'SELECT toUInt32(toStartOfMinute(timestamp)) AS minute, blob11 AS cohort,',
      "  count() AS requests, SUM(if(blob7 != 'ok', 1, 0)) AS failed",
      `FROM ${world.collector.dataset} GROUP BY minute, cohort ORDER BY minute FORMAT JSON`,
    ].join(' ');
    const response = await fetch(
      `${world.collector.url}/client/v4/accounts/${world.collector.accountId}/analytics_engine/sql`,
      { method: 'POST', headers: { authorization: `Bearer ${world.collector.token}` }, body: sql },
    );
    return (
      (await response.json()) as {
        data: { minute: number; cohort: string; requests: number; failed: number }[];
      }
    ).data;
  }

  /** The data table of one chart: each row's cells by column title. */
  async function chartTable(page: Page, panel: string): Promise<Record<string, string>[]> {
    const table = page.locator(`[data-panel=${panel}] table`);
    const heads = await table.locator('thead th').allTextContents();
    const rows = await table.locator('tbody tr').all();
    return Promise.all(
      rows.map(async (row) => {
        const cells = await row.locator('th, td').allTextContents();
        const minute = (await row.getAttribute('data-minute')) ?? '';
        return { ...Object.fromEntries(heads.map((head, i) => [head, cells[i]!])), minute };
      }),
    );
  }

  it('signs in with the token, previews and confirms a ramp, aborts, and shows a 412 when the config changed behind it', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
    const page = await context.newPage();
    const problems = watchPage(page);
    // The page's timers run only when the test says so: polling is then a step of the test.
    await page.clock.install();

    await signIn(page);
    expect(await page.evaluate('Object.keys(sessionStorage)')).toEqual(['edge-rollout-admin-token']);
    await expect.poll(() => page.textContent('#state')).toBe('idle');
    const start = (await storedState()).version;
    expect(await page.textContent('#version')).toBe(String(start));
    expect(await page.textContent('#who')).toBe('Signed in as admin');
    // The cockpit's origin never sees the app's cookie: it points to the app host's own page.
    expect(await page.textContent('#visitor')).toContain(`/__rollout/me on the app’s host`);
    expect(await page.getAttribute('#visitor a', 'href')).toBe(`${world.worker.url}/__rollout/me`);

    // Ramp to 10 %: the preview says exactly what moves before anything is written.
    const rampLines = await previewAndRead(page, async () => {
      await page.fill('#percent-input', '10');
      await page.click('#set-percent button[type=submit]');
    });
    expect(rampLines[0]).toMatch(/^10 % of visitors move from stable to canary \(exact\)/);
    expect((await storedState()).version).toBe(start);
    await page.click('#confirm-yes');
    await expect.poll(() => page.textContent('#version')).toBe(String(start + 1));
    expect(await page.textContent('#state')).toBe('ramping');
    expect(await page.textContent('#percent')).toBe('10 % canary');
    expect(await page.textContent('#notice')).toContain(`done, now version ${start + 1}`);

    // Abort: the banner says what, why, when and by whom; the audit timeline shows it first.
    await page.fill('#reason', 'browser test abort');
    const abortLines = await previewAndRead(page, () => page.click('#do-abort'));
    expect(abortLines[0]).toMatch(/^10 % of visitors move from canary to stable \(exact\)/);
    await page.click('#confirm-yes');
    await expect.poll(() => page.textContent('#state')).toBe('aborted');
    await expect
      .poll(() => page.locator('#audit li').first().textContent())
      .toMatch(new RegExp(`abort by admin → v${start + 2} — browser test abort`));
    expect(await page.textContent('#incident-title')).toContain('Canary aborted');
    expect(await page.textContent('#incident')).toMatch(/Why: browser test abort.*By: admin/s);

    // A change behind the page's back between the preview and the confirmation: 412, shown, not retried.
    await page.fill('#reason', '');
    await previewAndRead(page, async () => {
      await page.fill('#percent-input', '20');
      await page.click('#set-percent button[type=submit]');
    });
    const behind = await changeBehindItsBack(5);
    await page.click('#confirm-yes');
    await page.locator('#conflict').waitFor({ state: 'visible' });
    expect(await page.textContent('#conflict')).toContain(
      `no longer version ${start + 2}, so nothing was changed`,
    );
    expect(await storedState()).toMatchObject({ version: behind, percent: 5 });
    await page.click('#reload');
    await expect.poll(() => page.textContent('#version')).toBe(String(behind));

    // Polling: the next tick shows a change made elsewhere, and says how old the data is.
    const later = await changeBehindItsBack(7);
    await page.clock.runFor(5_000);
    await expect.poll(() => page.textContent('#version')).toBe(String(later));
    expect(await page.textContent('#age')).toMatch(/^Data as of .* \(\d+ s old\); refreshes every 5 s$/);

    // The expected failed loads: the first call before signing in (401) and the stale writes (412).
    expectNoJavaScriptErrors(problems, [401, 412]);
    await context.close();
  });

  it('charts canary against stable from the collector, and the guard’s abort is a banner naming the breached metric', async () => {
    // A live 10 % canary, then one minute of traffic in which the canary fails 30 % of its requests.
    await admin('POST', 'resume');
    const ramped = await admin('PUT', 'percent', { percent: 10, reason: 'ramp for the chart test' });
    expect(ramped.status).toBe(200);
    const { version } = await storedState();
    expect((await storedState()).state).toBe('ramping');
    const canary = { cohort: 'canary' as const, assignedCohort: 'canary' as const, configVersion: version };
    const stable = { configVersion: version };
    await world.store([
      ...Array.from({ length: 70 }, () => requestMetric({ ...canary, totalMs: 300 })),
      ...Array.from({ length: 30 }, () =>
        requestMetric({ ...canary, status: 502, outcome: 'error' as const }),
      ),
      ...Array.from({ length: 900 }, () => requestMetric(stable)),
    ]);
    await world.worker.runScheduled();
    const aborted = (await (await admin('GET', 'state')).json()) as {
      state: string;
      guard: { status: string; reasons: { metric: string; message: string }[] };
    };
    expect(aborted.state).toBe('aborted');
    expect(aborted.guard.status).toBe('breach');

    const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
    const page = await context.newPage();
    const problems = watchPage(page);
    await signIn(page);
    await page.locator('#incident').waitFor({ state: 'visible' });
    expect(await page.textContent('#incident-title')).toContain('Canary aborted');
    expect(await page.textContent('#incident-why')).toBe(
      aborted.guard.reasons.map((r) => r.message).join('; '),
    );
    expect(await page.textContent('#incident-why')).toMatch(/error rate/i);
    expect(await page.textContent('#incident')).toContain('By: guard');
    const steps = await page.locator('#timeline li strong').allTextContents();
    expect(steps).toEqual(['breach', 'abort', 'notification']);

    // At least three charts drawn, each with a data table holding both cohorts' points.
    await expect.poll(() => page.locator('svg.plot').count(), { timeout: 10_000 }).toBeGreaterThanOrEqual(3);
    const errors = await chartTable(page, 'errorRate');
    expect(errors).toHaveLength(60);
    // The collector's own per-minute counts (asked with SQL of this test's own): the tables must hold them.
    const counted = await collectorCounts();
    expect(counted.length).toBeGreaterThanOrEqual(2);
    for (const { minute, cohort, requests, failed } of counted) {
      const row = errors.find((r) => r.minute === String(minute))!;
      expect(row[`${cohort} n`], `${cohort} at ${minute}`).toBe(String(requests));
      expect(row[cohort]).toBe(`${Number(((failed * 100) / requests).toFixed(3))} %`);
      expect(row.threshold).toBe('1 %');
    }
    const canaryMinute = counted.find((c) => c.cohort === 'canary')!.minute;
    expect(errors.find((r) => r.minute === String(canaryMinute))!.events).toContain('set-percent by admin');
    expect(errors.map((r) => r.events).join(' ')).toContain('abort by guard');
    const shares = await chartTable(page, 'requestShare');
    const total = (minute: number) =>
      counted.filter((c) => c.minute === minute).reduce((n, c) => n + c.requests, 0);
    for (const { minute, cohort, requests } of counted)
      expect(shares.find((r) => r.minute === String(minute))![cohort]).toBe(
        `${Number(((requests * 100) / total(minute)).toFixed(3))} %`,
      );
    expect(await page.textContent('[data-panel=emailDelivery]')).toContain(
      'Nothing to draw: no email outcomes in the window.',
    );
    // The verdict table reads as `rollout verdict` prints it, unclipped.
    expect(await page.locator('#guard-table tbody tr').first().textContent()).toMatch(
      /^errorRate30\.00 %0\.00 %> 1 %100✗ fail/,
    );
    const verdictBox = await page.locator('#guard-table').boundingBox();
    const cardBox = await page.locator('#guard-table').locator('xpath=ancestor::section').boundingBox();
    expect(verdictBox!.x + verdictBox!.width).toBeLessThanOrEqual(cardBox!.x + cardBox!.width);

    // Undo after the guard's abort says what it brings back.
    await page.click('#do-undo');
    await page.locator('#confirm-yes:enabled').waitFor();
    await page.locator('#confirm-warning').waitFor({ state: 'visible' });
    expect(await page.textContent('#confirm-warning')).toMatch(
      /brings back a canary the guard aborted \(guard: .*error rate/i,
    );
    await page.keyboard.press('Escape');
    await page.locator('#confirm').waitFor({ state: 'hidden' });

    expect(await accessibilityFindings(page)).toEqual([]);
    expect(await axeViolations(page)).toEqual([]);
    if (SCREENSHOTS) await page.screenshot({ path: DESKTOP_PNG, fullPage: true });

    // Phone width: nothing wider than the screen, the charts redrawn to fit.
    const phone = await browser.newContext({
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
    });
    const small = await phone.newPage();
    const smallProblems = watchPage(small);
    await signIn(small);
    await small.locator('#incident').waitFor({ state: 'visible' });
    await expect.poll(() => small.locator('svg.plot').count(), { timeout: 10_000 }).toBeGreaterThanOrEqual(3);
    const widths = await horizontalOverflow(small);
    expect(widths.widest).toEqual([]);
    expect(widths.scroll).toBeLessThanOrEqual(widths.viewport);
    for (const selector of ['#incident', '#state', '#percent-input', '#do-abort', 'svg.plot >> nth=0']) {
      const box = await small.locator(selector).boundingBox();
      expect(box!.x, selector).toBeGreaterThanOrEqual(0);
      expect(box!.x + box!.width, selector).toBeLessThanOrEqual(390);
    }
    expect(await accessibilityFindings(small)).toEqual([]);
    expect(await axeViolations(small)).toEqual([]);
    if (SCREENSHOTS) await small.screenshot({ path: PHONE_PNG, fullPage: true });

    expectNoJavaScriptErrors(problems, [401]);
    expectNoJavaScriptErrors(smallProblems, [401]);
    await Promise.all([context.close(), phone.close()]);
  });

  it('is operable by keyboard: Tab reaches the controls in order, Enter previews, Escape cancels', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
    const page = await context.newPage();
    await signIn(page);
    await expect.poll(() => page.locator('svg.plot').count(), { timeout: 10_000 }).toBeGreaterThanOrEqual(3);
    const order: string[] = [];
    for (let i = 0; i < 40; i++) {
      await page.keyboard.press('Tab');
      order.push(
        (await page.evaluate('document.activeElement.id || document.activeElement.tagName')) as string,
      );
    }
    const at = (id: string) => order.indexOf(id);
    for (const id of ['signout', 'percent-input', 'do-undo', 'reason', 'kill-canary'])
      expect(order, id).toContain(id);
    expect(at('percent-input')).toBeLessThan(at('do-undo'));
    expect(at('do-undo')).toBeLessThan(at('reason'));
    expect(at('reason')).toBeLessThan(at('kill-canary'));
    await page.focus('#percent-input');
    await page.fill('#percent-input', '3');
    await page.keyboard.press('Enter');
    await page.locator('#confirm-yes:enabled').waitFor();
    expect(await page.evaluate('document.activeElement.id')).toBe('confirm-yes');
    await page.keyboard.press('Escape');
    await page.locator('#confirm').waitFor({ state: 'hidden' });
    await context.close();
  });

  it('keeps the cockpit credential away from the app’s origin: sessionStorage is per origin and the app host refuses Access', async () => {
    const context = await browser.newContext();
    // Cloudflare Access, as it would sit in front of the cockpit's origin only: its JWT on each request there.
    const jwt = await world.accessJwt('ops@example.com');
    await context.route(`${world.cockpitOrigin}/**`, (route) =>
      route.continue({ headers: { ...route.request().headers(), 'cf-access-jwt-assertion': jwt } }),
    );
    const page = await context.newPage();
    const problems = watchPage(page);
    await page.goto(`${world.cockpitOrigin}/__rollout/`);
    // Signed in by Access alone: a name, no token stored, and no 401 logged before sign-in.
    await expect.poll(() => page.textContent('#who')).toBe('Signed in as ops@example.com');
    expect(await page.evaluate('Object.keys(sessionStorage)')).toEqual([]);
    await page.evaluate(`sessionStorage.setItem('edge-rollout-admin-token', ${JSON.stringify(TOKEN)})`);
    expectNoJavaScriptErrors(problems, []);

    // The app's origin, in the same tab: a script there sees no cockpit storage ...
    await page.goto(`${world.worker.url}/html`);
    expect(await page.evaluate('Object.keys(sessionStorage)')).toEqual([]);
    // ... and cannot use an Access JWT or cookie on the app's host: only a bearer counts there.
    const fromApp = (await page.evaluate(`(async () => {
      const jwt = ${JSON.stringify(jwt)};
      const withJwt = await fetch('/__rollout/state', { headers: { 'cf-access-jwt-assertion': jwt } });
      document.cookie = 'CF_Authorization=' + jwt + '; path=/';
      const withCookie = await fetch('/__rollout/state', { credentials: 'include' });
      let cross = 'no answer';
      try {
        const r = await fetch(${JSON.stringify(`${world.cockpitOrigin}/__rollout/state`)}, { credentials: 'include' });
        cross = String(r.status);
      } catch (error) { cross = 'blocked'; }
      return { withJwt: withJwt.status, withCookie: withCookie.status, cross };
    })()`)) as { withJwt: number; withCookie: number; cross: string };
    expect(fromApp).toEqual({ withJwt: 401, withCookie: 401, cross: 'blocked' });
    await context.close();
  });

  it('answers /__rollout/me on the app host from the edge: this browser’s cohort and flags, no credential, no script', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const problems = watchPage(page);
    await page.goto(`${world.worker.url}/__rollout/me`);
    expect(await page.textContent('#no-id')).toContain('has no visitor cookie rollout_id yet');
    await page.goto(`${world.worker.url}/html`);
    await page.goto(`${world.worker.url}/__rollout/me`);
    expect(await page.textContent('#cohort')).toBe('stable');
    expect(await page.textContent('main')).toMatch(
      /\(cookie rollout_id\) is in stable \(bucket \d+, ABORTED\)/,
    );
    const response = await fetch(`${world.worker.url}/__rollout/me.json`, {
      headers: { cookie: 'rollout_id=visitor-000001' },
    });
    expect(response.headers.get('content-security-policy')).toBe(
      "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
    expect(await response.json()).toMatchObject({
      source: 'cookie rollout_id',
      routing: { cohort: 'stable', reason: 'ABORTED' },
      override: null,
    });
    expectNoJavaScriptErrors(problems, []);
    await context.close();
  });

  it('serves the page with a strict CSP on its own origin only, and nothing from the assets outside its own files', async () => {
    const page = await world.getOnCockpitHost('/__rollout/');
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
    expect(page.body).not.toMatch(/https?:\/\//);
    expect(page.body).not.toMatch(/<script>|<style>| style=/);
    const onApp = await fetch(`${world.worker.url}/__rollout/`, { redirect: 'manual' });
    expect(onApp.status).toBe(302);
    expect(onApp.headers.get('location')).toBe(`${world.cockpitOrigin}/__rollout/`);
    for (const file of ['cockpit.js', 'cockpit-charts.js', 'cockpit.css'])
      expect((await fetch(`${world.worker.url}/__rollout/${file}`)).status, file).toBe(404);
    // The asset files exist at the root of the assets, yet only the Worker's routes reach them.
    for (const path of ['/cockpit.js', '/index.html', '/openapi.json']) {
      const response = await fetch(`${world.worker.url}${path}`);
      expect(response.headers.get('x-rollout-cohort'), path).toMatch(/^(stable|canary)$/);
      expect(await response.text(), path).not.toMatch(/sessionStorage|edge-rollout cockpit|"openapi"/);
    }
    expect((await world.getOnCockpitHost('/__rollout/openapi.json')).status).toBe(401);
    expect((await world.getOnCockpitHost('/__rollout/index.html')).status).toBe(404);
  });
});
