import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/local-worker/wrangler-dev';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const execFileAsync = promisify(execFile);

/** One `npm start` (or `node scripts/demo/start-demo.mjs`) under test. */
interface Demo {
  child: ChildProcess;
  port: number;
  url: string;
  output: () => string;
  /** The `export ROLLOUT_URL=… ROLLOUT_TOKEN=…` values the banner printed. */
  token: string;
  /** Sends a signal to the demo's own process and resolves once it has exited (false: it did not). */
  stop: (signal?: NodeJS.Signals) => Promise<boolean>;
}

const started: Demo[] = [];

async function startDemo(
  options: { env?: Record<string, string>; args?: string[]; viaNpm?: boolean } = {},
): Promise<Demo> {
  const port = await freePort();
  const [program, args] = options.viaNpm
    ? ['npm', ['start', '--silent', ...(options.args?.length ? ['--', ...options.args] : [])]]
    : ['node', ['scripts/demo/start-demo.mjs', ...(options.args ?? [])]];
  const child = spawn(program, args, {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), NO_COLOR: '1', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const demo: Demo = {
    child,
    port,
    url: `http://127.0.0.1:${port}`,
    output: () => output,
    token: '',
    stop: async (signal = 'SIGINT') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return Promise.race([exited.then(() => true), sleep(20_000).then(() => false)]);
    },
  };
  started.push(demo);
  const deadline = Date.now() + 90_000;
  while (!output.includes('Ctrl-C stops everything') && Date.now() < deadline && child.exitCode === null)
    await sleep(250);
  expect(output, 'the demo banner').toContain('Ctrl-C stops everything');
  const exported = new RegExp(`export ROLLOUT_URL=(\\S+) ROLLOUT_TOKEN=(\\S+)`).exec(output);
  expect(exported?.[1]).toBe(demo.url);
  demo.token = exported![2]!;
  return demo;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function admin(demo: Demo, method: string, path: string, body?: object) {
  const response = await fetch(`${demo.url}/__rollout${path}`, {
    method,
    headers: { authorization: `Bearer ${demo.token}`, 'content-type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Fresh visitors' cohorts, asked until every one of `count` is `expected` or `ms` have passed. */
async function allCohortsWithin(demo: Demo, expected: string, ms: number, count = 10): Promise<string[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const cohorts: string[] = [];
    for (let i = 0; i < count; i++)
      cohorts.push((await fetch(`${demo.url}/`)).headers.get('x-rollout-cohort') ?? 'none');
    if (cohorts.every((cohort) => cohort === expected) || Date.now() > deadline) return cohorts;
    await sleep(500);
  }
}

/** Whether anything answers on the port. */
async function answers(port: number): Promise<boolean> {
  try {
    await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) });
    return true;
  } catch {
    return false;
  }
}

/** Command lines of every process on the machine (Linux /proc), as text. */
function allCommandLines(): string[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      } catch {
        return '';
      }
    });
}

afterAll(async () => {
  for (const demo of started) await demo.stop('SIGTERM');
});

describe('npm start (the local demo)', () => {
  it('serves the split with seeded flags, prints one export line for the CLI and curl, and stops on Ctrl-C', async () => {
    const state = mkdtempSync(join(tmpdir(), 'edge-rollout-demo-'));
    try {
      const demo = await startDemo({ env: { DEMO_STATE_DIR: state } });
      expect(demo.token.length).toBeGreaterThanOrEqual(32);

      const cohorts = { stable: 0, canary: 0 } as Record<string, number>;
      for (let i = 0; i < 60; i++) {
        const response = await fetch(`${demo.url}/`);
        const html = await response.text();
        const cohort = response.headers.get('x-rollout-cohort')!;
        cohorts[cohort]!++;
        expect(html).toContain(cohort === 'canary' ? 'Invoicing app v2' : 'Invoicing app v1');
        expect(html).toMatch(
          /window\.__FLAGS__=\{"fileStorage":(true|false),"templates":(true|false),"emailDelivery":false,"analytics":true\}/,
        );
      }
      // 10 % of 60 fresh visitors: a handful on the canary, most on stable.
      expect(cohorts.stable).toBeGreaterThan(40);
      const { body: seeded } = await admin(demo, 'GET', '/state');
      expect(seeded).toMatchObject({ state: 'ramping', percent: 10 });
      expect(Object.keys((seeded.config as { flags: object }).flags)).toEqual([
        'fileStorage',
        'templates',
        'emailDelivery',
        'analytics',
      ]);

      // The CLI works with the printed export line as it is.
      const env = { ...process.env, ROLLOUT_URL: demo.url, ROLLOUT_TOKEN: demo.token };
      const status = await execFileAsync('node', ['bin/rollout.mjs', 'status'], { cwd: ROOT, env });
      expect(status.stdout).toMatch(/^State {5}ramping\nPercent {3}10 %/);

      // The printed "watch the split" line runs as printed and counts cohorts.
      const watch = /Watch the split:\s+(.+)$/m.exec(demo.output())![1]!;
      const watched = await execFileAsync('bash', ['-c', watch], { cwd: ROOT, env });
      const counted = [...watched.stdout.matchAll(/(\d+) x-rollout-cohort: (stable|canary)/g)];
      expect(counted.reduce((sum, match) => sum + Number(match[1]), 0)).toBe(20);

      // QA override links work locally: the demo sets OVERRIDE_SECRET.
      const link = await admin(demo, 'POST', '/override-link', { cohort: 'canary', ttlSeconds: 600 });
      expect(link.status).toBe(200);
      expect(link.body.url).toMatch(/^http/);

      // Offline by design: no update check, no Request.cf download, no stack traces.
      expect(demo.output()).not.toMatch(/ENOTFOUND|update available|at GetAddrInfoReqWrap/);
      // The admin token is on no command line that ps shows.
      expect(allCommandLines().filter((line) => line.includes(demo.token))).toEqual([]);

      expect(await demo.stop('SIGINT')).toBe(true);
      expect(await answers(demo.port)).toBe(false);
    } finally {
      rmSync(state, { recursive: true, force: true });
    }
  });

  it('starts from a clean state each time, unless told to keep it (--keep-state)', async () => {
    const state = mkdtempSync(join(tmpdir(), 'edge-rollout-demo-'));
    try {
      const first = await startDemo({ env: { DEMO_STATE_DIR: state } });
      expect(first.output()).toMatch(/State: +\S+ \(fresh;/);
      const initial = await admin(first, 'GET', '/state');
      expect((await admin(first, 'PUT', '/percent', { percent: 50, reason: 'first run' })).status).toBe(200);
      expect((await admin(first, 'PUT', '/kill', { flags: ['templates'] })).status).toBe(200);
      expect(await first.stop('SIGTERM')).toBe(true);

      const kept = await startDemo({ env: { DEMO_STATE_DIR: state }, args: ['--keep-state'] });
      expect(kept.output()).toMatch(/State: +\S+ \(kept from the last run;/);
      const carried = await admin(kept, 'GET', '/state');
      expect(carried.body).toMatchObject({ percent: 50, kill: { flags: ['templates'] } });
      expect(await kept.stop('SIGHUP')).toBe(true);

      const again = await startDemo({ env: { DEMO_STATE_DIR: state } });
      const fresh = await admin(again, 'GET', '/state');
      expect(fresh.body).toMatchObject({ percent: 10, version: initial.body.version });
      expect(fresh.body.kill).toMatchObject({ canary: false, flags: [], raw: null });
      const audit = await admin(again, 'GET', '/audit?limit=100');
      expect(JSON.stringify(audit.body)).not.toContain('first run');
      expect(await again.stop('SIGINT')).toBe(true);
    } finally {
      rmSync(state, { recursive: true, force: true });
    }
  });

  it('stops wrangler and workerd when npm start is killed, and a busy port gets one clear line', async () => {
    const state = mkdtempSync(join(tmpdir(), 'edge-rollout-demo-'));
    try {
      const demo = await startDemo({ env: { DEMO_STATE_DIR: state }, viaNpm: true });
      // SIGKILL: npm cannot pass anything on, and its `sh -c` is left behind.
      demo.child.kill('SIGKILL');
      const deadline = Date.now() + 20_000;
      while ((await answers(demo.port)) && Date.now() < deadline) await sleep(500);
      expect(await answers(demo.port)).toBe(false);
      await sleep(1000);
      expect(allCommandLines().filter((line) => line.includes(state))).toEqual([]);

      // A token the Worker would refuse is refused before anything starts.
      const short = await execFileAsync('node', ['scripts/demo/start-demo.mjs'], {
        cwd: ROOT,
        env: { ...process.env, PORT: String(demo.port), ADMIN_TOKEN: 'too-short' },
      }).catch((error: { code: number; stderr: string }) => error);
      expect(short).toMatchObject({
        code: 2,
        stderr: expect.stringMatching(/^ADMIN_TOKEN must be 32 or more/),
      });

      const holder = createServer().listen(demo.port, '127.0.0.1');
      await new Promise((resolve) => holder.once('listening', resolve));
      try {
        const refused = await execFileAsync('node', ['scripts/demo/start-demo.mjs'], {
          cwd: ROOT,
          env: { ...process.env, PORT: String(demo.port), DEMO_STATE_DIR: state },
        }).then(
          () => ({ code: 0, stdout: '', stderr: '' }),
          (error: { code: number; stdout: string; stderr: string }) => error,
        );
        expect(refused.code).toBe(1);
        expect(refused.stdout).toBe('');
        expect(refused.stderr).toBe(
          `Port ${demo.port} on 127.0.0.1 is in use (another npm start still running?). Stop it, or use another port: PORT=8787 npm start\n`,
        );
      } finally {
        holder.close();
      }
    } finally {
      rmSync(state, { recursive: true, force: true });
    }
  });

  it('the local kill switch command in KILL-SWITCH.md works against npm start as written', async () => {
    const doc = readFileSync(join(ROOT, 'docs/KILL-SWITCH.md'), 'utf8');
    const documented = doc.split('\n').filter((line) => line.includes('--persist-to .wrangler/demo-state'));
    const put = documented.find((line) => line.includes(' put '))!;
    const remove = documented.find((line) => line.includes(' delete '))!;
    expect([put, remove]).toEqual([
      'npx wrangler kv key put --binding=ROLLOUT --local --persist-to .wrangler/demo-state kill "canary"',
      'npx wrangler kv key delete --binding=ROLLOUT --local --persist-to .wrangler/demo-state kill',
    ]);

    // The default state directory, as `npm start` uses it, and an ADMIN_TOKEN of the user's own.
    const own = 'demo-token-of-my-own-0123456789abcdef';
    const demo = await startDemo({ env: { DEMO_STATE_DIR: '', ADMIN_TOKEN: own } });
    expect(demo.token).toBe(own);
    expect(demo.output()).toContain(`Kill switch (KV):  ${put}`);
    expect(demo.output()).toContain(`Lift it:           ${remove}`);
    expect((await admin(demo, 'PUT', '/percent', { percent: 100 })).status).toBe(200);
    expect(await allCohortsWithin(demo, 'canary', 10_000)).toEqual(Array(10).fill('canary'));

    const env = { ...process.env, WRANGLER_SEND_METRICS: 'false' };
    await execFileAsync('bash', ['-c', put], { cwd: ROOT, env });
    expect(await allCohortsWithin(demo, 'stable', 15_000)).toEqual(Array(10).fill('stable'));
    expect((await admin(demo, 'GET', '/state')).body.kill).toMatchObject({
      canary: true,
      sources: { hand: 'canary' },
    });

    await execFileAsync('bash', ['-c', remove], { cwd: ROOT, env });
    expect(await allCohortsWithin(demo, 'canary', 15_000)).toEqual(Array(10).fill('canary'));
    expect(await demo.stop('SIGINT')).toBe(true);
  });
});
