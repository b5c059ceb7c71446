import { existsSync } from 'node:fs';
import { chromium, type Browser, type ConsoleMessage, type Page } from 'playwright-core';

/** Debian's chromium, which `.ci/run` installs with apt-get; playwright-core downloads none. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * Starts headless chromium. `--no-sandbox`: CI runs as root, where chromium's sandbox refuses to
 * start; the rest keep it from calling anywhere (updates, sync, field trials) during a test.
 * Chromium resolves every `*.localhost` name to loopback by itself, so the cockpit's own origin
 * (`cockpit.localhost:PORT`) needs no hosts file. Bounded: gives up after 30 s.
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH))
    throw new Error(
      `${CHROMIUM_PATH} is missing: install Debian's chromium (apt-get install -y chromium), as .ci/run does`,
    );
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, timeout: 30_000 });
}

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--headless',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** What a page said on its console and threw, kept for the test's final check. */
export interface PageProblems {
  /** Uncaught exceptions and `console.error` calls: any of them fails a test. */
  errors: string[];
  /** HTTP statuses the browser logged as failed loads (e.g. an expected 401 or 412). */
  failedLoads: number[];
}

// Chromium logs every non-2xx fetch as a console error; those are answers, not script errors.
const FAILED_LOAD = /^Failed to load resource: the server responded with a status of (\d{3})/;

/**
 * Records everything a page reports that could be a JavaScript error: uncaught exceptions,
 * `console.error`, and CSP violations (which chromium logs as console errors). Failed HTTP
 * loads are kept apart, by status, so a test can say which ones it expected.
 */
export function watchPage(page: Page): PageProblems {
  const problems: PageProblems = { errors: [], failedLoads: [] };
  page.on('pageerror', (error) => problems.errors.push(`uncaught: ${error.message}`));
  page.on('console', (message: ConsoleMessage) => {
    if (message.type() !== 'error') return;
    const failed = FAILED_LOAD.exec(message.text());
    if (failed) problems.failedLoads.push(Number(failed[1]));
    else problems.errors.push(`console.error: ${message.text()}`);
  });
  return problems;
}
