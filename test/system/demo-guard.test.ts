import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { freePort } from '../support/local-worker/wrangler-dev';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const execFileAsync = promisify(execFile);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The bound the guard has to act in, from the moment the demo prints its banner. */
const ABORT_WITHIN_MS = 4 * 60_000;

describe('npm start -- --scenario bad-canary (the guard acts in the demo)', () => {
  it(
    'aborts the failing canary within 4 minutes, shown by the demo log, rollout status and the audit, while no visitor GET fails',
    async () => {
      const port = await freePort();
      const state = mkdtempSync(join(tmpdir(), 'edge-rollout-demo-guard-'));
      const child = spawn('npm', ['start', '--silent', '--', '--scenario', 'bad-canary'], {
        cwd: ROOT,
        env: { ...process.env, PORT: String(port), DEMO_STATE_DIR: state, NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
        // Its own process group, so that Ctrl-C can be sent as a terminal sends it: to the group.
        detached: true,
      });
      let output = '';
      child.stdout.on('data', (chunk) => (output += chunk));
      child.stderr.on('data', (chunk) => (output += chunk));
      let stoppedOnCtrlC = false;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      const url = `http://127.0.0.1:${port}`;
      // Fresh visitors (no cookie) land on the canary at the configured 10 %; every one must get a
      // page, because the splitter fails GETs over to stable when the canary answers 503.
      const seen = { sent: 0, failed: [] as string[], canary: 0 };
      let visiting = true;
      let ready!: () => void;
      const started = new Promise<void>((resolve) => (ready = resolve));
      const visitors = (async () => {
        await started;
        while (visiting) {
          try {
            const response = await fetch(`${url}/invoices?n=${seen.sent}`, {
              signal: AbortSignal.timeout(15_000),
            });
            const body = await response.text();
            if (response.status >= 500) seen.failed.push(`${response.status} ${body.slice(0, 80)}`);
            if (body.includes('Invoicing app v2')) seen.canary++;
          } catch (error) {
            if (visiting) seen.failed.push(String(error));
          }
          seen.sent++;
          await sleep(200);
        }
      })();
      try {
        const bannerDeadline = Date.now() + 90_000;
        while (
          !output.includes('Ctrl-C stops everything') &&
          Date.now() < bannerDeadline &&
          child.exitCode === null
        )
          await sleep(250);
        expect(output, 'the demo banner').toContain('Scenario:   bad-canary');
        const token = /export ROLLOUT_URL=\S+ ROLLOUT_TOKEN=(\S+)/.exec(output)![1]!;
        const readyAt = Date.now();
        ready();

        while (!output.includes('THE GUARD ABORTED THE CANARY') && Date.now() - readyAt < ABORT_WITHIN_MS)
          await sleep(1000);
        const tookMs = Date.now() - readyAt;
        expect(output, 'the abort banner in the demo log').toContain('THE GUARD ABORTED THE CANARY');
        console.log(`guard aborted ${Math.round(tookMs / 1000)} s after the demo was ready`);
        expect(output).toMatch(/Why:\s+canary error rate \d+\.\d+ % > 1(\.00)? %/);

        const admin = await fetch(`${url}/__rollout/state`, {
          headers: { authorization: `Bearer ${token}` },
        });
        const view = (await admin.json()) as {
          state: string;
          percent: number;
          guard: { status: string; action: { type: string }; table: { metric: string; class: string }[] };
        };
        expect(view).toMatchObject({ state: 'aborted', percent: 0 });
        expect(view.guard).toMatchObject({ status: 'breach', action: { type: 'aborted' } });
        expect(view.guard.table.find((row) => row.metric === 'errorRate')?.class).toBe('fail');

        const cli = { ...process.env, ROLLOUT_URL: url, ROLLOUT_TOKEN: token, NO_COLOR: '1' };
        const status = await execFileAsync('node', ['bin/rollout.mjs', 'status'], { cwd: ROOT, env: cli });
        expect(status.stdout).toMatch(/^State\s+aborted$/m);
        expect(status.stdout).toMatch(/Guard\s+breach at/);
        expect(status.stdout).toMatch(/action: aborted/);
        const audit = await execFileAsync('node', ['bin/rollout.mjs', 'audit', '--limit', '5'], {
          cwd: ROOT,
          env: cli,
        });
        expect(audit.stdout).toMatch(
          /guard\s+abort\s+\d+\s+ramping → aborted; percent 10 → 0\s+guard: canary error rate/,
        );

        // The visitors: the demo's own stream and this test's; some reached the failing canary,
        // none saw an error.
        visiting = false;
        await visitors;
        // About five a second until the abort, which comes 20–40 s after ready.
        expect(seen.sent).toBeGreaterThanOrEqual(50);
        expect(seen.canary, 'some of the test visitors were served by the canary').toBeGreaterThan(0);
        expect(seen.failed).toEqual([]);
        expect(output).not.toContain('visitor saw a failure');
        expect(output).toMatch(/guard: breach, aborted .*visitors: \d+ GETs, 0 failed/);
      } finally {
        visiting = false;
        ready();
        await visitors;
        if (child.exitCode === null) process.kill(-child.pid!, 'SIGINT');
        const stopped = await Promise.race([exited.then(() => true), sleep(20_000).then(() => false)]);
        rmSync(state, { recursive: true, force: true });
        // Asserted after the block, so that a failure above is never masked by this one.
        stoppedOnCtrlC = stopped;
      }
      expect(stoppedOnCtrlC, 'the demo stops on Ctrl-C').toBe(true);
      await expect(fetch(url, { signal: AbortSignal.timeout(2000) })).rejects.toThrow();
    },
    ABORT_WITHIN_MS + 3 * 60_000,
  );
});
