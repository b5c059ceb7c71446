#!/usr/bin/env node
// `npm start`: the local demo. Two demo origins (stable v1, canary v2), local KV seeded with a
// 10 % canary and the four invoicing flags, and `wrangler dev` wired to them. No Cloudflare
// account and no network needed. Ctrl-C stops everything.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDemoOrigin } from './demo-origin.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const port = Number(process.env.PORT ?? 8787);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.error(`PORT must be a TCP port number, got ${JSON.stringify(process.env.PORT)}`);
  process.exit(2);
}
const persistTo = process.env.DEMO_STATE_DIR ?? join(root, '.wrangler', 'demo-state');
const token = process.env.ADMIN_TOKEN ?? randomBytes(32).toString('base64url');
const env = { ...process.env, WRANGLER_SEND_METRICS: 'false' };
const wrangler = join(root, 'node_modules', '.bin', 'wrangler');

const stable = await startDemoOrigin({ version: 'v1', color: '#2b6cb0' });
const canary = await startDemoOrigin({ version: 'v2', color: '#d69e2e' });

const config = readFileSync(join(root, 'scripts', 'demo', 'demo-config.json'), 'utf8');
const seeded = spawnSync(
  wrangler,
  ['kv', 'key', 'put', '--binding', 'ROLLOUT', 'config', config, '--local', '--persist-to', persistTo],
  {
    cwd: root,
    env,
    encoding: 'utf8',
  },
);
if (seeded.status !== 0) {
  console.error(`Could not seed the local KV:\n${seeded.stderr || seeded.stdout}`);
  await Promise.all([stable.close(), canary.close()]);
  process.exit(1);
}

const dev = spawn(
  wrangler,
  [
    'dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--persist-to',
    persistTo,
    '--show-interactive-dev-session=false',
    '--var',
    `STABLE_ORIGIN:http://127.0.0.1:${stable.port}`,
    '--var',
    `CANARY_ORIGIN:http://127.0.0.1:${canary.port}`,
    '--var',
    `ADMIN_TOKEN:${token}`,
  ],
  { cwd: root, env, stdio: ['ignore', 'inherit', 'inherit'] },
);

const url = `http://127.0.0.1:${port}`;
let stopping = false;
async function stop(code) {
  if (stopping) return;
  stopping = true;
  if (dev.exitCode === null) dev.kill('SIGTERM');
  await Promise.all([stable.close(), canary.close()]);
  process.exit(code);
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
dev.on('exit', (code) => void stop(code ?? 0));

// Print the instructions once the Worker answers.
for (let attempt = 0; attempt < 240 && !stopping; attempt++) {
  try {
    await fetch(url, { signal: AbortSignal.timeout(1000) });
    console.log(`
  edge-rollout demo is running
  ─────────────────────────────
  Splitter:      ${url}   (stable v1 on :${stable.port}, canary v2 on :${canary.port}, 10 % canary)
  Admin token:   ${token}

  Watch the split:   for i in $(seq 20); do curl -s -o /dev/null -w '%{http_code} ' -D - ${url} | grep -i x-rollout-cohort; done
  Ramp to 50 %:      curl -X PUT -H 'Authorization: Bearer ${token}' -H 'content-type: application/json' -d '{"percent":50}' ${url}/__rollout/percent
  State:             curl -H 'Authorization: Bearer ${token}' ${url}/__rollout/state

  Ctrl-C stops everything.
`);
    break;
  } catch {
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
