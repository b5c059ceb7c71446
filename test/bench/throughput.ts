/**
 * `npm run bench`: the splitter's throughput against a bare passthrough Worker, the contract
 * written by hand (the limit), and GrowthBook's edge app.
 *
 * All five Workers run in one workerd (one Miniflare) in front of the same loopback origin:
 * - bare: `fetch(origin + path, request)`, nothing else;
 * - control: the same script under another name. Its ratio to bare must come out 1.00 within its
 *   interval, or the machine was too noisy during the run and the figures say nothing;
 * - splitter: the real Worker bundle (`wrangler deploy --dry-run`), config in KV, METRICS bound;
 * - contract-minimum: test/bench/contract-minimum-worker.ts, the same contract with no framework;
 * - growthbook-edge: `@growthbook/edge-cloudflare` with the same cookie and a static payload of
 *   the same five rollouts (differences: see GROWTHBOOK_DIFFERENCES below).
 *
 * Every round measures each Worker once, in an order rotated per round, so that slow phases of the
 * machine hit all of them alike. A Worker's throughput is compared per round (its req/s over
 * bare's in the same round); the summary is the geometric mean of those ratios with a 90 %
 * bootstrap interval (rounds resampled). The last line is the splitter/bare ratio.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 36);
const REQUESTS_PER_ROUND = Number(process.env.BENCH_REQUESTS ?? 1000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const BOOTSTRAP_SAMPLES = 4000;
const COMPATIBILITY_DATE = '2026-04-01';

/**
 * `BENCH_BASELINE=<bundle>` adds a sixth Worker, `baseline`: an earlier splitter bundle (e.g. one
 * written by `wrangler deploy --dry-run --outdir dist/baseline` on the commit before a change), so
 * that a change is compared with what it replaces in the same run, round by round.
 */
const BASELINE = process.env.BENCH_BASELINE;
const WORKERS = [
  'bare',
  'control',
  'splitter',
  'contract-minimum',
  'growthbook-edge',
  ...(BASELINE ? (['baseline'] as const) : []),
] as const;
type WorkerName = (typeof WORKERS)[number];

const BARE_WORKER = `export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    return fetch(env.STABLE_ORIGIN + url.pathname + url.search, request);
  },
};`;

/** What the GrowthBook edge app does differently from the splitter in this bench. */
const GROWTHBOOK_DIFFERENCES = [
  'one origin (no canary routing, no failover)',
  'flags are not evaluated per request nor sent to the origin (no injection asked)',
  'client headers are not forwarded on GET, no header policy, no deadline',
  'the body is buffered (no streaming); no metric written',
  'its static payload is parsed once per isolate and passed as a config override (deployed as documented, it reads KV per request)',
];

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

/** Bundles a bench Worker written in TypeScript into one ES module, as wrangler would. */
async function bundleWorker(entry: string): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    conditions: ['workerd', 'worker', 'browser'],
    target: 'es2022',
    minify: true,
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
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
  rps: number;
  latenciesMs: Float64Array;
  failures: number;
  /** workerd's CPU time per request during the round, in µs (NaN where /proc is not readable). */
  cpuUsPerRequest: number;
}

/**
 * The workerd processes this bench started (descendants of this process, read from /proc).
 * Throughput on a shared 2-core machine swings with whatever else runs; the CPU time workerd
 * spends per request hardly does, so it is printed beside req/s as the steadier steering figure.
 */
function workerdPids(): number[] {
  if (!existsSync('/proc/self/stat')) return [];
  const parents = new Map<number, number>();
  const names = new Map<number, string>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      names.set(Number(entry), stat.slice(stat.indexOf('(') + 1, close));
      parents.set(Number(entry), Number(stat.slice(close + 2).split(' ')[1]));
    } catch {
      // The process ended while being read.
    }
  }
  const descends = (pid: number): boolean => {
    for (let p = parents.get(pid); p !== undefined && p > 1; p = parents.get(p))
      if (p === process.pid) return true;
    return false;
  };
  return [...names].filter(([pid, name]) => name.startsWith('workerd') && descends(pid)).map(([pid]) => pid);
}

/** CPU time used so far by these processes (all their threads), in ns. */
function cpuNs(pids: readonly number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      for (const task of readdirSync(`/proc/${pid}/task`))
        total += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      return Number.NaN;
    }
  }
  return pids.length === 0 ? Number.NaN : total;
}

async function runRound(
  url: URL,
  cookies: string[],
  requests: number,
  workerd: readonly number[] = [],
): Promise<RoundResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const latenciesMs = new Float64Array(requests);
  let next = 0;
  let failures = 0;
  const cpuBefore = cpuNs(workerd);
  const started = performance.now();
  const client = async () => {
    while (next < requests) {
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
      latenciesMs[i] = performance.now() - t0;
      if (status !== 200) failures++;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, client));
  const seconds = (performance.now() - started) / 1000;
  const cpuUsPerRequest = (cpuNs(workerd) - cpuBefore) / 1000 / requests;
  agent.destroy();
  return { rps: requests / seconds, latenciesMs, failures, cpuUsPerRequest };
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const geometricMean = (values: readonly number[]): number =>
  Math.exp(values.reduce((sum, v) => sum + Math.log(v), 0) / values.length);

/** A seeded generator (mulberry32), so that the same rounds always give the same interval. */
function seededRandom(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Ratio {
  value: number;
  low: number;
  high: number;
}

/** Geometric mean of per-round ratios, with a 90 % percentile bootstrap interval over rounds. */
function ratioOf(numerator: readonly number[], denominator: readonly number[]): Ratio {
  const ratios = numerator.map((n, i) => n / denominator[i]!);
  const random = seededRandom(12);
  const means: number[] = [];
  for (let s = 0; s < BOOTSTRAP_SAMPLES; s++) {
    const sample = Array.from({ length: ratios.length }, () => ratios[Math.floor(random() * ratios.length)]!);
    means.push(geometricMean(sample));
  }
  means.sort((a, b) => a - b);
  return {
    value: geometricMean(ratios),
    low: means[Math.floor(0.05 * BOOTSTRAP_SAMPLES)]!,
    high: means[Math.ceil(0.95 * BOOTSTRAP_SAMPLES) - 1]!,
  };
}

const formatRatio = (r: Ratio) => `${r.value.toFixed(3)} (90 % CI ${r.low.toFixed(3)}–${r.high.toFixed(3)})`;

/** The splitter's config, also given to the other Workers: 50 % routing and four split flags. */
function benchConfig(): Record<string, unknown> {
  const config = JSON.parse(readFileSync(join('scripts', 'demo', 'demo-config.json'), 'utf8')) as {
    rollout: { percent: number; salt: string };
    flags: Record<string, unknown>;
  };
  config.rollout.percent = 50;
  // Segments serve typed rules only; without them the config also reads in an earlier splitter
  // (BENCH_BASELINE), which must get the same five rollouts, not its safe default.
  delete (config as { segments?: unknown }).segments;
  // Every flag enabled and below 100 %: five buckets per request (routing + four flags).
  config.flags = {
    fileStorage: { enabled: true, percent: 50 },
    templates: { enabled: true, percent: 25 },
    emailDelivery: { enabled: true, percent: 10 },
    analytics: { enabled: true, percent: 90, default: true },
  };
  return config;
}

/** The same five rollouts as a GrowthBook payload (hash version 2 is the splitter's bucketing). */
function growthbookPayload(config: ReturnType<typeof benchConfig>): string {
  const { rollout, flags } = config as {
    rollout: { percent: number; salt: string };
    flags: Record<string, { percent: number; default?: boolean }>;
  };
  const feature = (seed: string, percent: number, defaultValue: boolean) => ({
    defaultValue,
    rules: [{ force: true, coverage: percent / 100, hashAttribute: 'id', seed, hashVersion: 2 }],
  });
  const features: Record<string, unknown> = { __routing: feature(rollout.salt, rollout.percent, false) };
  for (const [name, flag] of Object.entries(flags))
    features[name] = feature(name, flag.percent, flag.default ?? false);
  return JSON.stringify({ features });
}

async function main(): Promise<void> {
  console.log('bundling the splitter, the contract-minimum Worker and the GrowthBook edge app…');
  const { path: splitterPath, gzipLine } = bundleSplitter();
  const [contractMinimum, growthbookEdge] = await Promise.all([
    bundleWorker(join('test', 'bench', 'contract-minimum-worker.ts')),
    bundleWorker(join('test', 'bench', 'growthbook-edge-worker.ts')),
  ]);
  const origin = await startOrigin();
  const originUrl = `http://127.0.0.1:${origin.port}`;
  const config = benchConfig();
  const common = {
    modules: true,
    compatibilityDate: COMPATIBILITY_DATE,
    unsafeDirectSockets: [{ host: '127.0.0.1', port: 0 }],
  };
  // The splitter as deployed: its bundle, the config in KV, METRICS bound.
  const splitterWorker = (name: string, scriptPath: string) => ({
    ...common,
    name,
    scriptPath,
    kvNamespaces: ['ROLLOUT'],
    analyticsEngineDatasets: { METRICS: { dataset: 'edge_rollout' } },
    bindings: {
      STABLE_ORIGIN: originUrl,
      CANARY_ORIGIN: originUrl,
      ADMIN_TOKEN: 'bench-token-0123456789abcdefghijklmnop',
    },
  });
  const mf = new Miniflare({
    // A fixed request.cf, so Miniflare never tries to fetch one from the network.
    cf: { colo: 'LOC', country: 'XX' },
    workers: [
      { ...common, name: 'bare', script: BARE_WORKER, bindings: { STABLE_ORIGIN: originUrl } },
      { ...common, name: 'control', script: BARE_WORKER, bindings: { STABLE_ORIGIN: originUrl } },
      splitterWorker('splitter', splitterPath),
      ...(BASELINE ? [splitterWorker('baseline', BASELINE)] : []),
      {
        ...common,
        name: 'contract-minimum',
        script: contractMinimum,
        analyticsEngineDatasets: { METRICS: { dataset: 'edge_rollout' } },
        bindings: { STABLE_ORIGIN: originUrl, CANARY_ORIGIN: originUrl, CONFIG: JSON.stringify(config) },
      },
      {
        ...common,
        name: 'growthbook-edge',
        script: growthbookEdge,
        bindings: {
          PROXY_TARGET: originUrl,
          // Required by the app; with a payload given it never fetches (a closed port if it did).
          GROWTHBOOK_CLIENT_KEY: 'sdk-bench',
          GROWTHBOOK_API_HOST: 'http://127.0.0.1:9',
          GROWTHBOOK_PAYLOAD: growthbookPayload(config),
          UUID_COOKIE_NAME: 'rollout_id',
          PERSIST_UUID: 'false',
          RUN_VISUAL_EDITOR_EXPERIMENTS: 'skip',
          RUN_URL_REDIRECT_EXPERIMENTS: 'skip',
          RUN_CROSS_ORIGIN_URL_REDIRECT_EXPERIMENTS: 'skip',
          DISABLE_INJECTIONS: 'true',
          DISABLE_JS_INJECTION: 'true',
        },
      },
    ],
  });
  try {
    for (const name of BASELINE ? ['splitter', 'baseline'] : ['splitter']) {
      const kv = await mf.getKVNamespace('ROLLOUT', name);
      await kv.put('config', JSON.stringify(config));
    }
    const urls = {} as Record<WorkerName, URL>;
    for (const name of WORKERS) urls[name] = await mf.unsafeGetDirectURL(name);
    const cookies = Array.from(
      { length: 1000 },
      (_, i) => `rollout_id=bench-visitor-${String(i).padStart(6, '0')}`,
    );

    console.log(
      `edge-rollout benchmark: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}`,
    );
    console.log(
      `${ROUNDS} rounds × ${REQUESTS_PER_ROUND} requests per Worker, concurrency ${CONCURRENCY}, order rotated per round`,
    );
    const workerd = workerdPids();
    for (const name of WORKERS) {
      const warm = await runRound(urls[name], cookies, REQUESTS_PER_ROUND); // not counted
      if (warm.failures > 0) throw new Error(`${name}: ${warm.failures} failed requests while warming up`);
    }
    const results = Object.fromEntries(WORKERS.map((name) => [name, [] as RoundResult[]])) as Record<
      WorkerName,
      RoundResult[]
    >;
    for (let round = 0; round < ROUNDS; round++) {
      for (let k = 0; k < WORKERS.length; k++) {
        const name = WORKERS[(round + k) % WORKERS.length]!;
        results[name].push(await runRound(urls[name], cookies, REQUESTS_PER_ROUND, workerd));
      }
      const line = WORKERS.map((name) => `${name} ${results[name][round]!.rps.toFixed(0)}`).join('  ');
      console.log(`round ${String(round + 1).padStart(2)}/${ROUNDS}  req/s: ${line}`);
    }

    const rps = (name: WorkerName) => results[name].map((r) => r.rps);
    console.log('');
    console.log(
      'worker             req/s (median round)   p50 ms   p99 ms   failures   workerd CPU µs/req   ratio to bare',
    );
    for (const name of WORKERS) {
      const rounds = results[name];
      const sorted = Float64Array.from(rounds.flatMap((r) => Array.from(r.latenciesMs))).sort();
      const median = [...rps(name)].sort((a, b) => a - b)[Math.floor(rounds.length / 2)]!;
      const failures = rounds.reduce((n, r) => n + r.failures, 0);
      const ratio = name === 'bare' ? '1' : formatRatio(ratioOf(rps(name), rps('bare')));
      const cpu = rounds.map((r) => r.cpuUsPerRequest).sort((a, b) => a - b)[Math.floor(rounds.length / 2)]!;
      console.log(
        `${name.padEnd(18)} ${median.toFixed(0).padStart(20)}   ${percentile(sorted, 50).toFixed(2).padStart(6)}   ${percentile(sorted, 99).toFixed(2).padStart(6)}   ${String(failures).padStart(8)}   ${cpu.toFixed(0).padStart(18)}   ${ratio}`,
      );
    }
    const control = ratioOf(rps('control'), rps('bare'));
    console.log(
      control.low <= 1 && control.high >= 1
        ? `control/bare ${formatRatio(control)} contains 1.00: the run is trustworthy`
        : `control/bare ${formatRatio(control)} does not contain 1.00: the machine was too noisy, the run is UNTRUSTWORTHY`,
    );
    const cpu = (name: WorkerName) => results[name].map((r) => r.cpuUsPerRequest);
    if (results.bare.every((r) => Number.isFinite(r.cpuUsPerRequest))) {
      for (const name of WORKERS.filter((n) => n !== 'bare' && n !== 'control'))
        console.log(`${name}/bare workerd CPU per request: ${formatRatio(ratioOf(cpu(name), cpu('bare')))}`);
      if (BASELINE)
        console.log(
          `splitter/baseline workerd CPU per request: ${formatRatio(ratioOf(cpu('splitter'), cpu('baseline' as WorkerName)))}`,
        );
    }
    console.log(`growthbook-edge differs: ${GROWTHBOOK_DIFFERENCES.join('; ')}`);
    console.log(`bundle: ${gzipLine}`);
    console.log(
      `splitter/growthbook-edge throughput ratio: ${formatRatio(ratioOf(rps('splitter'), rps('growthbook-edge')))}`,
    );
    console.log(
      `splitter/contract-minimum throughput ratio: ${formatRatio(ratioOf(rps('splitter'), rps('contract-minimum')))}`,
    );
    if (BASELINE)
      console.log(
        `splitter/baseline throughput ratio: ${formatRatio(ratioOf(rps('splitter'), rps('baseline' as WorkerName)))}`,
      );
    console.log(`splitter/bare throughput ratio: ${formatRatio(ratioOf(rps('splitter'), rps('bare')))}`);
  } finally {
    await mf.dispose();
    origin.close();
  }
}

await main();
