/**
 * `npm run bench`: the splitter's overhead against a bare passthrough Worker.
 *
 * Both Workers are bundled and run in the same workerd (one Miniflare), in front of the same
 * loopback origin, and are measured in alternating rounds (A/B/A/B…) so that machine noise hits
 * both alike. Prints req/s and p50/p99 per Worker and, last, the throughput ratio.
 */
import { spawnSync } from 'node:child_process';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { Miniflare } from 'miniflare';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
const REQUESTS_PER_ROUND = Number(process.env.BENCH_REQUESTS ?? 4000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);

const BARE_WORKER = `export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    return fetch(env.STABLE_ORIGIN + url.pathname + url.search, request);
  },
};`;

function bundleSplitter(): { path: string; gzipLine: string } {
  // Inside the project: workerd resolves module names relative to it.
  const outdir = join('dist', 'bench');
  const result = spawnSync('npx', ['wrangler', 'deploy', '--dry-run', '--outdir', outdir], {
    encoding: 'utf8',
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1' },
  });
  if (result.status !== 0) throw new Error(`bundling failed:\n${result.stderr}${result.stdout}`);
  const gzipLine =
    /Total Upload: .*/.exec(result.stdout + result.stderr)?.[0] ?? 'Total Upload: (not reported)';
  return { path: join(outdir, 'index.js'), gzipLine };
}

async function startOrigin(): Promise<{ port: number; close(): void }> {
  const body = JSON.stringify({ ok: true, payload: 'x'.repeat(512) });
  const server = createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(body);
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, close: () => server.close() };
}

interface RoundResult {
  requests: number;
  seconds: number;
  latenciesMs: number[];
  failures: number;
}

async function runRound(url: URL, cookies: string[]): Promise<RoundResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const latenciesMs: number[] = [];
  let next = 0;
  let failures = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < REQUESTS_PER_ROUND) {
      const i = next++;
      const t0 = performance.now();
      const status = await new Promise<number>((resolve) => {
        const req = request(
          {
            host: url.hostname,
            port: url.port,
            path: `/invoices/${i % 100}`,
            agent,
            headers: { cookie: cookies[i % cookies.length]! },
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.on('error', () => resolve(0));
        req.end();
      });
      latenciesMs.push(performance.now() - t0);
      if (status !== 200) failures++;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  return { requests: REQUESTS_PER_ROUND, seconds, latenciesMs, failures };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function summarize(name: string, rounds: RoundResult[]): { rps: number; line: string } {
  const requests = rounds.reduce((n, r) => n + r.requests, 0);
  const seconds = rounds.reduce((n, r) => n + r.seconds, 0);
  const failures = rounds.reduce((n, r) => n + r.failures, 0);
  const sorted = rounds.flatMap((r) => r.latenciesMs).sort((a, b) => a - b);
  const rps = requests / seconds;
  const line = `${name.padEnd(9)} ${rps.toFixed(0).padStart(6)} req/s   p50 ${percentile(sorted, 50).toFixed(2)} ms   p99 ${percentile(sorted, 99).toFixed(2)} ms   requests ${requests}   failures ${failures}`;
  return { rps, line };
}

async function main(): Promise<void> {
  const { path: splitterPath, gzipLine } = bundleSplitter();
  const origin = await startOrigin();
  const originUrl = `http://127.0.0.1:${origin.port}`;
  const config = JSON.parse(readFileSync(join('scripts', 'demo', 'demo-config.json'), 'utf8')) as {
    rollout: { percent: number };
  };
  config.rollout.percent = 50;
  const mf = new Miniflare({
    // A fixed request.cf, so Miniflare never tries to fetch one from the network.
    cf: { colo: 'LOC', country: 'XX' },
    workers: [
      {
        name: 'splitter',
        modules: true,
        scriptPath: splitterPath,
        compatibilityDate: '2026-04-01',
        kvNamespaces: ['ROLLOUT'],
        bindings: {
          STABLE_ORIGIN: originUrl,
          CANARY_ORIGIN: originUrl,
          ADMIN_TOKEN: 'bench-token-0123456789abcdefghijklmnop',
        },
        unsafeDirectSockets: [{ host: '127.0.0.1', port: 0 }],
      },
      {
        name: 'bare',
        modules: true,
        script: BARE_WORKER,
        compatibilityDate: '2026-04-01',
        bindings: { STABLE_ORIGIN: originUrl },
        unsafeDirectSockets: [{ host: '127.0.0.1', port: 0 }],
      },
    ],
  });
  try {
    const kv = await mf.getKVNamespace('ROLLOUT', 'splitter');
    await kv.put('config', JSON.stringify(config));
    const splitterUrl = await mf.unsafeGetDirectURL('splitter');
    const bareUrl = await mf.unsafeGetDirectURL('bare');
    const cookies = Array.from(
      { length: 1000 },
      (_, i) => `rollout_id=bench-visitor-${String(i).padStart(6, '0')}`,
    );

    console.log(
      `edge-rollout benchmark: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}`,
    );
    console.log(
      `${ROUNDS} rounds × ${REQUESTS_PER_ROUND} requests per Worker, concurrency ${CONCURRENCY}, alternating A/B`,
    );
    await runRound(splitterUrl, cookies); // warm-up, not counted
    await runRound(bareUrl, cookies);
    const results: Record<'splitter' | 'bare', RoundResult[]> = { splitter: [], bare: [] };
    for (let round = 0; round < ROUNDS; round++) {
      results.splitter.push(await runRound(splitterUrl, cookies));
      results.bare.push(await runRound(bareUrl, cookies));
    }
    const splitter = summarize('splitter', results.splitter);
    const bare = summarize('bare', results.bare);
    console.log(splitter.line);
    console.log(bare.line);
    console.log(`bundle: ${gzipLine}`);
    console.log(`splitter/bare throughput ratio: ${(splitter.rps / bare.rps).toFixed(3)}`);
  } finally {
    await mf.dispose();
    origin.close();
  }
}

await main();
