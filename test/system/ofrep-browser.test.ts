import { build } from 'esbuild';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, watchPage } from '../support/browser/chromium';
import { localWorkerBehindEchoOrigins } from '../support/local-worker/wrangler-dev-behind-echo-origins';
import type { EchoBody } from '../support/loopback/echo-origin';
import { putLocalKv } from '../support/wrangler-stub/local-kv';

// The stock OpenFeature web SDK and OFREP web provider in Chromium, on a page served through the
// Worker: with no targetingKey, the visitor's cookie decides, and the answers equal both
// window.__FLAGS__ on the same page and the x-feature-flags header the origin received.

const VISITORS = 12;
const FLAG_NAMES = ['fileStorage', 'templates', 'emailDelivery', 'analytics', 'invoiceTemplateVersion'];
/** The typed flag: a string with two variants split 50/50 (read with getStringDetails). */
const STRING_FLAGS = ['invoiceTemplateVersion'];
const CONFIG = {
  version: 5,
  rollout: { percent: 40, salt: 'ofrep-browser', state: 'ramping' },
  bootstrapFlags: true,
  flags: {
    fileStorage: { enabled: true, percent: 50 },
    templates: { enabled: true, percent: 50, seed: 'templates-v2' },
    emailDelivery: { enabled: false },
    analytics: { enabled: true, percent: 100 },
    invoiceTemplateVersion: {
      type: 'string',
      variants: { classic: 'v1', modern: 'v2' },
      offVariant: 'classic',
      enabled: true,
      fallthrough: { split: { classic: 50, modern: 50 } },
    },
  },
};

// Bundled for the browser by esbuild (the one wrangler uses): the page gets `window.readOfrepFlags`.
const ENTRY = `
import { OpenFeature } from '@openfeature/web-sdk';
import { OFREPWebProvider } from '@openfeature/ofrep-web-provider';
window.readOfrepFlags = async (names, stringNames) => {
  await OpenFeature.setProviderAndWait(
    new OFREPWebProvider({ baseUrl: window.location.origin, cacheMode: 'disabled', pollInterval: 0 }),
  );
  const client = OpenFeature.getClient();
  return Object.fromEntries(names.map((name) => {
    const details = stringNames.includes(name) ? client.getStringDetails(name, '') : client.getBooleanDetails(name, false);
    return [name, { value: details.value, reason: details.reason, errorCode: details.errorCode ?? null }];
  }));
};`;

describe('the OpenFeature web SDK in Chromium, on a page served through the Worker', () => {
  const world = localWorkerBehindEchoOrigins({ CONFIG_CACHE_SECONDS: '1' });
  let browser: Browser;
  let bundle: string;

  beforeAll(async () => {
    const built = await build({
      stdin: { contents: ENTRY, resolveDir: process.cwd(), loader: 'js' },
      bundle: true,
      format: 'iife',
      platform: 'browser',
      write: false,
      logLevel: 'silent',
    });
    bundle = built.outputFiles[0]!.text;
    await putLocalKv(world.worker.persistDir, 'config', JSON.stringify(CONFIG));
    for (let attempt = 0; ; attempt++) {
      const probe = await fetch(`${world.worker.url}/ofrep/flags`);
      if (((await probe.json()) as { configVersion: number }).configVersion === CONFIG.version) break;
      if (attempt > 60) throw new Error('the config never reached the Worker');
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
  });

  it(`gives ${VISITORS} browser visitors, by cookie alone, the flags of window.__FLAGS__ and of the origin header`, async () => {
    let split = 0;
    for (let i = 0; i < VISITORS; i++) {
      const context = await browser.newContext();
      const page = await context.newPage();
      const problems = watchPage(page);
      await page.goto(`${world.worker.url}/html`);
      const cookies = await context.cookies();
      expect(cookies.map((c) => c.name)).toContain('rollout_id');
      const bootstrap = (await page.evaluate('window.__FLAGS__')) as Record<string, unknown>;
      await page.addScriptTag({ content: bundle });
      const ofrep = (await page.evaluate(
        `window.readOfrepFlags(${JSON.stringify(FLAG_NAMES)}, ${JSON.stringify(STRING_FLAGS)})`,
      )) as Record<string, { value: unknown; reason: string; errorCode: string | null }>;
      const echo = (await page.evaluate(`fetch('/api/echo').then((r) => r.json())`)) as EchoBody;
      const header = JSON.parse(String(echo.headers['x-feature-flags'])) as Record<string, unknown>;
      for (const name of FLAG_NAMES) {
        expect(ofrep[name]!.errorCode, name).toBeNull();
        expect(ofrep[name]!.value, name).toBe(bootstrap[name]);
        expect(ofrep[name]!.value, name).toBe(header[name]);
      }
      expect(['v1', 'v2']).toContain(header.invoiceTemplateVersion);
      if (ofrep.templates!.reason === 'SPLIT') split++;
      expect(problems.errors).toEqual([]);
      await context.close();
    }
    console.log(
      `ofrep-browser: ${VISITORS} visitors × ${FLAG_NAMES.length} flags equal; templates SPLIT for ${split}`,
    );
  });
});
