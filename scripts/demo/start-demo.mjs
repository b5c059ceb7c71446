#!/usr/bin/env node
// `npm start`: the local demo. Two demo origins (stable v1, canary v2), local KV seeded with a
// 10 % canary and the four invoicing flags, and both Workers (`npm run dev`) wired to them. No Cloudflare
// account and no network needed. Ctrl-C stops everything, and so does the end of the process
// that started it (a closed terminal, `kill` of `npm start`).
//
//   npm start                    a fresh demo: the last run's config, audit and kill switch are gone
//   npm start -- --keep-state    carry on from the last run's state
//   npm start -- --verbose       also show wrangler's line per request (off: about 5 a second)
//
// Environment: PORT (default 8787), ADMIN_TOKEN (32+ characters; a fresh one otherwise),
// DEMO_STATE_DIR (default .wrangler/demo-state), DEMO_KEEP_STATE=1 (same as --keep-state).
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDemoOrigin } from './demo-origin.mjs';
import { startGuardDemo, takeScenario } from './guard-demo.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const fail = (message, code = 2) => {
  console.error(message);
  process.exit(code);
};

// `--scenario NAME` picks what the canary origin does (guard-demo.mjs).
const scenarioArg = takeScenario(process.argv.slice(2));
if ('error' in scenarioArg) fail(scenarioArg.error);
const args = scenarioArg.rest;
const FLAGS = ['--keep-state', '--verbose'];
if (args.some((arg) => !FLAGS.includes(arg)))
  fail(
    `usage: npm start [-- --keep-state] [-- --verbose] [-- --scenario bad-canary] (unknown: ${args.filter((a) => !FLAGS.includes(a)).join(' ')})`,
  );
const keepState = args.includes('--keep-state') || process.env.DEMO_KEEP_STATE === '1';
// wrangler logs one line per request at info level; the banner and the guard lines are ours.
const verbose = args.includes('--verbose');

const port = Number(process.env.PORT ?? 8787);
if (!/^\d{1,5}$/.test(process.env.PORT ?? '8787') || port < 1 || port > 65535)
  fail(`PORT must be a TCP port number, got ${JSON.stringify(process.env.PORT)}`);

// The Worker refuses an admin token under 32 characters; say so here, before anything starts.
// The token goes into a dotenv file between single quotes, so it may not hold one.
const token = process.env.ADMIN_TOKEN || randomBytes(32).toString('base64url');
if (!/^[\x21-\x26\x28-\x7e]{32,4096}$/.test(token))
  fail('ADMIN_TOKEN must be 32 or more printable characters without spaces or quotes (openssl rand -hex 32)');
const overrideSecret = randomBytes(32).toString('base64url');

const persistTo = resolve(process.env.DEMO_STATE_DIR || join(root, '.wrangler', 'demo-state'));
// Commands are printed to be run from the repository root: a path inside it stays relative.
const shown = (path) => {
  const inside = relative(root, path);
  const text = inside && !inside.startsWith('..') ? inside : path;
  return /^[\w./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
};

// A second demo (or an orphaned one) on the port: one clear line, before anything is touched.
const portFree = await new Promise((done) => {
  const probe = createServer()
    .once('error', () => done(false))
    .listen({ host: '127.0.0.1', port, exclusive: true }, () => probe.close(() => done(true)));
});
if (!portFree)
  fail(
    `Port ${port} on 127.0.0.1 is in use (another npm start still running?). Stop it, or use another port: PORT=${port === 8787 ? 8788 : 8787} npm start`,
    1,
  );

// Only wrangler's own folder is cleared, so a DEMO_STATE_DIR pointed at a wider folder loses
// nothing else. It holds local KV and the control plane's SQLite (config, history, audit).
const wranglerState = join(persistTo, 'v3');
const fresh = !keepState || !existsSync(wranglerState);
if (!keepState) rmSync(wranglerState, { recursive: true, force: true });

// The demo is offline by design: no update check, no Request.cf download, no telemetry.
const env = {
  ...process.env,
  WRANGLER_SEND_METRICS: 'false',
  WRANGLER_HIDE_BANNER: 'true',
  CLOUDFLARE_CF_FETCH_ENABLED: 'false',
};
delete env.ADMIN_TOKEN;
const wrangler = join(root, 'node_modules', '.bin', 'wrangler');

const guardDemo = await startGuardDemo({ scenario: scenarioArg.scenario });
const stable = await startDemoOrigin({ version: 'v1', color: '#2b6cb0' });
const canary = await startDemoOrigin({
  version: 'v2',
  color: '#d69e2e',
  failPercent: guardDemo.canaryFailPercent,
});

if (fresh) {
  const config = readFileSync(join(root, 'scripts', 'demo', 'demo-config.json'), 'utf8');
  const seeded = spawnSync(
    wrangler,
    ['kv', 'key', 'put', '--binding', 'ROLLOUT', 'config', config, '--local', '--persist-to', persistTo],
    { cwd: root, env, encoding: 'utf8' },
  );
  if (seeded.status !== 0) {
    console.error(`Could not seed the local KV:\n${seeded.stderr || seeded.stdout}`);
    await Promise.all([stable.close(), canary.close(), guardDemo.close()]);
    process.exit(1);
  }
}

// Secrets go to wrangler in a dotenv file only this user can read, never on a command line
// (`ps` shows those to everyone). The file is removed when the demo stops.
const secrets = mkdtempSync(join(tmpdir(), 'edge-rollout-demo-'));
const secretsFile = join(secrets, 'demo.env');
writeFileSync(
  secretsFile,
  `ADMIN_TOKEN='${token}'\nOVERRIDE_SECRET='${overrideSecret}'\n${guardDemo.envFileLines}`,
  { mode: 0o600 },
);

// wrangler and workerd run under a guard that stops them when this process ends, however it ends.
const dev = spawn(
  process.execPath,
  [
    join(root, 'scripts', 'demo', 'stop-with-parent.mjs'),
    '--remove',
    secrets,
    '--',
    process.execPath,
    join(root, 'scripts', 'dev', 'run-stack.mjs'),
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--persist-to',
    persistTo,
    '--show-interactive-dev-session=false',
    '--log-level',
    verbose ? 'info' : 'warn',
    '--env-file',
    secretsFile,
    '--var',
    `STABLE_ORIGIN:http://127.0.0.1:${stable.port}`,
    '--var',
    `CANARY_ORIGIN:http://127.0.0.1:${canary.port}`,
    ...guardDemo.wranglerArgs,
  ],
  { cwd: root, env, stdio: ['pipe', 'inherit', 'inherit'] },
);

const url = `http://127.0.0.1:${port}`;
let stopping = false;
async function stop(code) {
  if (stopping) return;
  stopping = true;
  // Visitors and the Cron Trigger stop first, so the Worker's exit is not logged as failures.
  await guardDemo.close();
  if (dev.exitCode === null) {
    dev.kill('SIGTERM');
    await new Promise((done) => {
      dev.once('exit', done);
      setTimeout(done, 10_000).unref();
    });
  }
  rmSync(secrets, { recursive: true, force: true });
  await Promise.all([stable.close(), canary.close()]);
  process.exit(code);
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => void stop(0));
dev.on('exit', (code) => void stop(code ?? 0));
// `kill <pid of npm start>` ends npm without a word to us, and npm's `sh -c` may live on:
// watch the parent and, under npm, npm itself. A new parent id, or a watched process gone, ends
// the demo.
const parent = process.ppid;
const watched = [parent, ...(process.env.npm_lifecycle_event ? [parentOf(parent)] : [])].filter(
  (pid) => pid > 1,
);
const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
};
setInterval(() => (process.ppid !== parent || !watched.every(alive)) && void stop(0), 500).unref();

/** The parent of a process, from /proc (Linux); 0 where there is no /proc. */
function parentOf(pid) {
  try {
    // The second field (the command name) may hold spaces and parentheses: read after the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) || 0;
  } catch {
    return 0;
  }
}

const state = shown(persistTo);
const kvLocal = `--binding=ROLLOUT --local --persist-to ${state}`;

// Print the instructions once the Worker answers.
for (let attempt = 0; attempt < 240 && !stopping; attempt++) {
  try {
    await fetch(url, { signal: AbortSignal.timeout(1000) });
    console.log(`
  edge-rollout demo is running
  ─────────────────────────────
  Splitter:   ${url}   (stable v1 on :${stable.port}, canary v2 on :${canary.port}, 10 % canary)
  Cockpit:    http://cockpit.localhost:${port}/__rollout/   (the control Worker's own origin)
  State:      ${state} (${fresh ? 'fresh' : 'kept from the last run'}; npm start -- --keep-state keeps it next time)
  ${guardDemo.describe()}

  For the CLI and curl, in another terminal (one token: ROLLOUT_TOKEN is the Worker's ADMIN_TOKEN):

    export ROLLOUT_URL=${url} ROLLOUT_TOKEN=${token}

  Status:            npx rollout status
  Ramp to 50 %:      npx rollout set 50
  Watch the split:   for i in $(seq 20); do curl -s -o /dev/null -D - $ROLLOUT_URL/ | grep -i '^x-rollout-cohort'; done | tr -d '\\r' | sort | uniq -c
  The same with curl: curl -X PUT -H "Authorization: Bearer $ROLLOUT_TOKEN" -H 'content-type: application/json' -d '{"percent":50}' $ROLLOUT_URL/__rollout/percent
  QA override link:  curl -s -X POST -H "Authorization: Bearer $ROLLOUT_TOKEN" -d '{"cohort":"canary","ttlSeconds":3600}' $ROLLOUT_URL/__rollout/override-link
  Kill switch (KV):  npx wrangler kv key put ${kvLocal} kill "canary"
  Lift it:           npx wrangler kv key delete ${kvLocal} kill

  Ctrl-C stops everything.
`);
    guardDemo.run({ url, token });
    break;
  } catch {
    await new Promise((done) => setTimeout(done, 500));
  }
}
