import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, watchPage, type PageProblems } from '../support/browser/chromium';
import { localWorkerBehindEchoOrigins } from '../support/local-worker/wrangler-dev-behind-echo-origins';

const TOKEN = 'cockpit-browser-token-0123456789';
const SCREENSHOT = fileURLToPath(new URL('../../docs/cockpit.png', import.meta.url));

describe('the cockpit in a real browser (Debian chromium, wrangler dev, two loopback origins)', () => {
  const world = localWorkerBehindEchoOrigins({ ADMIN_TOKEN: TOKEN, CONFIG_CACHE_SECONDS: '1' });
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  // A change made behind the page's back, as another operator (or the CLI) would make it.
  async function changeBehindItsBack(percent: number): Promise<number> {
    const response = await fetch(`${world.worker.url}/__rollout/percent`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ percent, reason: 'changed from another terminal' }),
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as { version: number }).version;
  }

  async function storedState(): Promise<{ version: number; percent: number; state: string }> {
    const response = await fetch(`${world.worker.url}/__rollout/state`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    return (await response.json()) as { version: number; percent: number; state: string };
  }

  async function signIn(page: Page): Promise<void> {
    await page.goto(`${world.worker.url}/__rollout/`);
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

  it('signs in with the token, previews and confirms a ramp, aborts, and shows a 412 when the config changed behind it', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
    const page = await context.newPage();
    const problems = watchPage(page);
    // The page's timers run only when the test says so: polling is then a step of the test.
    await page.clock.install();
    // A visit to the app first, so that the browser has a visitor cookie of its own.
    await page.goto(`${world.worker.url}/welcome`);

    await signIn(page);
    expect(await page.evaluate('Object.keys(sessionStorage)')).toEqual(['edge-rollout-admin-token']);
    await expect.poll(() => page.textContent('#state')).toBe('idle');
    const start = (await storedState()).version;
    expect(await page.textContent('#version')).toBe(String(start));
    await expect.poll(() => page.textContent('#visitor')).toMatch(/is in stable \(bucket \d+, NOT_LIVE\)/);

    // Ramp to 10 %: the preview says exactly what moves before anything is written.
    const rampLines = await previewAndRead(page, async () => {
      await page.fill('#percent-input', '10');
      await page.click('#set-percent button[type=submit]');
    });
    expect(rampLines[0]).toBe('10 % of visitors move from stable to canary (exact).');
    expect((await storedState()).version).toBe(start);
    await page.click('#confirm-yes');
    await expect.poll(() => page.textContent('#version')).toBe(String(start + 1));
    expect(await page.textContent('#state')).toBe('ramping');
    expect(await page.textContent('#percent')).toBe('10 % canary');
    expect(await page.textContent('#notice')).toContain(`done, now version ${start + 1}`);

    // Abort: everyone in the canary goes back, and the audit timeline shows it first.
    await page.fill('#reason', 'browser test abort');
    const abortLines = await previewAndRead(page, () => page.click('#do-abort'));
    expect(abortLines[0]).toBe('10 % of visitors move from canary to stable (exact).');
    await page.click('#confirm-yes');
    await expect.poll(() => page.textContent('#state')).toBe('aborted');
    await expect
      .poll(() => page.locator('#audit li').first().textContent())
      .toMatch(new RegExp(`abort by token → v${start + 2} — browser test abort`));
    expect(await page.textContent('#last')).toMatch(/^abort by token at .* \(v\d+\): browser test abort$/);

    // A change behind the page's back between the preview and the confirmation: 412, shown, not retried.
    await page.fill('#reason', '');
    await previewAndRead(page, async () => {
      await page.fill('#percent-input', '20');
      await page.click('#set-percent button[type=submit]');
    });
    const behind = await changeBehindItsBack(5);
    await page.click('#confirm-yes');
    await page.locator('#conflict').waitFor({ state: 'visible' });
    expect(await page.textContent('#conflict')).toContain('Someone changed it meanwhile.');
    expect(await page.textContent('#conflict')).toContain(
      `no longer version ${start + 2}, so nothing was changed`,
    );
    expect(await storedState()).toMatchObject({ version: behind, percent: 5 });
    await page.click('#reload');
    await expect.poll(() => page.textContent('#version')).toBe(String(behind));
    expect(await page.textContent('#percent')).toBe('5 % canary');

    // Polling: the next tick shows a change made elsewhere, and says how old the data is.
    const later = await changeBehindItsBack(7);
    await page.clock.runFor(5_000);
    await expect.poll(() => page.textContent('#version')).toBe(String(later));
    const age = async () => Number(/\((\d+) s old\)/.exec((await page.textContent('#age')) ?? '')?.[1]);
    expect(await page.textContent('#age')).toMatch(/^Data as of .* \(\d+ s old\); refreshes every 5 s$/);
    const fresh = await age();
    await page.clock.runFor(3_000);
    expect((await age()) - fresh).toBeGreaterThanOrEqual(2);

    // The picture in the README: a ramp with its preview open.
    await page.fill('#percent-input', '25');
    await previewAndRead(page, () => page.click('#set-percent button[type=submit]'));
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    await page.click('#confirm-no');

    // The expected failed loads: the first call before signing in (401) and the stale write (412).
    expect(problems.failedLoads).toContain(401);
    expect(problems.failedLoads).toContain(412);
    expectNoJavaScriptErrors(problems, [401, 412]);
    await context.close();
  });

  it('is readable at a phone width: no sideways scrolling, the state and the controls on screen', async () => {
    const context = await browser.newContext({
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
    });
    const page = await context.newPage();
    const problems = watchPage(page);
    await signIn(page);
    await expect.poll(() => page.textContent('#version')).toMatch(/^\d+$/);
    // Evaluated in the page (a string: the test's own types have no DOM).
    const widths = (await page.evaluate(
      '({ scroll: document.documentElement.scrollWidth, viewport: window.innerWidth })',
    )) as { scroll: number; viewport: number };
    expect(widths.scroll).toBeLessThanOrEqual(widths.viewport);
    for (const selector of ['#state', '#percent', '#percent-input', '#set-percent button', '#do-abort']) {
      const box = await page.locator(selector).boundingBox();
      expect(box, selector).not.toBeNull();
      expect(box!.x, selector).toBeGreaterThanOrEqual(0);
      expect(box!.x + box!.width, selector).toBeLessThanOrEqual(390);
    }
    expectNoJavaScriptErrors(problems, [401]);
    await context.close();
  });

  it('serves the page with a strict CSP, and nothing from the assets outside its own files', async () => {
    const page = await fetch(`${world.worker.url}/__rollout/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
    const html = await page.text();
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/<script>|<style>| style=/);
    expect(
      (await fetch(`${world.worker.url}/__rollout`, { redirect: 'manual' })).headers.get('location'),
    ).toBe('/__rollout/');
    // The asset files exist at the root of the assets, yet only the Worker's routes reach them.
    for (const path of ['/cockpit.js', '/index.html', '/openapi.json']) {
      const response = await fetch(`${world.worker.url}${path}`);
      // Proxied to an origin like any app path (the ramp above may send it to either one).
      expect(response.headers.get('x-rollout-cohort'), path).toMatch(/^(stable|canary)$/);
      expect(await response.text(), path).not.toMatch(/sessionStorage|edge-rollout cockpit|"openapi"/);
    }
    expect((await fetch(`${world.worker.url}/__rollout/openapi.json`)).status).toBe(401);
    expect((await fetch(`${world.worker.url}/__rollout/index.html`)).status).toBe(404);
  });
});
